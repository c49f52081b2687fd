import CKernels

/// Scratch for a batch-sized intermediate (a padded input, a column matrix): grown to the largest batch seen and
/// reused, so alternating batch sizes (acting at 1, training at 32) allocate only the first time each size grows.
final class GrowingBuffer {
    private(set) var buffer = FloatBuffer(count: 0)

    /// At least `count` floats (contents unspecified).
    func pointer(count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = FloatBuffer(count: count) }
        return buffer.pointer
    }
}

/// A truly sparse 2-D convolution: values, gradients and Adam moments exist only for live kernel taps.
///
/// Storage: the kernel as a `geometry.kernelShape` matrix (one row per output channel, column (ci·KH + kh)·KW + kw)
/// in CSR (`index`, the same `SparseIndex` the fully connected `SparseLayer` uses), `weight.values[k]` belonging to
/// `positions[k]`; plus each live tap's offset into the padded input, recomputed when the topology changes.
/// Activations are [C][H][W][batch] (see `ConvGeometry`).
///
/// Kernels (CKernels/conv.c, AVX-512 / AVX2 + FMA / portable by `sk_isa`): forward walks each output channel's
/// taps once per block of 6 output positions × 2 vectors of samples, accumulators in registers; the input
/// gradient is the same walk adding each tap's product into dX; the weight gradient is a sampled product at live
/// taps only, 8 taps per pass over the output positions. Zero padding is a copy into a padded scratch input (and a
/// crop of the padded input gradient), so the kernels never test bounds. One thread.
public final class SparseConv2D {
    public let geometry: ConvGeometry
    public let weight: ParameterTensor
    public let bias: ParameterTensor
    public private(set) var index: SparseIndex
    /// Live taps, ascending positions in `geometry.kernelShape`.
    public private(set) var positions: [Position]
    /// Per live tap (CSR order): (ci·H_p + kh)·W_p + kw in the padded input.
    private var tapOffsets: [Int32]
    private let paddedInput = GrowingBuffer(), paddedInputGradient = GrowingBuffer()

    /// `positions` strictly ascending in `geometry.kernelShape`; `values[k]` is the weight at `positions[k]`.
    public init(geometry: ConvGeometry, positions: [Position], values: [Float], biases: [Float]) {
        precondition(positions.count == values.count, "\(positions.count) positions but \(values.count) values")
        precondition(biases.count == geometry.outChannels, "\(biases.count) biases for \(geometry.outChannels) channels")
        self.geometry = geometry
        index = SparseIndex(shape: geometry.kernelShape, positions: positions)  // validates order and range
        self.positions = positions
        weight = ParameterTensor(values: values)
        bias = ParameterTensor(values: biases)
        tapOffsets = []
        tapOffsets = Self.offsets(geometry, index)
    }

    /// From a dense OIHW kernel (C_out × C_in × KH × KW, row-major) and a 0/1 mask of the same size: the taps where
    /// the mask is non-zero stay live, with their kernel values.
    public convenience init(geometry: ConvGeometry, denseWeights: [Float], mask: [Float], biases: [Float]) {
        precondition(denseWeights.count == geometry.weightCount && mask.count == geometry.weightCount,
                     "a kernel of \(geometry) has \(geometry.weightCount) weights (got \(denseWeights.count) and a mask of \(mask.count))")
        var p: [Position] = [], v: [Float] = []
        for i in mask.indices where mask[i] != 0 { p.append(Position(i)); v.append(denseWeights[i]) }
        self.init(geometry: geometry, positions: p, values: v, biases: biases)
    }

    private static func offsets(_ g: ConvGeometry, _ index: SparseIndex) -> [Int32] {
        var s = cShape(g)
        var o = [Int32](repeating: 0, count: index.count)
        index.columnIndex.withUnsafeBufferPointer { idx in
            o.withUnsafeMutableBufferPointer { sk_conv_tap_offsets(&s, Int32(index.count), idx.baseAddress, $0.baseAddress) }
        }
        return o
    }

    /// The kernels' view: the padded input.
    static func cShape(_ g: ConvGeometry) -> sk_conv_shape {
        sk_conv_shape(in_channels: Int32(g.inChannels), in_height: Int32(g.paddedHeight), in_width: Int32(g.paddedWidth),
                      out_channels: Int32(g.outChannels), out_height: Int32(g.outputHeight),
                      out_width: Int32(g.outputWidth), kernel_height: Int32(g.kernelHeight),
                      kernel_width: Int32(g.kernelWidth), stride: Int32(g.stride))
    }

    public var backend: LayerBackend { .sparse }
    public var liveConnections: Int { index.count }
    public var density: Double { Double(liveConnections) / Double(geometry.weightCount) }
    /// Weight values at `positions`, in that order.
    public var liveWeights: [Float] { weight.values }

    /// The kernel as dense OIHW weights (absent taps 0). For tests and conversions.
    public func denseWeights() -> [Float] {
        var w = [Float](repeating: 0, count: geometry.weightCount)
        for (k, p) in positions.enumerated() { w[Int(p)] = weight.values[k] }
        return w
    }

