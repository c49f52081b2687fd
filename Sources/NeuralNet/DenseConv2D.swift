import CKernels
import COpenBLAS

/// The dense 2-D convolution baseline, im2col + `cblas_sgemm` in the same [C][H][W][batch] layout as
/// `SparseConv2D`; with a mask it is the masked-dense backend (what the papers' TF/PyTorch code does: a dense kernel
/// times a 0/1 mask).
///
/// Column matrix COL = im2col(x) is (C_in·KH·KW) × (OH·OW·batch), so with the kernel W as C_out × (C_in·KH·KW):
///   forward            y = W·COL + b                         (one sgemm; the output is already [C_out][OH][OW][b])
///   weight gradient    dW = dY·COLᵀ, db = Σ dY               (COL rebuilt from the given input)
///   input gradient     dx = col2im(Wᵀ·dY)
/// Masked: the weights are multiplied by the mask when set, the weight gradient is the dense one (every tap, as
/// `DenseLayer`'s masked backend), and Adam applies the mask with the tensor's `MomentPolicy` (`sk_adam` mask
/// modes); `maskedGradients` is the gradient at live taps only, which equals the sparse layer's.
public final class DenseConv2D {
    public let geometry: ConvGeometry
    public let weight: ParameterTensor
    public let bias: ParameterTensor
    private let columns = GrowingBuffer(), paddedInput = GrowingBuffer(), paddedInputGradient = GrowingBuffer()
    /// Scratch of a maintain-sparsity target update on this (target) layer; not part of its state.
    var targetScratch = MaintainSparsityScratch()

    /// A dense conv (`mask == nil`) or a masked-dense one. `weights` are OIHW, C_out × C_in × KH × KW row-major.
    public init(geometry: ConvGeometry, weights: [Float], biases: [Float], mask: [Float]? = nil,
                momentPolicy: MomentPolicy = .masked) {
        precondition(weights.count == geometry.weightCount, "a kernel of \(geometry) has \(geometry.weightCount) weights, got \(weights.count)")
        precondition(biases.count == geometry.outChannels, "\(biases.count) biases for \(geometry.outChannels) channels")
        precondition(mask == nil || mask!.count == weights.count, "mask of \(mask?.count ?? 0) for \(weights.count) weights")
        BLASThreads.ensureConfigured()
        self.geometry = geometry
        var w = weights
        if let mask { for i in w.indices { w[i] *= mask[i] } }
        weight = ParameterTensor(values: w, mask: mask, momentPolicy: momentPolicy)
        bias = ParameterTensor(values: biases)
    }

    public var backend: LayerBackend { weight.mask == nil ? .dense : .masked }
    public var liveConnections: Int { weight.maskCount ?? geometry.weightCount }
    public var density: Double { Double(liveConnections) / Double(geometry.weightCount) }

    /// Live tap positions, ascending (all of them for a dense kernel).
    public var positions: [Position] {
        guard let mask = weight.mask else { return (0..<Int32(geometry.weightCount)).map { $0 } }
        return mask.indices.filter { mask[$0] != 0 }.map { Position($0) }
    }

    /// Weight values at `positions`, in that order.
    public var liveWeights: [Float] {
        guard weight.mask != nil else { return weight.values }
        return positions.map { weight.values[Int($0)] }
    }

    /// The kernel as dense OIHW weights (absent taps 0).
    public func denseWeights() -> [Float] { weight.values }

    /// The weight gradient at live taps only, in `positions` order.
    public var maskedGradients: [Float] { positions.map { weight.gradients[Int($0)] } }

    private func padded(_ x: UnsafePointer<Float>, batch: Int) -> UnsafePointer<Float> {
        let g = geometry
        guard g.isPadded else { return x }
        let p = paddedInput.pointer(count: g.inChannels * g.paddedHeight * g.paddedWidth * batch)
        sk_conv_pad_asymmetric(Int32(g.inChannels), Int32(g.height), Int32(g.width), Int32(g.padding),
                               Int32(g.trailingPadding), Int32(batch), x, p)
        return UnsafePointer(p)
    }

