// Sparsity mathematics, part 2: how many connections each layer gets.
//
// Three reference procedures, reproduced including their rounding:
//   • ANF `compute_sparsity_per_layer` (bramgrooten/automatic-noise-filtering, utils/sparse_utils.py:179-283)
//     for `.uniform` and `.erdosRenyi`;
//   • RigL `get_sparsities_erdos_renyi` (google-research/rigl, rigl/sparse_utils.py:90-207) for `.erdosRenyiKernel`;
//   • Sokar's ER-ε (GhadaSokar/Dynamic-Sparse-Training-for-Deep-Reinforcement-Learning, sparse_utils.py:3-14)
//     for `erdosRenyiEpsilonDensity`.

import SparrowCore

/// How an overall sparsity target is spread over a network's layers.
public enum SparsityDistribution: Codable, Equatable, Sendable {
    /// Every sparse layer gets the same sparsity; forced-dense layers are paid for by the others
    /// (ANF `method='uniform'`: 90 % on 23-256-256-1 with a dense output gives 90.3 % / 90.3 % / 0 %).
    case uniform
    /// Erdős–Rényi: keep-probability ∝ (n_in+n_out)/(n_in·n_out), scaled to the target (ANF `method='ER'`);
    /// layers whose probability would exceed 1 become dense (all at once) and the rest are rescaled.
    case erdosRenyi
    /// Erdős–Rényi-Kernel as RigL: same raw probability (for dense layers ERK = ER), ε solved with RigL's floor
    /// rounding; the layer(s) with the largest raw probability become dense one round at a time while ε·p > 1.
    case erdosRenyiKernel
}

/// How densities become live-connection counts.
public enum LiveCountRounding: Codable, Equatable, Sendable {
    /// RigL `get_n_zeros`: `N − ⌊s·N⌋` with `s = 1 − density` (exact count, rounds the live count up).
    case rigl
    /// ANF `initialize_mask`: `int((1 − s)·N)` with `s = 1 − density` (rounds the live count down).
    case anf
}

/// Per-layer densities (fraction of live weights, 1 = dense) for a network reaching `sparsity` overall.
///
/// The overall target is taken over **all** layers in `shapes`, counting forced-dense layers as dense — this is what
/// both reference codes do (ANF's `keep_dense`, RigL's `dense_layers`), e.g. "90 % sparse critic with a dense output
/// layer". To leave a layer out of the budget entirely, do not pass it.
///
/// - `.uniform`, `.erdosRenyi`: ANF's procedure. `needed = round(density·ΣN)` (round half to even, as Python),
///   minus the dense layers' weights; raw probabilities `p_l` (uniform: the target density; ER:
///   (n_in+n_out)/(n_in·n_out)) are scaled by `needed / Σ round(p_l·N_l)`; every layer with `p > 1` becomes dense
///   and the computation repeats. Pair with `liveCounts(..., rounding: .anf)` for ANF's exact counts.
/// - `.erdosRenyiKernel`: RigL's procedure. `ε = (Σ_sparse (N − ⌊s·N⌋) − Σ_dense ⌊s·N⌋) / Σ_sparse p·N`; while
///   `max p·ε > 1` the layers with the maximal raw `p` become dense. Density = `ε·p`. Pair with
///   `liveCounts(..., rounding: .rigl)` for RigL's exact counts (90 % SAC HalfCheetah actor 17-256-256-12:
///   56.5 % / 94.6 % / 39.5 %, 7300 live; critic 23-256-256-1: 58.6 % / 93.2 % / 0 %, 7170 live).
///
/// `sparsity == 0` gives every layer density 1. Throws when `sparsity ∉ [0, 1)`, when `dense` names a missing layer,
/// or when the target cannot be met (the dense layers alone exceed the budget, or a layer would get < 1 connection).
public func layerDensities(shapes: [LayerShape], sparsity: Double, distribution: SparsityDistribution,
                           dense: Set<Int> = []) throws -> [Double] {
    guard !shapes.isEmpty else { throw SparsityError("layerDensities needs at least one layer shape") }
    guard sparsity >= 0, sparsity < 1 else {
        throw SparsityError("sparsity must be in [0, 1), got \(sparsity)")
    }
    for i in dense where !(0..<shapes.count).contains(i) {
        throw SparsityError("dense layer index \(i) is out of range 0..<\(shapes.count)")
    }
    if sparsity == 0 { return Array(repeating: 1, count: shapes.count) }
    switch distribution {
    case .uniform, .erdosRenyi:
        return try anfLayerDensities(shapes: shapes, sparsity: sparsity, erdosRenyi: distribution == .erdosRenyi,
                                     dense: dense)
    case .erdosRenyiKernel:
        return try riglERKDensities(shapes: shapes, sparsity: sparsity, dense: dense)
    }
}

