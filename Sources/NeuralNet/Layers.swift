import SparrowCore
import COpenBLAS
import CKernels

/// Which storage and kernels a layer uses.
public enum LayerBackend: String, Codable, Sendable, CaseIterable, NamedChoice {
    /// Dense weights, OpenBLAS `cblas_sgemm`.
    case dense
    /// Truly sparse: values, indices and Adam moments for live connections only (CSR + a CSC view).
    case sparse
    /// Dense weights times a 0/1 mask; dense gradients (what the papers' PyTorch/TF code does).
    case masked
}

/// The common interface of all layers: y = W·x + b on a feature-major batch (`x[i * batch + b]`).
///
/// Gradients are overwritten (not accumulated) by each `computeGradients` call.
public protocol Layer: AnyObject {
    var shape: LayerShape { get }
    var backend: LayerBackend { get }
    var weight: ParameterTensor { get }
    var bias: ParameterTensor { get }
    /// Live connections, ascending (`row * fanIn + col`). All positions for a dense layer.
    var positions: [Position] { get }
    var liveConnections: Int { get }
    /// y (fanOut × batch) = f(W·x + b) with f = `activation` (fused into the sparse kernel where possible).
    func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, activation: Activation)
    /// Weight and bias gradients from dZ = ∂L/∂y (fanOut × batch) and the layer input x (fanIn × batch).
    func computeGradients(outputGradient dZ: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int)
    /// dx (fanIn × batch) = (Wᵀ·dZ) ⊙ f′, where f = `inputActivation` produced this layer's input `x` (f′ is
    /// computed from x; pass `.identity` for the plain input gradient). With an activation this is directly the
    /// previous layer's dZ.
    /// Only the input rows (features) in `rows` are computed (and written): a critic's action gradient needs the
    /// action rows of its first layer, not the observation rows.
    func inputGradient(outputGradient dZ: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>,
                       inputActivation: Activation, input x: UnsafePointer<Float>, rows: Range<Int>)
    /// The full fanOut × fanIn gradient dZ·xᵀ, including absent connections (RigL's grow score; only at update
    /// steps — this allocates).
    func denseWeightGradient(outputGradient dZ: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int) -> [Float]
    /// The weights as a dense fanOut × fanIn matrix (absent connections 0). For tests and conversions.
    func denseWeights() -> [Float]
    /// Weight values at `positions`, in that order.
    var liveWeights: [Float] { get }
    /// Applies a topology plan (see `TopologyPlan`): kept connections keep value and moments; grown ones get
    /// `grownValues` (in the order of `plan.grown`) and zero moments, except that a grown position which was live
    /// before the update (dropped and immediately regrown) keeps its value and moments when `keepRegrown` is
    /// true (RigL `reinit_when_same=False`, ANF and Sokar code).
    func apply(_ plan: TopologyPlan, grownValues: [Float], keepRegrown: Bool)
    /// Features per sample in and out: `shape.fanIn` and `shape.fanOut` for a fully connected layer, the C·H·W of
    /// the input and output maps for a convolution (whose `shape` is its kernel matrix).
    var inputWidth: Int { get }
    var outputWidth: Int { get }
    /// How often each live weight is applied per sample: 1, or OH·OW for a convolution (FLOPs per live weight).
    var usesPerSample: Int { get }
    /// The convolution this layer computes; nil for a fully connected layer.
    var convolution: ConvGeometry? { get }
}

extension Layer {
    public var inputWidth: Int { shape.fanIn }
    public var outputWidth: Int { shape.fanOut }
    public var usesPerSample: Int { 1 }
    public var convolution: ConvGeometry? { nil }
    /// The papers' cost of this layer (`LayerCost`): live weights, biases, and their uses per sample.
    public var cost: LayerCost { LayerCost(shape: shape, liveWeights: liveConnections, usesPerSample: usesPerSample) }
}

