import CKernels
#if canImport(Glibc)
import Glibc
#endif

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
    private var tapOffsets: [Int32] { didSet { transposed = nil } }  // every topology change passes here
    /// Bytes of the per-tap arrays beside `index` (positions and input offsets), for `storageBytes`.
    var indexExtraBytes: Int { (positions.count + tapOffsets.count) * MemoryLayout<Int32>.stride }
    private let paddedInput = GrowingBuffer(), paddedInputGradient = GrowingBuffer(), columns = GrowingBuffer()

    /// How `inputGradient` computes dX.
    public enum InputGradientMethod: String, Sendable, CaseIterable {
        /// Each live tap's products added into dX (`sk_conv_input_gradient`): any stride; a load, FMA and store
        /// per tap, position and vector.
        case scatter
        /// For stride 1: dX is the forward convolution of dY with the kernel transposed (channels swapped) and
        /// flipped, "same"-padded by K − 1 − padding, so the forward kernel's register-accumulated loop does it
        /// (`transposedForward`). Taken automatically where it applies.
        case transposedForward
        /// For stride s > 1 with s dividing the kernel size: the s² phases of dX (rows i with (i + padding) mod s
        /// = a, columns likewise b) are each a stride-1 forward convolution of dY with the kernel's taps of that
        /// phase, transposed and flipped; one twin convolution with s²·C_in output channels computes all of them,
        /// and a copy puts each phase's rows and columns in place (`phaseTwin`). Taken automatically where it applies.
        case phaseForward
    }
    /// The method `inputGradient` uses: `.transposedForward` where the geometry allows it (stride 1, padding at
    /// most K − 1 on each side), `.phaseForward` for a larger stride that divides the kernel, else `.scatter`.
    /// Tests set it to hold each to the twins.
    public var inputGradientMethod: InputGradientMethod { didSet { transposed = nil } }
    /// The twin of `.transposedForward` or `.phaseForward` and, per twin tap, the index of its value here; rebuilt
    /// after a topology or method change, its values gathered at each use.
    private var transposed: (layer: SparseConv2D, source: [Int32])?

    /// `positions` strictly ascending in `geometry.kernelShape`; `values[k]` is the weight at `positions[k]`.
    public init(geometry: ConvGeometry, positions: [Position], values: [Float], biases: [Float]) {
        precondition(positions.count == values.count, "\(positions.count) positions but \(values.count) values")
        precondition(biases.count == geometry.outChannels, "\(biases.count) biases for \(geometry.outChannels) channels")
        self.geometry = geometry
        index = SparseIndex(shape: geometry.kernelShape, positions: positions, transposedView: false)  // validates order and range
        self.positions = positions
        weight = ParameterTensor(values: values)
        bias = ParameterTensor(values: biases)
        inputGradientMethod = Self.canTranspose(geometry) ? .transposedForward
            : Self.phaseTwinGeometry(geometry) != nil ? .phaseForward : .scatter
        tapOffsets = []
        tapOffsets = Self.offsets(geometry, index)
    }

    /// Whether the input gradient can run as a forward convolution (`.transposedForward`).
    public static func canTranspose(_ g: ConvGeometry) -> Bool {
        g.stride == 1 && g.kernelHeight == g.kernelWidth && g.padding <= g.kernelHeight - 1
            && g.trailingPadding <= g.kernelHeight - 1
    }

    /// The input-gradient methods this geometry can use, `.scatter` first.
    public static func inputGradientMethods(_ g: ConvGeometry) -> [InputGradientMethod] {
        [.scatter] + (canTranspose(g) ? [.transposedForward] : []) + (phaseTwinGeometry(g) != nil ? [.phaseForward] : [])
    }

    /// `.phaseForward`'s twin: C_out × OH × OW in, s²·C_in × Q × Q out with Q = ⌈(H + padding)/s⌉, kernel M = K/s,
    /// stride 1, padding M − 1 before and Q − OH after; nil where the method does not apply (stride 1, s not dividing
    /// K, a non-square input or kernel, or Q < OH).
    static func phaseTwinGeometry(_ g: ConvGeometry) -> ConvGeometry? {
        let s = g.stride, k = g.kernelHeight
        guard s > 1, k == g.kernelWidth, k % s == 0, g.height == g.width else { return nil }
        let m = k / s, q = (g.height + g.padding + s - 1) / s
        guard q >= g.outputHeight, g.outputHeight == g.outputWidth else { return nil }
        return ConvGeometry(inChannels: g.outChannels, height: g.outputHeight, width: g.outputWidth,
                            outChannels: s * s * g.inChannels, kernelHeight: m, kernelWidth: m, stride: 1,
                            padding: m - 1, trailingPadding: q - g.outputHeight)
    }

    /// The phase twin and, per twin tap, the index of its value here: the live tap (co, ci, kh, kw) goes to row
    /// (a·s + b)·C_in + ci with a = kh mod s, b = kw mod s, column (co·M + M − 1 − kh/s)·M + M − 1 − kw/s.
    /// dX[i] = Σ_m W[a + s·m]·dY[q − m] for i = s·q + a − padding is then Σ_m' W'[m']·dY_padded[q + m'].
    private func phaseTwin() -> (layer: SparseConv2D, source: [Int32]) {
        let g = geometry, s = g.stride, m = g.kernelHeight / s
        return twin(Self.phaseTwinGeometry(g)!) { co, ci, kh, kw in
            (((kh % s) * s + kw % s) * g.inChannels + ci, (co * m + m - 1 - kh / s) * m + m - 1 - kw / s)
        }
    }

    /// A twin convolution of this kernel's live taps (cached until the topology or the method changes): `place`
    /// maps a tap (co, ci, kh, kw) to its (row, column) in the twin's kernel matrix; its values are gathered at
    /// each use (`gather`), since Adam moves them every step.
    private func twin(_ twinGeometry: ConvGeometry, place: (Int, Int, Int, Int) -> (row: Int, column: Int))
        -> (layer: SparseConv2D, source: [Int32]) {
        if let t = transposed { return t }
        let g = geometry, k = g.kernelWidth, taps = g.kernelHeight * k, twinFanIn = twinGeometry.fanIn
        var pairs: [(Position, Int32)] = positions.enumerated().map { slot, p in
            let co = Int(p) / g.fanIn, column = Int(p) % g.fanIn
            let (row, twinColumn) = place(co, column / taps, column % taps / k, column % k)
            return (Position(row * twinFanIn + twinColumn), Int32(slot))
        }
        pairs.sort { $0.0 < $1.0 }
        let layer = SparseConv2D(geometry: twinGeometry, positions: pairs.map(\.0),
                                 values: [Float](repeating: 0, count: pairs.count),
                                 biases: [Float](repeating: 0, count: twinGeometry.outChannels))
        layer.inputGradientMethod = .scatter
        let t = (layer, pairs.map(\.1))
        transposed = t
        return t
    }

    /// A twin's values from this layer's: twin tap j holds value `source[j]`.
    private static func gather(_ values: [Float], into twin: SparseConv2D, source: [Int32]) {
        twin.weight.values.withUnsafeMutableBufferPointer { tw in
            values.withUnsafeBufferPointer { w in for (j, k) in source.enumerated() { tw[j] = w[Int(k)] } }
        }
    }

    /// The twin: C_out × OH × OW in, C_in × H × W out, stride 1, padding K − 1 − p before and K − 1 − t after; the
    /// live tap (co, ci, kh, kw) becomes (ci, co, K − 1 − kh, K − 1 − kw). dX[i] = Σ_kh W[kh]·dY[i + p − kh] is then
    /// Σ_kh' W'[kh']·dY_padded[i + kh'].
    private func transposedTwin() -> (layer: SparseConv2D, source: [Int32]) {
        let g = geometry, k = g.kernelHeight
        let twinGeometry = ConvGeometry(inChannels: g.outChannels, height: g.outputHeight, width: g.outputWidth,
                                        outChannels: g.inChannels, kernelHeight: k, kernelWidth: k, stride: 1,
                                        padding: k - 1 - g.padding, trailingPadding: k - 1 - g.trailingPadding)
        return twin(twinGeometry) { co, ci, kh, kw in (ci, (co * k + k - 1 - kh) * k + k - 1 - kw) }
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
        index.withCSR { _, idx, wide in
            o.withUnsafeMutableBufferPointer { sk_conv_tap_offsets(&s, Int32(index.count), idx, wide, $0.baseAddress) }
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
        index = SparseIndex(shape: geometry.kernelShape, positions: newPositions, transposedView: false)
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
        if batch == 1 { return forwardOneSample(xp, into: y, activation: activation) }
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

    /// Batch 1 (acting): the conv kernels vectorise over samples, so one sample would fill one lane of each vector.
    /// Instead the padded input's column matrix (C_in·KH·KW × OH·OW, im2col) goes through the fully connected sparse
    /// kernel (`sk_spmm`) with the output positions as its vectorised dimension; its output, C_out × OH·OW, is the
    /// layer's [C][H][W] output for the one sample.
    private func forwardOneSample(_ xp: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, activation: Activation) {
        var s = Self.cShape(geometry)
        let n = geometry.outputPositions
        let col = columns.pointer(count: geometry.fanIn * n)
        sk_conv_im2col(&s, 1, xp, col)
        let post = activation.fusedForward
        index.withCSR { ptr, idx, wide in
            weight.values.withUnsafeBufferPointer { w in
                bias.values.withUnsafeBufferPointer { b in
                    sk_spmm(Int32(geometry.outChannels), ptr, idx, wide, w.baseAddress,
                            col, Int32(n), Int32(n), b.baseAddress, y, Int32(n), post ?? 0, activation.slope, nil)
                }
            }
        }
        if post == nil && activation != .identity { activation.apply(y, count: geometry.outputCount, into: y) }
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
        defer {
            if inputActivation != .identity {
                precondition(x != nil, "an input activation's derivative needs the layer input")
                inputActivation.backward(dx, output: x!, count: g.inputCount * batch, into: dx)
            }
        }
        switch inputGradientMethod {
        case .scatter: break
        case .transposedForward:
            precondition(Self.canTranspose(g), "the input gradient of \(g) cannot run as a forward convolution")
            let twin = transposedTwin()
            Self.gather(weight.values, into: twin.layer, source: twin.source)
            twin.layer.forward(dY, batch: batch, into: dx, activation: .identity)
            return
        case .phaseForward:
            guard let tg = Self.phaseTwinGeometry(g) else { preconditionFailure("the input gradient of \(g) has no phase twin") }
            let twin = phaseTwin()
            Self.gather(weight.values, into: twin.layer, source: twin.source)
            let out = paddedInputGradient.pointer(count: tg.outputCount * batch)
            twin.layer.forward(dY, batch: batch, into: out, activation: .identity)
            // Phase (a, b)'s output (ci, q, r) is dX[ci][s·q + a − padding][s·r + b − padding] where that is inside.
            let s = g.stride, q = tg.outputHeight, h = g.height, w = g.width, bytes = batch * MemoryLayout<Float>.stride
            for a in 0..<s {
                for b in 0..<s {
                    for ci in 0..<g.inChannels {
                        let plane = out + (((a * s + b) * g.inChannels + ci) * q * q) * batch
                        for qi in 0..<q {
                            let i = s * qi + a - g.padding
                            guard i >= 0 && i < h else { continue }
                            for ri in 0..<q {
                                let j = s * ri + b - g.padding
                                guard j >= 0 && j < w else { continue }
                                memcpy(dx + ((ci * h + i) * w + j) * batch, plane + (qi * q + ri) * batch, bytes)
                            }
                        }
                    }
                }
            }
            return
        }
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
    }
}

// MARK: - A layer of a network

/// The kernel matrix is the layer's `shape` (see `ConvolutionLayer`); a topology plan rebuilds the index and the tap
/// offsets.
extension SparseConv2D: ConvolutionLayer {
    public func apply(_ plan: TopologyPlan, grownValues: [Float], keepRegrown: Bool) {
        let merged = applyTrulySparse(plan, to: weight, positions: positions, grownValues: grownValues,
                                      keepRegrown: keepRegrown)
        index = SparseIndex(shape: geometry.kernelShape, positions: merged, transposedView: false)
        positions = merged
        tapOffsets = Self.offsets(geometry, index)
    }
}
