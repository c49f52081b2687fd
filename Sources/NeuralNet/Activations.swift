import CKernels
import Foundation

/// Element-wise activation functions.
public enum Activation: Codable, Equatable, Sendable {
    case identity
    case relu
    /// x > 0 ? x : slope·x; PyTorch's default slope is 0.01 (reference a3). The slope must be ≥ 0 (derivatives are
    /// taken from the output's sign).
    case leakyReLU(slope: Float = 0.01)
    case tanh

    var kernelCode: (kind: Int32, slope: Float) {
        switch self {
        case .identity: return (0, 0)
        case .relu: return (1, 0)
        case .leakyReLU(let s): return (2, s)
        case .tanh: return (3, 0)
        }
    }

    /// a = f(z) for n values (`a` may equal `z`). Kernel: `sk_activation_forward`.
    public func apply(_ z: UnsafePointer<Float>, count n: Int, into a: UnsafeMutablePointer<Float>) {
        let (kind, slope) = kernelCode
        sk_activation_forward(kind, slope, z, a, n)
    }

    /// dZ = dA ⊙ f′, computed from the activation's **output** a = f(z) (`dZ` may equal `dA`):
    /// ReLU and LeakyReLU (slope ≥ 0) have f′ = 1 where a > 0 (same sign as z), tanh has f′ = 1 − a².
    /// Working from outputs lets layers keep one buffer per activation and fuse f′ into the sparse kernels.
    public func backward(_ dA: UnsafePointer<Float>, output a: UnsafePointer<Float>, count n: Int,
                         into dZ: UnsafeMutablePointer<Float>) {
        let (kind, slope) = kernelCode
        sk_activation_backward(kind, slope, dA, a, a, dZ, n)
    }

    /// The `sk_spmm` post-op that applies this activation to a product, if the kernel can fuse it.
    var fusedForward: Int32? {
        switch self {
        case .identity: return 0
        case .relu: return 1
        case .leakyReLU: return 2
        case .tanh: return nil
        }
    }

    /// The `sk_spmm` post-op that multiplies a product by f′ computed from this activation's output.
    var fusedDerivative: Int32 {
        switch self {
        case .identity: return 0
        case .relu: return 3
        case .leakyReLU: return 4
        case .tanh: return 5
        }
    }

    var slope: Float { if case .leakyReLU(let s) = self { return s } else { return 0 } }

    /// Scalar derivative f′(x) (reference for tests).
    public func derivative(_ x: Float) -> Float {
        switch self {
        case .identity: return 1
        case .relu: return x > 0 ? 1 : 0
        case .leakyReLU(let s): return x > 0 ? 1 : s
        case .tanh: let y = Foundation.tanh(x); return 1 - y * y
        }
    }

    /// Scalar form (tests, reference code).
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return max(x, 0)
        case .leakyReLU(let s): return x > 0 ? x : s * x
        case .tanh: return Foundation.tanh(x)
        }
    }
}