extension Layer {
    /// RigL's grow score: the dense gradient dZ·xᵀ (fanOut × fanIn, row-major) of every position, live or not, by
    /// one sgemm. Allocates; call at topology-update steps only. Shared by the dense/masked and sparse layers.
    public func denseWeightGradient(outputGradient dZ: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int) -> [Float] {
        var g = [Float](repeating: 0, count: shape.fanIn * shape.fanOut)
        let n = Int32(shape.fanIn), m = Int32(shape.fanOut), nb = Int32(batch)
        g.withUnsafeMutableBufferPointer { g in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, nb, 1, dZ, nb, x, nb, 0, g.baseAddress, n)
        }
        return g
    }
}

extension Layer {
    /// y = W·x + b.
    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>) {
        forward(x, batch: batch, into: y, activation: .identity)
    }
    /// dx = Wᵀ·dZ.
    public func inputGradient(outputGradient dZ: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>) {
        inputGradient(outputGradient: dZ, batch: batch, into: dx, inputActivation: .identity, input: UnsafePointer(dx))
    }
    /// Every input row.
    public func inputGradient(outputGradient dZ: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>,
                              inputActivation: Activation, input x: UnsafePointer<Float>) {
        inputGradient(outputGradient: dZ, batch: batch, into: dx, inputActivation: inputActivation, input: x,
                      rows: 0..<inputWidth)
    }
    public func apply(_ plan: TopologyPlan, grownValues: [Float]) { apply(plan, grownValues: grownValues, keepRegrown: true) }
    public var density: Double { Double(liveConnections) / Double(shape.fanIn * shape.fanOut) }
}

/// Products smaller than this (multiply-adds: live connections × batch) stay on one thread (`Parallel`): waking a
/// second thread costs about as much as ~0.5 MFLOP of work.
let parallelMinimumWork = 262_144

@inline(__always) func withBuffers<R>(_ a: [Float], _ body: (UnsafePointer<Float>) -> R) -> R {
    a.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// The products of a dense fanOut × fanIn row-major weight matrix: `DenseLayer`'s, and those of a truly sparse
/// layer on its dense path (`DensePath`), whose live weights are scattered into such a matrix.
enum DenseProducts {
    /// y = f(W·x + b).
    static func forward(_ w: UnsafePointer<Float>, bias b: UnsafePointer<Float>, shape: LayerShape,
                        _ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, activation: Activation) {
        defer { activation.apply(y, count: shape.fanOut * batch, into: y) }
        let n = Int32(shape.fanIn), m = Int32(shape.fanOut), nb = Int32(batch)
        for o in 0..<shape.fanOut { (y + o * batch).update(repeating: b[o], count: batch) }
        if batch == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, m, n, 1, w, n, x, 1, 1, y, 1)
        } else {
            // One sgemm, never split over threads: OpenBLAS sums a product's terms differently for other shapes
            // (its small-matrix kernels), so a row block would change the numbers with the thread count.
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, nb, n, 1, w, n, x, nb, 1, y, nb)
        }
    }

    /// G (fanOut × fanIn) = dZ·xᵀ.
    static func weightGradient(outputGradient dZ: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int,
                               shape: LayerShape, into g: UnsafeMutablePointer<Float>) {
        let n = Int32(shape.fanIn), m = Int32(shape.fanOut), nb = Int32(batch)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, nb, 1, dZ, nb, x, nb, 0, g, n)
    }

    /// Rows `rows` of dx = (Wᵀ·dZ) ⊙ f′.
    static func inputGradient(_ w: UnsafePointer<Float>, shape: LayerShape, outputGradient dZ: UnsafePointer<Float>,
                              batch: Int, into dx: UnsafeMutablePointer<Float>, inputActivation: Activation,
                              input x: UnsafePointer<Float>, rows: Range<Int>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= shape.fanIn)
        guard !rows.isEmpty else { return }
        // Rows s..<e of Wᵀ·dZ are columns s..<e of W: the same product on a column block (leading dimension fanIn).
        let out = dx + rows.lowerBound * batch
        defer { inputActivation.backward(out, output: x + rows.lowerBound * batch, count: rows.count * batch, into: out) }
        let n = Int32(shape.fanIn), r = Int32(rows.count), m = Int32(shape.fanOut), nb = Int32(batch)
        let block = w + rows.lowerBound
        if batch == 1 {
            cblas_sgemv(CblasRowMajor, CblasTrans, m, r, 1, block, n, dZ, 1, 0, out, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, nb, m, 1, block, n, dZ, nb, 0, out, nb)
        }
    }
}