    /// Replaces topology and values (moments reset to 0): the seam a topology update will use.
    public func reset(positions newPositions: [Position], values: [Float]) {
        precondition(newPositions.count == values.count)
        index = SparseIndex(shape: geometry.kernelShape, positions: newPositions)
        positions = newPositions
        tapOffsets = Self.offsets(geometry, index)
        let z = [Float](repeating: 0, count: values.count)
        weight.replace(values: values, firstMoment: z, secondMoment: z, mask: nil)
    }

    /// x padded into scratch (or x itself without padding).
    private func padded(_ x: UnsafePointer<Float>, batch: Int) -> UnsafePointer<Float> {
        let g = geometry
        guard g.isPadded else { return x }
        let p = paddedInput.pointer(count: g.inChannels * g.paddedHeight * g.paddedWidth * batch)
        sk_conv_pad_asymmetric(Int32(g.inChannels), Int32(g.height), Int32(g.width), Int32(g.padding),
                               Int32(g.trailingPadding), Int32(batch), x, p)
        return UnsafePointer(p)
    }

    /// y (C_out·OH·OW × batch) = f(conv(x, W) + b); ReLU is fused into the kernel, other activations follow it.
    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>,
                        activation: Activation = .identity) {
        var s = Self.cShape(geometry)
        let xp = padded(x, batch: batch)
        let relu = activation == .relu
        index.rowPointer.withUnsafeBufferPointer { ptr in
            tapOffsets.withUnsafeBufferPointer { off in
                weight.values.withUnsafeBufferPointer { w in
                    bias.values.withUnsafeBufferPointer { b in
                        sk_conv_forward(&s, Int32(batch), ptr.baseAddress, off.baseAddress, w.baseAddress, xp,
                                        b.baseAddress, y, relu ? 1 : 0)
                    }
                }
            }
        }
        if !relu && activation != .identity { activation.apply(y, count: geometry.outputCount * batch, into: y) }
    }

    /// Weight gradients at live taps and bias gradients from dY = ∂L/∂y (C_out·OH·OW × batch) and the layer input x;
    /// overwritten, not accumulated.
    public func computeGradients(outputGradient dY: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int) {
        var s = Self.cShape(geometry)
        let xp = padded(x, batch: batch)
        index.rowPointer.withUnsafeBufferPointer { ptr in
            tapOffsets.withUnsafeBufferPointer { off in
                weight.gradients.withUnsafeMutableBufferPointer { g in
                    bias.gradients.withUnsafeMutableBufferPointer { bg in
                        sk_conv_weight_gradient(&s, Int32(batch), ptr.baseAddress, off.baseAddress, dY, xp,
                                                g.baseAddress, bg.baseAddress)
                    }
                }
            }
        }
    }

    /// dx (C_in·H·W × batch) = the transposed convolution of dY, times f′ of `inputActivation` (computed from this
    /// layer's input x, which f produced; `.identity` for the plain input gradient).
    public func inputGradient(outputGradient dY: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>,
                              inputActivation: Activation = .identity, input x: UnsafePointer<Float>? = nil) {
        let g = geometry
        var s = Self.cShape(g)
        let target = g.isPadded
            ? paddedInputGradient.pointer(count: g.inChannels * g.paddedHeight * g.paddedWidth * batch) : dx
        index.rowPointer.withUnsafeBufferPointer { ptr in
            tapOffsets.withUnsafeBufferPointer { off in
                weight.values.withUnsafeBufferPointer { w in
                    sk_conv_input_gradient(&s, Int32(batch), ptr.baseAddress, off.baseAddress, w.baseAddress, dY, target)
                }
            }
        }
        if g.isPadded {
            sk_conv_crop_asymmetric(Int32(g.inChannels), Int32(g.height), Int32(g.width), Int32(g.padding),
                                    Int32(g.trailingPadding), Int32(batch), target, dx)
        }
        if inputActivation != .identity {
            precondition(x != nil, "an input activation's derivative needs the layer input")
            inputActivation.backward(dx, output: x!, count: g.inputCount * batch, into: dx)
        }
    }
}

// MARK: - A layer of a network

/// Through the `Layer` protocol a convolution is one more layer of an `MLP`: its `shape` is the kernel matrix
/// (`geometry.kernelShape`), so topologies, ERK, initialisers, SET/RigL plans, pruning and target networks written
/// for fully connected layers apply to its live taps unchanged; its activations are the flattened feature maps.
extension SparseConv2D: Layer {
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

    public func apply(_ plan: TopologyPlan, grownValues: [Float], keepRegrown: Bool) {
        let merged = applyTrulySparse(plan, to: weight, positions: positions, grownValues: grownValues,
                                      keepRegrown: keepRegrown)
        index = SparseIndex(shape: geometry.kernelShape, positions: merged)
        positions = merged
        tapOffsets = Self.offsets(geometry, index)
    }
}