/// Erdős–Rényi raw keep-probability `(n_in + n_out) / (n_in · n_out)`, computed as both references do; for a
/// convolution RigL's Erdős–Rényi-Kernel Σ dims / Π dims over [KH, KW, C_in, C_out] (`riglERKRawProbability`).
@inline(__always) private func erdosRenyiRaw(_ s: LayerShape) -> Double {
    if s.kernel != nil { return riglERKRawProbability(dimensions: s.tensorDimensions) }
    return Double(s.fanIn + s.fanOut) / Double(s.fanIn * s.fanOut)
}

/// ANF `compute_sparsity_per_layer` without the fixed-input-layer option.
private func anfLayerDensities(shapes: [LayerShape], sparsity: Double, erdosRenyi: Bool,
                               dense: Set<Int>) throws -> [Double] {
    var isDense = shapes.indices.map { dense.contains($0) }
    let total = shapes.reduce(0) { $0 + $1.count }
    let globalDensity = 1 - sparsity
    let needed = Int((globalDensity * Double(total)).rounded(.toNearestOrEven))
    while true {
        var neededSparse = needed
        var probabilities = [Double](repeating: 1, count: shapes.count)
        for (i, s) in shapes.enumerated() {
            if isDense[i] {
                neededSparse -= s.count
            } else {
                probabilities[i] = erdosRenyi ? erdosRenyiRaw(s) : globalDensity
            }
        }
        var current = 0
        for (i, s) in shapes.enumerated() where !isDense[i] {
            current += Int((probabilities[i] * Double(s.count)).rounded(.toNearestOrEven))
        }
        guard current > 0 else {
            throw SparsityError("sparsity \(sparsity) is impossible: every layer is dense (dense: \(dense.sorted()))")
        }
        let adjustment = Double(neededSparse) / Double(current)
        for i in shapes.indices where !isDense[i] { probabilities[i] *= adjustment }
        var again = false
        for (i, s) in shapes.enumerated() {
            if probabilities[i] > 1 {
                isDense[i] = true
                again = true
            } else if probabilities[i] < 1 / Double(s.count) {
                throw SparsityError(
                    "sparsity \(sparsity) is impossible: layer \(i) (\(s)) would get fewer than one connection "
                    + "(the \(isDense.filter { $0 }.count) dense layer(s) use \(needed - neededSparse) of the "
                    + "\(needed) allowed live weights)")
            }
        }
        if !again { return probabilities }
    }
}

/// RigL `get_sparsities_erdos_renyi` (power scale 1, no custom sparsities).
private func riglERKDensities(shapes: [LayerShape], sparsity: Double, dense: Set<Int>) throws -> [Double] {
    var denseLayers = dense
    while true {
        var divisor = 0.0
        var rhs = 0.0
        var raw = [Int: Double]()
        for (i, s) in shapes.enumerated() {
            let n = s.count
            let zeros = Int((sparsity * Double(n)).rounded(.down))
            if denseLayers.contains(i) {
                rhs -= Double(zeros)
            } else {
                rhs += Double(n - zeros)
                let p = erdosRenyiRaw(s)
                raw[i] = p
                divisor += p * Double(n)
            }
        }
        guard let maxRaw = raw.values.max() else {
            throw SparsityError("sparsity \(sparsity) is impossible: every layer is dense (dense: \(dense.sorted()))")
        }
        let epsilon = rhs / divisor
        guard epsilon > 0 else {
            throw SparsityError(
                "sparsity \(sparsity) is impossible with ERK: the dense layers \(denseLayers.sorted()) alone exceed "
                + "the live-weight budget")
        }
        if maxRaw * epsilon > 1 {
            for (i, p) in raw where p == maxRaw { denseLayers.insert(i) }
            continue
        }
        return shapes.indices.map { i in denseLayers.contains(i) ? 1 : epsilon * raw[i]! }
    }
}

/// Sokar's ER-ε density `min(1, ε·(n_in + n_out)/(n_in·n_out))` (one ε per layer: λ1 for the first, λ2 for the
/// second). λ2 = 64 on 256→256 gives 0.50; λ1 = 7 on HalfCheetah's 17→256 actor input gives 0.439.
/// Sokar samples the mask i.i.d. with this keep-probability: use `bernoulliTopology`.
public func erdosRenyiEpsilonDensity(shape: LayerShape, epsilon: Double) -> Double {
    precondition(epsilon >= 0, "ε must be ≥ 0, got \(epsilon)")
    return min(1, epsilon * erdosRenyiRaw(shape))
}