// MARK: - Dense and masked-dense

/// A dense layer on OpenBLAS; with a mask it is the masked-dense backend (weights multiplied by a 0/1 mask,
/// dense gradients, Adam moments per `MomentPolicy`).
public final class DenseLayer: Layer {
    public let shape: LayerShape
    public let weight: ParameterTensor
    public let bias: ParameterTensor
    /// Scratch of a maintain-sparsity target update on this (target) layer; not part of its state.
    var targetScratch = MaintainSparsityScratch()

    /// A dense layer (`mask == nil`) or a masked-dense one. `weights` is fanOut × fanIn row-major.
    public init(shape: LayerShape, weights: [Float], biases: [Float], mask: [Float]? = nil,
                momentPolicy: MomentPolicy = .masked) {
        precondition(weights.count == shape.fanIn * shape.fanOut && biases.count == shape.fanOut)
        BLASThreads.ensureConfigured()
        self.shape = shape
        var w = weights
        if let mask { for i in w.indices { w[i] *= mask[i] } }
        weight = ParameterTensor(values: w, mask: mask, momentPolicy: momentPolicy)
        bias = ParameterTensor(values: biases)
    }

    /// A masked-dense layer whose live connections are `positions` with values `liveValues`.
    public convenience init(shape: LayerShape, positions: [Position], liveValues: [Float], biases: [Float],
                            momentPolicy: MomentPolicy) {
        precondition(positions.count == liveValues.count)
        var w = [Float](repeating: 0, count: shape.fanIn * shape.fanOut)
        var m = w
        for (k, p) in positions.enumerated() { w[Int(p)] = liveValues[k]; m[Int(p)] = 1 }
        self.init(shape: shape, weights: w, biases: biases, mask: m, momentPolicy: momentPolicy)
    }

    public var backend: LayerBackend { weight.mask == nil ? .dense : .masked }

    public var positions: [Position] {
        guard let mask = weight.mask else { return (0..<Int32(shape.fanIn * shape.fanOut)).map { $0 } }
        var p: [Position] = []
        p.reserveCapacity(liveConnections)
        for i in mask.indices where mask[i] != 0 { p.append(Position(i)) }
        return p
    }

    public var liveConnections: Int { weight.maskCount ?? shape.fanIn * shape.fanOut }

    public var liveWeights: [Float] {
        guard weight.mask != nil else { return weight.values }
        return positions.map { weight.values[Int($0)] }
    }

    public func denseWeights() -> [Float] { weight.values }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, activation: Activation) {
        weight.values.withUnsafeBufferPointer { w in
            bias.values.withUnsafeBufferPointer { b in
                DenseProducts.forward(w.baseAddress!, bias: b.baseAddress!, shape: shape, x, batch: batch, into: y,
                                      activation: activation)
            }
        }
    }

    public func computeGradients(outputGradient dZ: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int) {
        weight.gradients.withUnsafeMutableBufferPointer {
            DenseProducts.weightGradient(outputGradient: dZ, input: x, batch: batch, shape: shape, into: $0.baseAddress!)
        }
        bias.gradients.withUnsafeMutableBufferPointer { sk_rowsum(Int32(shape.fanOut), dZ, Int32(batch), Int32(batch), $0.baseAddress) }
    }

    public func inputGradient(outputGradient dZ: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>,
                              inputActivation: Activation, input x: UnsafePointer<Float>, rows: Range<Int>) {
        weight.values.withUnsafeBufferPointer {
            DenseProducts.inputGradient($0.baseAddress!, shape: shape, outputGradient: dZ, batch: batch, into: dx,
                                        inputActivation: inputActivation, input: x, rows: rows)
        }
    }

    public func apply(_ plan: TopologyPlan, grownValues: [Float], keepRegrown: Bool) {
        applyMasked(plan, to: weight, positions: positions, grownValues: grownValues, keepRegrown: keepRegrown)
    }
}

