// Sparsity mathematics, part 3: which connections exist — initial topologies and drop/grow updates.
//
// A topology is a strictly ascending `[Position]`; the values live in a parallel array owned by the layer.
// Nothing here builds a dense fanOut×fanIn array except the gradient-grow criterion (which receives one anyway).

import SparrowCore

// MARK: - Initial topologies

/// Exactly `count` distinct positions drawn uniformly without replacement, ascending.
///
/// The fixed-count masks of RigL (`get_mask_random_numpy`: ⌊s·N⌋ zeros shuffled) and ANF (`initialize_mask` →
/// `grow_set`), for counts from `liveCounts`.
public func randomTopology(shape: LayerShape, count: Int, generator: inout Generator) -> [Position] {
    precondition(count >= 0 && count <= shape.count, "count must be in 0...\(shape.count), got \(count)")
    return sampleAbsent(count: count, excluding: [], total: shape.count, generator: &generator)
}

/// Each position live independently with probability `density` (Sokar's `initializeEpsilonWeightsMask`), ascending.
/// The live count is random (binomial); Sokar fixes the layer's budget to whatever count this draw gives.
/// Uses one `nextDouble()` per position in position order.
public func bernoulliTopology(shape: LayerShape, density: Double, generator: inout Generator) -> [Position] {
    precondition(density >= 0 && density <= 1, "density must be in [0, 1], got \(density)")
    var result = [Position]()
    result.reserveCapacity(Int(density * Double(shape.count) * 1.05) + 16)
    for p in 0..<shape.count where generator.nextDouble() < density {
        result.append(Position(p))
    }
    return result
}

/// `count` positions uniformly without replacement from `0..<total` minus the ascending `excluded`, ascending.
///
/// Sparse case (at most half the positions taken in the end): rejection sampling against a set, ≤ 2 draws per pick
/// on average. Otherwise: enumerate the complement by a merge (O(total)) and take a partial Fisher–Yates shuffle.
private func sampleAbsent(count: Int, excluding excluded: [Position], total: Int,
                          generator: inout Generator) -> [Position] {
    let available = total - excluded.count
    precondition(count >= 0 && count <= available, "cannot pick \(count) of \(available) free positions")
    if count == 0 { return [] }
    var picked = [Position]()
    picked.reserveCapacity(count)
    if 2 * (excluded.count + count) <= total {
        var taken = Set<Position>(minimumCapacity: excluded.count + count)
        for p in excluded { taken.insert(p) }
        while picked.count < count {
            let p = Position(generator.nextInt(below: total))
            if taken.insert(p).inserted { picked.append(p) }
        }
        picked.sort()
    } else {
        var free = [Position]()
        free.reserveCapacity(available)
        var e = 0
        for p in 0..<total {
            if e < excluded.count && Int(excluded[e]) == p { e += 1; continue }
            free.append(Position(p))
        }
        for i in 0..<count {
            let j = i + generator.nextInt(below: available - i)
            free.swapAt(i, j)
        }
        picked = Array(free[0..<count])
        picked.sort()
    }
    return picked
}

// MARK: - Topology updates

/// Which live connections a topology update removes.
public enum DropCriterion: Codable, Equatable, Sendable, CaseIterable, NamedChoice {
    /// The `⌊n·f⌋` live connections with the smallest |w| (RigL `generic_mask_update`; `n` = live count, `f` = drop
    /// fraction, formed in Double). Ties: among equal |w| the higher position is dropped first (the lower one kept,
    /// as `tf.math.top_k` keeps lower indices). NaN weights count as the smallest magnitude. Only live connections
    /// are kept (RigL's top-k over the dense score |w·mask| could keep an absent position when live weights are
    /// exactly 0 — an artefact not reproduced).
    case magnitude
    /// Sokar's SET drop (`changeConnectivitySET`, SOK sparse_utils.py:37-49), signs treated separately. With `nNeg`
    /// negative and `nPos` positive live weights and ζ = drop fraction:
    /// `largestNegative` = the `int((1−ζ)·nNeg)`-th most negative weight (0 if that index is `nNeg`);
    /// `smallestPositive` = entry `int(min(N−1, zStart + ζ·nPos))` of the layer's sorted dense values, where
    /// `zStart = N − nPos` is where the positives begin. Kept: `w < largestNegative` or `w > smallestPositive`
    /// (strict — threshold entries and ties go). So ≈ζ of each sign is dropped (`nNeg − int((1−ζ)nNeg)` negatives,
    /// `⌊ζ·nPos⌋ + 1` positives when `⌊ζ·nPos⌋ < nPos`), plus every live weight that is exactly 0 (Sokar's dense
    /// matrix cannot tell those from absent ones). Assumes the layer has an absent or zero entry (density < 1), as
    /// Sokar's zero-block search does; for a fully dense, all-non-zero layer Sokar's code is ill-defined.
    case signedMagnitude
    /// ANF's drop (`prune_set_only_active`, ANF sparse_utils.py:40-55): threshold `t` = the `int(n·f)`-th smallest |w|
    /// (0-based) among live weights; every live weight with |w| ≤ t goes (so ≥ `int(n·f)+1`, more on ties).
    /// `.magnitude` differs only by that one connection and the tie rule.
    case magnitudeThreshold

