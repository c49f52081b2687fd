import CKernels
import COpenBLAS

/// A convolution as one more layer of an `MLP` (`SparseConv2D`, `DenseConv2D`): its `shape` is the kernel matrix
/// (`geometry.kernelShape`), so topologies, ERK, initialisers, SET/RigL plans, pruning and target networks written
/// for fully connected layers apply to its live taps unchanged; its activations are the flattened feature maps.
/// What both conv layers share as layers is written here once.
public protocol ConvolutionLayer: Layer {
    var geometry: ConvGeometry { get }
    /// dx = the transposed convolution of dY, times f′ of `inputActivation` (from the layer input x).
    func inputGradient(outputGradient dY: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>,
                       inputActivation: Activation, input x: UnsafePointer<Float>?)
}

extension ConvolutionLayer {
    public var shape: LayerShape { geometry.kernelShape }
    public var inputWidth: Int { geometry.inputCount }
    public var outputWidth: Int { geometry.outputCount }
    public var usesPerSample: Int { geometry.outputPositions }
    public var convolution: ConvGeometry? { geometry }

    public func inputGradient(outputGradient dZ: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>,
                              inputActivation: Activation, input x: UnsafePointer<Float>, rows: Range<Int>) {
        precondition(rows == 0..<geometry.inputCount,
                     "a convolution's input gradient covers its whole input (rows \(rows) of \(geometry.inputCount))")
        inputGradient(outputGradient: dZ, batch: batch, into: dx, inputActivation: inputActivation, input: Optional(x))
    }

    public func denseWeightGradient(outputGradient dZ: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int) -> [Float] {
        convolutionDenseWeightGradient(geometry, outputGradient: dZ, input: x, batch: batch)
    }
}

/// RigL's grow score of a convolution: dY·COLᵀ, the gradient of every kernel tap, live or not (C_out × C_in·KH·KW,
/// row-major, as `Layer.denseWeightGradient`). Allocates its scratch: topology-update steps only.
func convolutionDenseWeightGradient(_ g: ConvGeometry, outputGradient dY: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                                    batch: Int) -> [Float] {
    var s = SparseConv2D.cShape(g)
    let n = g.outputPositions * batch
    var padded = [Float](), col = [Float](repeating: 0, count: g.fanIn * n)
    var grad = [Float](repeating: 0, count: g.weightCount)
    if g.isPadded {
        padded = [Float](repeating: 0, count: g.inChannels * g.paddedHeight * g.paddedWidth * batch)
        sk_conv_pad_asymmetric(Int32(g.inChannels), Int32(g.height), Int32(g.width), Int32(g.padding),
                               Int32(g.trailingPadding), Int32(batch), x, &padded)
    }
    col.withUnsafeMutableBufferPointer { c in
        if g.isPadded {
            padded.withUnsafeBufferPointer { sk_conv_im2col(&s, Int32(batch), $0.baseAddress, c.baseAddress) }
        } else {
            sk_conv_im2col(&s, Int32(batch), x, c.baseAddress)
        }
        grad.withUnsafeMutableBufferPointer { gw in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(g.outChannels), Int32(g.fanIn), Int32(n), 1,
                        dY, Int32(n), c.baseAddress, Int32(n), 0, gw.baseAddress, Int32(g.fanIn))
        }
    }
    return grad
}