/// A topology plan on a masked-dense weight tensor (`DenseLayer`, `DenseConv2D`): dropped positions get value 0
/// and mask 0 (moments zeroed under `.masked`), grown ones mask 1 with `grownValues` (or, dropped and regrown with
/// `keepRegrown`, their old value and moments). `positions` are the live positions before the plan.
func applyMasked(_ plan: TopologyPlan, to weight: ParameterTensor, positions old: [Position], grownValues: [Float],
                 keepRegrown: Bool) {
    guard var mask = weight.mask else { preconditionFailure("topology updates need a sparse or masked layer") }
    precondition(grownValues.count == plan.grown.count)
    var w = weight.values, m = weight.firstMoment, v = weight.secondMoment
    let resetMoments = weight.momentPolicy == .masked
    var keep = [Bool](repeating: false, count: old.count)
    for k in plan.kept { keep[k] = true }
    var wasLive = [Bool](repeating: false, count: w.count)
    for (k, p) in old.enumerated() {
        wasLive[Int(p)] = true
        if !keep[k] {  // dropped
            mask[Int(p)] = 0
            w[Int(p)] = 0
            if resetMoments { m[Int(p)] = 0; v[Int(p)] = 0 }
        }
    }
    for (j, p) in plan.grown.enumerated() {
        let i = Int(p)
        precondition(mask[i] == 0, "grown position \(p) is already live")
        mask[i] = 1
        if keepRegrown && wasLive[i] {
            w[i] = weight.values[i]
            m[i] = weight.firstMoment[i]; v[i] = weight.secondMoment[i]
        } else {
            w[i] = grownValues[j]
            if resetMoments { m[i] = 0; v[i] = 0 }
        }
    }
    weight.replace(values: w, firstMoment: m, secondMoment: v, mask: mask)
}

// MARK: - Truly sparse

/// A truly sparse layer: weights, gradients and Adam moments exist only for live connections. No dense mask, and
/// no dense weight copy except the workspace of a layer dense enough to run as sgemm (`DensePath`).
///
/// Storage per live connection: the weight, its two Adam moments and `SparseIndex`'s three (usually 16-bit)
/// indices; `positions` are derived from the index, not kept.
///
/// Kernels (`CKernels`, AVX2 + FMA): forward is a register-blocked axpy per output row over 64-wide batch chunks;
/// the input gradient runs the same kernel over the CSC view (so dX rows accumulate in registers, no scatter);
/// the weight gradient at a live (o, i) is dot(dZ[o, :], x[i, :]), eight connections at a time.
public final class SparseLayer: Layer {
    public let shape: LayerShape
    public let weight: ParameterTensor
    public let bias: ParameterTensor
    public private(set) var index: SparseIndex
    /// Scratch of a maintain-sparsity target update on this (target) layer; not part of its state.
    var targetScratch = MaintainSparsityScratch()
    /// Scratch for the positions of this (target) layer and its online layer during that update; not state either.
    /// Each is rewritten only when its layer's index changed since (`topologyVersion`), and the online one also when
    /// the update follows another online layer: between topology changes the online positions stay the same for
    /// hundreds of updates, and writing them out was 1.7% of a tows-sac step.
    private var targetPositions: [Position] = [], onlinePositions: [Position] = []
    private var targetPositionsVersion = -1, onlinePositionsVersion = -1
    private weak var onlinePositionsSource: SparseLayer?
    /// Counts the changes of `index` (every one goes through `topologyChanged`).
    private(set) var topologyVersion = 0
    /// Scratch for the weights in CSC order during `inputGradient` (gathered each call); not state.
    private let transposedValues = GrowingBuffer()
    /// Whether the products run densely (`DensePath`): decided from the shape and live count whenever the topology
    /// changes. The storage stays truly sparse either way.
    public private(set) var runsDense = false
    /// On the dense path: the live weights scattered into a fanOut × fanIn matrix (zeros elsewhere) and the dense
    /// weight gradient; workspaces, not state (nil on the sparse path).
    private var densified: FloatBuffer?, denseGradient: FloatBuffer?
    /// Whether `densified` may hold values at positions that are no longer live (after a topology change).
    private var densifiedIsStale = false