    /// Flag and config spelling (`--drop`).
    public var spelling: String {
        switch self {
        case .magnitude: return "magnitude"
        case .signedMagnitude: return "signed"
        case .magnitudeThreshold: return "magnitude-threshold"
        }
    }
}

/// Where a topology update adds connections. Candidates are all positions not kept — including the ones this same
/// update just dropped, as in Sokar (rejection over mask==0), ANF (`grow_set`) and RigL (scores of kept lifted to
/// min−1). Exactly as many are grown as were dropped.
public enum GrowCriterion: Codable, Equatable, Sendable, CaseIterable, NamedChoice {
    /// Uniformly without replacement among the candidates (SET; RigL's SET grow score U(0,1) is the same law).
    case random
    /// The candidates with the largest |∂L/∂w| of the dense gradient (RigL). Ties: lower position first
    /// (`tf.math.top_k`); NaN gradients rank last.
    case gradient

    /// Flag and config spelling (`--grow`).
    public var spelling: String { self == .random ? "random" : "gradient" }
}

/// The outcome of a topology update decision. The new topology is `kept ∪ grown` (disjoint as position sets).
///
/// `grown` may contain a position that was live before and dropped by this very update ("dropped and regrown").
/// RigL (`reinit_when_same=False`), ANF (zero-init only where the old mask was 0) and Sokar (mask re-multiplied) all
/// keep such a connection's old **value**, and RigL and ANF also keep its optimiser moments; only connections that
/// were absent before are new (RigL, ANF: value 0 and zeroed Adam moments). `grownWasLive` and `mergeTopology`
/// tell the two apart.
public struct TopologyPlan: Equatable, Sendable {
    /// Indices into the old positions/weights arrays, ascending.
    public var kept: [Int]
    /// New positions (absent before, or just dropped), ascending.
    public var grown: [Position]

    public init(kept: [Int], grown: [Position]) {
        self.kept = kept
        self.grown = grown
    }

    /// Live count after the update.
    public var liveCount: Int { kept.count + grown.count }
}

/// Decides one topology update of one layer: which live connections to drop and which to grow.
///
/// - Parameters:
///   - positions: current live positions, strictly ascending; `weights` parallel to it.
///   - dropFraction: RigL's drop fraction / Sokar's and ANF's ζ, in [0, 1].
///   - regrow: `false` for Sokar's/ANF's final update ("drop without regrow"): `grown` is empty and the live count
///     falls by the number dropped.
///   - denseGradient: row-major fanOut×fanIn gradient of the loss w.r.t. the dense weight matrix; required for
///     `.gradient` growth when `regrow` is true, ignored otherwise.
/// - Returns: a plan with `kept.count + grown.count == positions.count` when `regrow` is true. For
///   `.signedMagnitude` the number dropped is Sokar's per-sign amount (≈ζ of each sign) and exactly that many are
///   regrown — Sokar regrows `noWeights − kept`, its fixed budget, which equals the current count because every
///   earlier update restored it.
///
/// Cost: O(n log n) to rank the live weights, plus O(grown) expected for `.random` growth in layers at most half
/// full (O(N) otherwise), or O(N log N) over the dense gradient for `.gradient`.
public func planTopologyUpdate(shape: LayerShape, positions: [Position], weights: [Float], dropFraction: Double,
                               drop: DropCriterion, grow: GrowCriterion, regrow: Bool,
                               denseGradient: [Float]?, generator: inout Generator) -> TopologyPlan {
    precondition(positions.count == weights.count,
                 "\(positions.count) positions but \(weights.count) weights")
    precondition(dropFraction >= 0 && dropFraction <= 1, "drop fraction must be in [0, 1], got \(dropFraction)")
    precondition(sparsityPositionsAreValid(positions, in: shape),
                 "positions must be strictly ascending and inside \(shape)")
    let kept: [Int]
    switch drop {
    case .magnitude: kept = keepLargestMagnitudes(weights, dropCount: Int(Double(weights.count) * dropFraction))
    case .signedMagnitude: kept = keepSokarSigned(weights, total: shape.count, zeta: dropFraction)
    case .magnitudeThreshold: kept = keepAboveANFThreshold(weights, zeta: dropFraction)
    }
    guard regrow else { return TopologyPlan(kept: kept, grown: []) }
    return planGrowth(shape: shape, positions: positions, kept: kept, count: positions.count - kept.count, grow: grow,
                      denseGradient: denseGradient, generator: &generator)
}