/// Live-connection counts from densities.
///
/// - `.rigl` (default): `N − ⌊(1 − d)·N⌋`, RigL's `get_mask_random_numpy` (the sparsity `1 − d` is formed exactly as
///   RigL forms it from ε·p, so ERK counts match RigL bit for bit).
/// - `.anf`: `int((1 − (1 − d))·N)`, ANF's `initialize_mask` applied to ANF's returned sparsity `1 − d`.
/// Density 1 always gives `N`; a count never exceeds `N` or goes below 0.
public func liveCounts(shapes: [LayerShape], densities: [Double], rounding: LiveCountRounding = .rigl) -> [Int] {
    precondition(shapes.count == densities.count, "\(shapes.count) shapes but \(densities.count) densities")
    return zip(shapes, densities).map { shape, density in
        precondition(density >= 0 && density <= 1, "density must be in [0, 1], got \(density)")
        let n = shape.count
        let s = 1 - density
        let live: Int
        switch rounding {
        case .rigl: live = n - Int((s * Double(n)).rounded(.down))
        case .anf: live = Int(((1 - s) * Double(n)).rounded(.towardZero))
        }
        return min(n, max(0, live))
    }
}

/// Sparsities of the actor and of the critic(s) for a given overall sparsity and live-parameter ratio.
public struct ActorCriticSparsity: Codable, Equatable, Sendable {
    /// Overall sparsity to request for the actor network (pass to `layerDensities` with the actor's layers).
    public var actor: Double
    /// Overall sparsity to request for each critic network.
    public var critic: Double
    /// Live weights the split allots to the actor and to all critics together.
    public var actorLive: Int
    public var criticLive: Int
}

/// Splits one live-weight budget between actor and critic (Graesser et al. 2022 vary this split at a fixed total and
/// find that giving the critic a larger share helps).
///
/// - Parameters:
///   - actor: the actor's weight layers.
///   - critic: the weight layers of **all** critic networks together (both Q networks for SAC/TD3); every critic
///     network then gets the same sparsity.
///   - sparsity: overall sparsity over actor + critics (weights only, as Sokar counts parameters).
///   - actorToCriticRatio: live actor weights : live critic weights (all critics). `nil` keeps the natural ratio
///     (dense actor : dense critics), i.e. actor and critic get the same sparsity.
/// The total `L = round((1 − sparsity)·(N_actor + N_critic))` is split as `actorLive = round(L·r/(1+r))`,
/// `criticLive = L − actorLive`; each network's sparsity is `1 − live/N`. Throws when a network would need more
/// live weights than it has, or none.
public func actorCriticSparsity(actor: [LayerShape], critic: [LayerShape], sparsity: Double,
                                actorToCriticRatio: Double? = nil) throws -> ActorCriticSparsity {
    guard sparsity >= 0, sparsity < 1 else { throw SparsityError("sparsity must be in [0, 1), got \(sparsity)") }
    guard !actor.isEmpty, !critic.isEmpty else { throw SparsityError("actor and critic need at least one layer each") }
    let nActor = actor.reduce(0) { $0 + $1.count }
    let nCritic = critic.reduce(0) { $0 + $1.count }
    let ratio = actorToCriticRatio ?? Double(nActor) / Double(nCritic)
    guard ratio > 0, ratio.isFinite else {
        throw SparsityError("actor:critic ratio must be a positive finite number, got \(ratio)")
    }
    let total = Int(((1 - sparsity) * Double(nActor + nCritic)).rounded(.toNearestOrEven))
    let actorLive = Int((Double(total) * ratio / (1 + ratio)).rounded(.toNearestOrEven))
    let criticLive = total - actorLive
    guard actorLive > 0, actorLive <= nActor else {
        throw SparsityError("actor:critic ratio \(ratio) at sparsity \(sparsity) gives the actor \(actorLive) live "
                            + "weights; it has \(nActor) (valid: 1...\(nActor))")
    }
    guard criticLive > 0, criticLive <= nCritic else {
        throw SparsityError("actor:critic ratio \(ratio) at sparsity \(sparsity) gives the critics \(criticLive) live "
                            + "weights; they have \(nCritic) (valid: 1...\(nCritic))")
    }
    return ActorCriticSparsity(actor: 1 - Double(actorLive) / Double(nActor),
                               critic: 1 - Double(criticLive) / Double(nCritic),
                               actorLive: actorLive, criticLive: criticLive)
}
