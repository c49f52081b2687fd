import CKernels
import Foundation

/// Adam with PyTorch semantics, applied tensor by tensor; moments live in each `ParameterTensor`.
///
/// - Weight decay is coupled by default (`g ← g + wd·w` before the moments, as `torch.optim.Adam(weight_decay=)`
///   in the papers' code) or decoupled (`w ← w − lr·wd·w`, AdamW) with `decoupledWeightDecay`. It applies to biases
///   too unless `decayBiases` is false, as PyTorch's optimizer does when handed all parameters.
/// - Truly sparse layers have moments for live connections only ("masked moments", TowS / ANF `MaskAdam`):
///   a dropped connection's moments are gone and a grown one starts at m = v = 0. Masked-dense layers follow their
///   `MomentPolicy`.
/// - **Bias correction uses one step count per tensor** (`ParameterTensor.step`), as `MaskAdam` and RigL do, not a
///   count per connection. Consequence for a connection grown at tensor step t−1 (large t, so 1−β1ᵗ ≈ 1−β2ᵗ ≈ 1):
///   its first update has m = (1−β1)·g and v = (1−β2)·g², so
///   Δw = −lr · m/(1−β1ᵗ) / (√(v/(1−β2ᵗ)) + ε) ≈ −lr · (1−β1)·g / (√(1−β2)·|g|) = −lr · (0.1/√0.001) · sign(g)
///      ≈ −3.16 · lr · sign(g)
///   (β1 = 0.9, β2 = 0.999, |g| ≫ ε): a newly grown weight jumps by about 3.16·lr on its first step, whereas a fresh
///   tensor's first step (t = 1, both corrections exact) is lr·sign(g). Reproduce this for parity with the papers.
public struct Adam: Codable, Equatable, Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool
    public var decayBiases: Bool

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false, decayBiases: Bool = true) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay; self.decoupledWeightDecay = decoupledWeightDecay; self.decayBiases = decayBiases
    }

    /// One step on a tensor using its current gradients; increments its step count.
    public func step(_ p: ParameterTensor, isBias: Bool = false) {
        Subnormals.flushed { stepFlushed(p, isBias: isBias) }
    }

    private func stepFlushed(_ p: ParameterTensor, isBias: Bool) {
        p.step += 1
        let t = Double(p.step)
        let bc1 = Float(1 - Foundation.pow(Double(beta1), t)), bc2 = Float(1 - Foundation.pow(Double(beta2), t))
        let wd = isBias && !decayBiases ? 0 : weightDecay
        let mode: Int32 = p.mask == nil ? 0 : (p.momentPolicy == .masked ? 1 : 2)
        let n = Int32(p.values.count)
        p.values.withUnsafeMutableBufferPointer { w in
            p.gradients.withUnsafeBufferPointer { g in
                p.firstMoment.withUnsafeMutableBufferPointer { m in
                    p.secondMoment.withUnsafeMutableBufferPointer { v in
                        if let mask = p.mask {
                            mask.withUnsafeBufferPointer { k in
                                sk_adam(n, w.baseAddress, g.baseAddress, m.baseAddress, v.baseAddress, k.baseAddress, mode,
                                        learningRate, beta1, beta2, bc1, bc2, epsilon, wd, decoupledWeightDecay ? 1 : 0)
                            }
                        } else {
                            sk_adam(n, w.baseAddress, g.baseAddress, m.baseAddress, v.baseAddress, nil, 0,
                                    learningRate, beta1, beta2, bc1, bc2, epsilon, wd, decoupledWeightDecay ? 1 : 0)
                        }
                    }
                }
            }
        }
    }

    /// One step on every weight and bias of a network.
    public func step(_ network: MLP) {
        for layer in network.layers {
            step(layer.weight)
            step(layer.bias, isBias: true)
        }
    }
}