/// Completes a drop decided elsewhere (`kept`: indices into `positions`, ascending) with `count` grown positions
/// chosen by `grow` among those not kept — a connection dropped by this very update may come back. For methods
/// whose drop is not one of `DropCriterion`'s (GraNet's pruning-then-regeneration); `planTopologyUpdate` ends here.
public func planGrowth(shape: LayerShape, positions: [Position], kept: [Int], count growCount: Int, grow: GrowCriterion,
                       denseGradient: [Float]?, generator: inout Generator) -> TopologyPlan {
    let keptPositions = kept.map { positions[$0] }
    let grown: [Position]
    switch grow {
    case .random:
        grown = sampleAbsent(count: growCount, excluding: keptPositions, total: shape.count, generator: &generator)
    case .gradient:
        guard let g = denseGradient else {
            preconditionFailure("gradient growth needs the dense gradient (fanOut×fanIn = \(shape.count) values)")
        }
        precondition(g.count == shape.count, "dense gradient has \(g.count) values, the layer \(shape.count)")
        grown = largestGradientPositions(g, count: growCount, excluding: keptPositions)
    }
    return TopologyPlan(kept: kept, grown: grown)
}

/// Magnitude used for ranking: NaN ranks below everything.
@inline(__always) private func rankMagnitude(_ w: Float) -> Float { w.isNaN ? -1 : abs(w) }

/// Indices (ascending) of all but the `dropCount` smallest |w|; on ties the higher index is dropped first.
private func keepLargestMagnitudes(_ weights: [Float], dropCount: Int) -> [Int] {
    let n = weights.count
    let d = min(max(dropCount, 0), n)
    if d == 0 { return Array(0..<n) }
    var order = Array(0..<n)
    order.sort { a, b in
        let ma = rankMagnitude(weights[a]), mb = rankMagnitude(weights[b])
        return ma != mb ? ma < mb : a > b
    }
    var kept = Array(order[d...])
    kept.sort()
    return kept
}

/// Sokar's per-sign thresholds on the layer's sorted dense values (see `DropCriterion.signedMagnitude`).
private func keepSokarSigned(_ weights: [Float], total: Int, zeta: Double) -> [Int] {
    var negatives = [Float](), positives = [Float]()
    for w in weights {
        if w < 0 { negatives.append(w) } else if w > 0 { positives.append(w) }
    }
    negatives.sort()   // most negative first, as in the sorted dense values
    positives.sort()
    let nNeg = negatives.count, nPos = positives.count
    // values[int((1 - zeta) * firstZeroPos)], firstZeroPos = nNeg (start of the zero block).
    let negIndex = Int((1 - zeta) * Double(nNeg))
    let largestNegative: Float = negIndex < nNeg ? negatives[negIndex] : 0
    // values[int(min(N - 1, lastZeroPos + zeta * (N - lastZeroPos)))], lastZeroPos = N - nPos.
    let zStart = total - nPos
    let posIndex = Int(min(Double(total - 1), Double(zStart) + zeta * Double(nPos)))
    let smallestPositive: Float = posIndex >= zStart ? positives[posIndex - zStart] : 0
    var kept = [Int]()
    kept.reserveCapacity(weights.count)
    for (i, w) in weights.enumerated() where w < largestNegative || (nPos > 0 && w > smallestPositive) {
        kept.append(i)
    }
    return kept
}