    /// `positions` strictly ascending; `values[k]` is the weight at `positions[k]`.
    public init(shape: LayerShape, positions: [Position], values: [Float], biases: [Float]) {
        precondition(positions.count == values.count && biases.count == shape.fanOut)
        self.shape = shape
        index = SparseIndex(shape: shape, positions: positions)
        weight = ParameterTensor(values: values)
        bias = ParameterTensor(values: biases)
        topologyChanged()
    }

    /// After every change of the index: the path for the new live count, and a densified copy to clear.
    private func topologyChanged() {
        topologyVersion &+= 1
        choosePath()
    }

    /// Decides the path again (`DensePath`), as after a topology change: a run calls it on the layers it built
    /// before it chose how layers decide (`DensePath.use`).
    public func choosePath() {
        forcePath(dense: DensePath.prefersDense(shape: shape, liveConnections: index.count))
    }

    /// Runs the products on `dense`'s path whatever `DensePath` says (`DensePathTiming` times both).
    func forcePath(dense: Bool) {
        runsDense = dense
        if runsDense {
            BLASThreads.ensureConfigured()
            densifiedIsStale = true
        } else {
            densified = nil; denseGradient = nil
        }
    }

    /// The dense path's weight matrix with the current live values.
    private func refreshDensified() -> UnsafePointer<Float> {
        let n = shape.fanIn * shape.fanOut
        if densified == nil { densified = FloatBuffer(count: n); densifiedIsStale = false }
        let w = densified!
        if densifiedIsStale { w.fill(0); densifiedIsStale = false }
        weight.values.withUnsafeBufferPointer { index.scatter($0.baseAddress!, into: w.pointer) }
        return UnsafePointer(w.pointer)
    }

    public var backend: LayerBackend { .sparse }
    public var liveConnections: Int { index.count }
    public var liveWeights: [Float] { weight.values }
    /// Live connections, ascending; `weight.values[k]` belongs to `positions[k]`. Derived from the index (allocates).
    public var positions: [Position] { index.positions }

    public func denseWeights() -> [Float] {
        var w = [Float](repeating: 0, count: shape.fanIn * shape.fanOut)
        w.withUnsafeMutableBufferPointer { d in
            weight.values.withUnsafeBufferPointer { index.scatter($0.baseAddress!, into: d.baseAddress!) }
        }
        return w
    }