    /// COL of x (padded first if the geometry pads).
    private func im2col(_ x: UnsafePointer<Float>, batch: Int) -> UnsafeMutablePointer<Float> {
        var s = SparseConv2D.cShape(geometry)
        let col = columns.pointer(count: geometry.fanIn * geometry.outputPositions * batch)
        sk_conv_im2col(&s, Int32(batch), padded(x, batch: batch), col)
        return col
    }

    /// y (C_out·OH·OW × batch) = f(conv(x, W) + b).
    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>,
                        activation: Activation = .identity) {
        let g = geometry, n = g.outputPositions * batch
        let col = im2col(x, batch: batch)
        bias.values.withUnsafeBufferPointer { b in
            for o in 0..<g.outChannels { (y + o * n).update(repeating: b[o], count: n) }
        }
        weight.values.withUnsafeBufferPointer { w in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(g.outChannels), Int32(n), Int32(g.fanIn), 1,
                        w.baseAddress, Int32(g.fanIn), col, Int32(n), 1, y, Int32(n))
        }
        if activation != .identity { activation.apply(y, count: g.outputCount * batch, into: y) }
    }

    /// Dense weight gradient dY·COLᵀ (every tap) and bias gradient; overwritten, not accumulated.
    public func computeGradients(outputGradient dY: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int) {
        let g = geometry, n = g.outputPositions * batch
        let col = im2col(x, batch: batch)
        weight.gradients.withUnsafeMutableBufferPointer { gw in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(g.outChannels), Int32(g.fanIn), Int32(n), 1,
                        dY, Int32(n), col, Int32(n), 0, gw.baseAddress, Int32(g.fanIn))
        }
        bias.gradients.withUnsafeMutableBufferPointer { sk_rowsum(Int32(g.outChannels), dY, Int32(n), Int32(n), $0.baseAddress) }
    }

    /// dx (C_in·H·W × batch) = col2im(Wᵀ·dY), times f′ of `inputActivation` (from this layer's input x).
    public func inputGradient(outputGradient dY: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>,
                              inputActivation: Activation = .identity, input x: UnsafePointer<Float>? = nil) {
        let g = geometry, n = g.outputPositions * batch
        var s = SparseConv2D.cShape(g)
        let col = columns.pointer(count: g.fanIn * n)
        weight.values.withUnsafeBufferPointer { w in
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(g.fanIn), Int32(n), Int32(g.outChannels), 1,
                        w.baseAddress, Int32(g.fanIn), dY, Int32(n), 0, col, Int32(n))
        }
        if g.isPadded {
            let target = paddedInputGradient.pointer(count: g.inChannels * g.paddedHeight * g.paddedWidth * batch)
            sk_conv_col2im(&s, Int32(batch), col, target)
            sk_conv_crop_asymmetric(Int32(g.inChannels), Int32(g.height), Int32(g.width), Int32(g.padding),
                                    Int32(g.trailingPadding), Int32(batch), target, dx)
        } else {
            sk_conv_col2im(&s, Int32(batch), col, dx)
        }
        if inputActivation != .identity {
            precondition(x != nil, "an input activation's derivative needs the layer input")
            inputActivation.backward(dx, output: x!, count: g.inputCount * batch, into: dx)
        }
    }
}

// MARK: - A layer of a network

/// The kernel matrix is the layer's `shape` (see `ConvolutionLayer`); a masked conv applies plans to its mask.
extension DenseConv2D: ConvolutionLayer {
    public func apply(_ plan: TopologyPlan, grownValues: [Float], keepRegrown: Bool) {
        applyMasked(plan, to: weight, positions: positions, grownValues: grownValues, keepRegrown: keepRegrown)
    }
}