/// ANF: drop every live |w| ≤ the `int(n·ζ)`-th smallest |w|.
private func keepAboveANFThreshold(_ weights: [Float], zeta: Double) -> [Int] {
    let n = weights.count
    if n == 0 { return [] }
    let sorted = weights.map { rankMagnitude($0) }.sorted()
    let threshold = sorted[min(n - 1, Int(Double(n) * zeta))]
    var kept = [Int]()
    kept.reserveCapacity(n)
    for (i, w) in weights.enumerated() where rankMagnitude(w) > threshold { kept.append(i) }
    return kept
}

/// The `count` positions outside `excluded` (ascending) with the largest |g|, ascending; ties → lower position.
private func largestGradientPositions(_ gradient: [Float], count: Int, excluding excluded: [Position]) -> [Position] {
    if count == 0 { return [] }
    var candidates = [Int32]()
    candidates.reserveCapacity(gradient.count - excluded.count)
    var e = 0
    for p in 0..<gradient.count {
        if e < excluded.count && Int(excluded[e]) == p { e += 1; continue }
        candidates.append(Int32(p))
    }
    precondition(count <= candidates.count, "cannot grow \(count) of \(candidates.count) free positions")
    candidates.sort { a, b in
        let ga = rankMagnitude(gradient[Int(a)]), gb = rankMagnitude(gradient[Int(b)])
        return ga != gb ? ga > gb : a < b
    }
    var grown = Array(candidates[0..<count])
    grown.sort()
    return grown
}

// MARK: - Applying a plan

/// For each position of `plan.grown`, whether it was live in `oldPositions` (dropped and regrown by this update).
/// RigL/ANF/Sokar keep the old value (and RigL/ANF the optimiser moments) of such connections.
public func grownWasLive(oldPositions: [Position], plan: TopologyPlan) -> [Bool] {
    var result = [Bool]()
    result.reserveCapacity(plan.grown.count)
    var i = 0
    for p in plan.grown {
        while i < oldPositions.count && oldPositions[i] < p { i += 1 }
        result.append(i < oldPositions.count && oldPositions[i] == p)
    }
    return result
}

/// The new topology of a plan as one ascending array, with where each entry's state comes from.
public struct TopologyMerge: Equatable, Sendable {
    /// New live positions, strictly ascending (`kept ∪ grown`).
    public var positions: [Position]
    /// Parallel to `positions`: the index in the old arrays whose value/optimiser state to carry over, or −1 for a new
    /// connection (initialise its value, e.g. to 0, and its Adam moments to 0).
    public var source: [Int]
}

/// Merges a plan into a new sorted topology and a gather map from the old arrays.
///
/// - Parameter keepRegrownState: `true` (RigL `reinit_when_same=False`, ANF, Sokar): a dropped-and-regrown position
///   points back at its old index; `false`: it is treated as a new connection (RigL `reinit_when_same=True`).
public func mergeTopology(oldPositions: [Position], plan: TopologyPlan, keepRegrownState: Bool = true) -> TopologyMerge {
    let wasLive = keepRegrownState ? grownWasLive(oldPositions: oldPositions, plan: plan)
                                   : [Bool](repeating: false, count: plan.grown.count)
    var positions = [Position](), source = [Int]()
    positions.reserveCapacity(plan.liveCount)
    source.reserveCapacity(plan.liveCount)
    var k = 0, g = 0, o = 0
    while k < plan.kept.count || g < plan.grown.count {
        let takeKept: Bool
        if k == plan.kept.count { takeKept = false }
        else if g == plan.grown.count { takeKept = true }
        else { takeKept = oldPositions[plan.kept[k]] < plan.grown[g] }
        if takeKept {
            positions.append(oldPositions[plan.kept[k]])
            source.append(plan.kept[k])
            k += 1
        } else {
            let p = plan.grown[g]
            positions.append(p)
            if wasLive[g] {
                while oldPositions[o] < p { o += 1 }
                source.append(o)
            } else {
                source.append(-1)
            }
            g += 1
        }
    }
    return TopologyMerge(positions: positions, source: source)
}

// MARK: - Gradual magnitude pruning (Zhu & Gupta)

/// Indices (ascending) of the `targetCount` live weights with the largest |w|; ties keep the lower position.
/// `targetCount ≥ positions.count` keeps everything. For the count use `pruningTargetCount`.
public func planMagnitudePruning(positions: [Position], weights: [Float], targetCount: Int) -> [Int] {
    precondition(positions.count == weights.count, "\(positions.count) positions but \(weights.count) weights")
    precondition(targetCount >= 0, "target count must be ≥ 0, got \(targetCount)")
    return keepLargestMagnitudes(weights, dropCount: positions.count - min(targetCount, positions.count))
}