    public func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, activation: Activation) {
        if runsDense {
            let w = refreshDensified()
            bias.values.withUnsafeBufferPointer {
                DenseProducts.forward(w, bias: $0.baseAddress!, shape: shape, x, batch: batch, into: y, activation: activation)
            }
            return
        }
        let post = activation.fusedForward
        defer { if post == nil { activation.apply(y, count: shape.fanOut * batch, into: y) } }
        index.withCSR { p, idx, wide in
            weight.values.withUnsafeBufferPointer { w in
                bias.values.withUnsafeBufferPointer { b in
                    Parallel.forRanges(shape.fanOut, totalWork: index.count * batch, minimumWork: parallelMinimumWork,
                                       prefix: { Int(p[$0]) * batch }) { r in
                        sk_spmm(Int32(r.count), p + r.lowerBound, idx, wide, w.baseAddress,
                                x, Int32(batch), Int32(batch), b.baseAddress! + r.lowerBound, y + r.lowerBound * batch,
                                Int32(batch), post ?? 0, activation.slope, nil)
                    }
                }
            }
        }
    }

    public func computeGradients(outputGradient dZ: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int) {
        if runsDense {
            if denseGradient == nil { denseGradient = FloatBuffer(count: shape.fanIn * shape.fanOut) }
            let g = denseGradient!
            DenseProducts.weightGradient(outputGradient: dZ, input: x, batch: batch, shape: shape, into: g.pointer)
            weight.gradients.withUnsafeMutableBufferPointer { index.gather(g.pointer, into: $0.baseAddress!) }
            bias.gradients.withUnsafeMutableBufferPointer {
                sk_rowsum(Int32(shape.fanOut), dZ, Int32(batch), Int32(batch), $0.baseAddress)
            }
            return
        }
        index.withCSR { p, idx, wide in
            weight.gradients.withUnsafeMutableBufferPointer { g in
                bias.gradients.withUnsafeMutableBufferPointer { bg in
                    Parallel.forRanges(shape.fanOut, totalWork: index.count * batch, minimumWork: parallelMinimumWork,
                                       prefix: { Int(p[$0]) * batch }) { r in
                        sk_sddmm(Int32(r.count), p + r.lowerBound, idx, wide, dZ + r.lowerBound * batch,
                                 Int32(batch), x, Int32(batch), Int32(batch), g.baseAddress, bg.baseAddress! + r.lowerBound)
                    }
                }
            }
        }
    }

    public func inputGradient(outputGradient dZ: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>,
                              inputActivation: Activation, input x: UnsafePointer<Float>, rows: Range<Int>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= shape.fanIn)
        guard !rows.isEmpty else { return }
        if runsDense {
            DenseProducts.inputGradient(refreshDensified(), shape: shape, outputGradient: dZ, batch: batch, into: dx,
                                        inputActivation: inputActivation, input: x, rows: rows)
            return
        }
        let post = inputActivation.fusedDerivative
        let offset = rows.lowerBound * batch  // rows of the CSC view are independent: start at row s
        index.withCSC { cp, idx, wide in
            let p = cp + rows.lowerBound
            let first = Int(p[0]), slots = first..<Int(p[rows.count])
            // The weights of these columns in CSC order, gathered once per call (not once per batch chunk in the
            // kernel): the kernel then reads them in sequence, indexed from the first slot.
            let w = transposedValues.pointer(count: slots.count)
            weight.values.withUnsafeBufferPointer { index.gatherTransposed($0.baseAddress!, slots: slots, into: w) }
            let work = slots.count * batch
            Parallel.forRanges(rows.count, totalWork: work, minimumWork: parallelMinimumWork,
                               prefix: { Int(p[$0] - p[0]) * batch }) { r in
                let o = offset + r.lowerBound * batch
                sk_spmm(Int32(r.count), p + r.lowerBound, idx, wide, w - first,
                        dZ, Int32(batch), Int32(batch), nil, dx + o, Int32(batch), post,
                        inputActivation.slope, post == 0 ? nil : x + o)
            }
        }
    }

    public func apply(_ plan: TopologyPlan, grownValues: [Float], keepRegrown: Bool) {
        let merged = applyTrulySparse(plan, to: weight, positions: positions, grownValues: grownValues,
                                      keepRegrown: keepRegrown)
        index.rebuild(positions: merged)  // validates order, uniqueness and range
        topologyChanged()
    }

    /// Replaces topology, values and moments at once (target networks, loading).
    func reset(positions newPositions: [Position], values: [Float], firstMoment: [Float]? = nil, secondMoment: [Float]? = nil) {
        index.rebuild(positions: newPositions)
        topologyChanged()
        let z = [Float](repeating: 0, count: values.count)
        weight.replace(values: values, firstMoment: firstMoment ?? z, secondMoment: secondMoment ?? z, mask: nil)
    }

    /// Sokar/ANF soft target update in place (see `softUpdateMaintainingSparsity`); rebuilds the index only when the
    /// support changes. Allocation-free on both kinds of step: equal supports blend in place; a support that trails
    /// the online one has both supports' positions written into reused scratch, is merged and pruned in
    /// `targetScratch`, whose values then trade places with the layer's (the old array becomes the next update's
    /// scratch), and the index is rebuilt in its own storage. As before, a changed support zeroes the target's
    /// moments (a target never steps, but checkpoints hold them).
    /// `softUpdateMaintainingSparsityByCopies` is the plain twin the tests hold this to.
    func softUpdateMaintainingSparsity(online: SparseLayer, tau: Float) {
        if index == online.index {
            // The steady state between topology changes: a blend in place; the rare zero there prunes by the plain rule.
            guard blendEqualSupports(targetValues: &weight.values, onlineValues: online.weight.values, tau: tau) else { return }
            var p = positions
            if pruneEqualSupports(positions: &p, values: &weight.values, onlineValues: online.weight.values) {
                index.rebuild(positions: p)
                topologyChanged()
                weight.zeroMoments()
            }
            return
        }
        let nt = index.count, no = online.index.count
        if targetPositionsVersion != topologyVersion {
            MaintainSparsityScratch.lengthen(&targetPositions, to: nt)
            targetPositions.withUnsafeMutableBufferPointer { index.writePositions(into: $0) }
            targetPositionsVersion = topologyVersion
        }
        if onlinePositionsSource !== online || onlinePositionsVersion != online.topologyVersion {
            MaintainSparsityScratch.lengthen(&onlinePositions, to: no)
            onlinePositions.withUnsafeMutableBufferPointer { online.index.writePositions(into: $0) }
            onlinePositionsSource = online
            onlinePositionsVersion = online.topologyVersion
        }
        let n = targetPositions.withUnsafeBufferPointer { tp in
            weight.values.withUnsafeBufferPointer { tv in
                onlinePositions.withUnsafeBufferPointer { op in
                    online.weight.values.withUnsafeBufferPointer { ov in
                        NeuralNet.softUpdateMaintainingSparsity(
                            targetPositions: UnsafeBufferPointer(rebasing: tp[..<nt]), targetValues: tv,
                            onlinePositions: UnsafeBufferPointer(rebasing: op[..<no]), onlineValues: ov,
                            tau: tau, into: &targetScratch)
                    }
                }
            }
        }
        let same = n == nt && targetPositions.withUnsafeBufferPointer { p in
            targetScratch.positions.withUnsafeBufferPointer { q in
                for k in 0..<n where p[k] != q[k] { return false }
                return true
            }
        }
        if same {
            weight.values.withUnsafeMutableBufferPointer { v in
                targetScratch.values.withUnsafeBufferPointer { s in v.baseAddress!.update(from: s.baseAddress!, count: n) }
            }
            return
        }
        targetScratch.positions.withUnsafeBufferPointer { index.rebuild(positions: UnsafeBufferPointer(rebasing: $0[..<n])) }
        topologyChanged()
        swap(&weight.values, &targetScratch.values)
        weight.values.removeLast(weight.values.count - n)
        weight.zeroMoments()
    }

    /// The plain form of `softUpdateMaintainingSparsity(online:tau:)`, through the array-returning rule (copies of
    /// the positions and values, a fresh index and fresh zero moments when the support changes).
    func softUpdateMaintainingSparsityByCopies(online: SparseLayer, tau: Float) {
        var p = positions
        let changed = NeuralNet.softUpdateMaintainingSparsity(targetPositions: &p, targetValues: &weight.values,
                                                              onlinePositions: online.positions,
                                                              onlineValues: online.weight.values, tau: tau)
        if changed {
            index = SparseIndex(shape: shape, positions: p)
            topologyChanged()
            let z = [Float](repeating: 0, count: p.count)
            weight.replace(values: weight.values, firstMoment: z, secondMoment: z, mask: nil)
        }
    }
}

/// A topology plan on a truly sparse weight tensor (`SparseLayer`, `SparseConv2D`), whose `values[k]` belongs to
/// `positions[k]`: kept connections keep value and moments, new ones get their `grownValues` entry and zero moments
/// (a dropped-and-regrown one keeps its state with `keepRegrown`). Returns the new positions, ascending; the caller
/// rebuilds its index from them.
func applyTrulySparse(_ plan: TopologyPlan, to weight: ParameterTensor, positions: [Position], grownValues: [Float],
                      keepRegrown: Bool) -> [Position] {
    precondition(grownValues.count == plan.grown.count)
    let merge = mergeTopology(oldPositions: positions, plan: plan, keepRegrownState: keepRegrown)
    let n = merge.positions.count
    var w = [Float](repeating: 0, count: n), m = w, v = w
    var g = 0  // index into plan.grown / grownValues, advanced on every grown position in merge order
    let grownSet = plan.grown
    for (j, p) in merge.positions.enumerated() {
        var grownValue: Float = 0
        if g < grownSet.count && grownSet[g] == p { grownValue = grownValues[g]; g += 1 }
        let k = merge.source[j]
        if k < 0 { w[j] = grownValue; continue }  // a new connection: chosen value, zero moments
        w[j] = weight.values[k]; m[j] = weight.firstMoment[k]; v[j] = weight.secondMoment[k]
    }
    weight.replace(values: w, firstMoment: m, secondMoment: v, mask: nil)
    return merge.positions
}
