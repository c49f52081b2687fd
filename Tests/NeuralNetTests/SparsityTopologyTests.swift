import XCTest
import SparrowCore
@testable import NeuralNet

// MARK: - Naive dense twins of the reference procedures (held against the sparse implementations)

/// SOK sparse_utils.py `changeConnectivitySET`, drop half, transcribed over the dense matrix: returns kept positions.
func sparsityTestSokarDenseKeep(shape: LayerShape, positions: [Position], weights: [Float], zeta: Double) -> [Position] {
    var dense = [Float](repeating: 0, count: shape.count)
    for (p, w) in zip(positions, weights) { dense[Int(p)] = w }
    let values = dense.sorted()
    let n = values.count
    var firstZeroPos = 0, best = Float.infinity
    for (i, v) in values.enumerated() where abs(v) < best { best = abs(v); firstZeroPos = i }   // first argmin
    var reversedIndex = 0
    best = .infinity
    for (i, v) in values.reversed().enumerated() where abs(v) < best { best = abs(v); reversedIndex = i }
    let lastZeroPos = n - reversedIndex
    let largestNegative = values[Int((1 - zeta) * Double(firstZeroPos))]
    let smallestPositive = values[Int(min(Double(n - 1), Double(lastZeroPos) + zeta * Double(n - lastZeroPos)))]
    return positions.indices.filter { weights[$0] > smallestPositive || weights[$0] < largestNegative }
        .map { positions[$0] }
}

/// ANF `prune_set_only_active`: kept positions.
func sparsityTestANFKeep(positions: [Position], weights: [Float], zeta: Double) -> [Position] {
    let sorted = weights.map { abs($0) }.sorted()
    let threshold = sorted[Int(Double(weights.count) * zeta)]
    return positions.indices.filter { abs(weights[$0]) > threshold }.map { positions[$0] }
}

/// RigL `generic_mask_update` drop half: keep the top `n − int(n·f)` by |w| in a stable descending order (lower
/// position first on ties). Restricted to live positions (RigL's dense top-k could pick absent ones when live weights
/// are exactly 0; ours never does).
func sparsityTestRigLKeep(shape: LayerShape, positions: [Position], weights: [Float], fraction: Double) -> [Position] {
    let nKeep = positions.count - Int(Double(positions.count) * fraction)
    let order = positions.indices.sorted {
        abs(weights[$0]) != abs(weights[$1]) ? abs(weights[$0]) > abs(weights[$1]) : positions[$0] < positions[$1]
    }
    return order[0..<nKeep].map { positions[$0] }.sorted()
}

/// Random live weights with some exact zeros and ties mixed in (the cases where thresholds differ).
func sparsityTestWeights(_ n: Int, generator g: inout Generator, zeros: Bool = true, ties: Bool = true) -> [Float] {
    (0..<n).map { _ in
        let u = g.nextDouble()
        if zeros && u < 0.02 { return 0 }
        if ties && u < 0.06 { return [Float(0.125), -0.125, 0.5][g.nextInt(below: 3)] }
        return Float(g.normal() * 0.1)
    }
}

final class SparsityTopologyTests: XCTestCase {
    // MARK: Initial topologies

    func testRandomTopologyExactCountSortedUniqueInRange() {
        var g = Generator(seed: 1)
        for shape in [LayerShape(fanIn: 17, fanOut: 256), LayerShape(fanIn: 256, fanOut: 256), LayerShape(fanIn: 3, fanOut: 2)] {
            for density in [0.0, 0.01, 0.1, 0.5, 0.7, 0.99, 1.0] {
                let count = Int(density * Double(shape.count))
                let t = randomTopology(shape: shape, count: count, generator: &g)
                XCTAssertEqual(t.count, count)
                XCTAssert(sparsityPositionsAreValid(t, in: shape), "\(shape) \(density)")
            }
        }
    }

    func testRandomTopologyIsUniformInBothSamplingRegimes() {
        // 40 positions; 8 (rejection path) and 32 (complement path) picks. Each position's frequency ≈ k/40.
        let shape = LayerShape(fanIn: 8, fanOut: 5)
        for k in [8, 32] {
            var g = Generator(seed: UInt64(k))
            var hits = [Int](repeating: 0, count: shape.count)
            let trials = 20_000
            for _ in 0..<trials { for p in randomTopology(shape: shape, count: k, generator: &g) { hits[Int(p)] += 1 } }
            let expected = Double(trials * k) / Double(shape.count)
            let sd = (expected * (1 - Double(k) / Double(shape.count))).squareRoot()
            for h in hits { XCTAssertEqual(Double(h), expected, accuracy: 5 * sd, "k = \(k)") }
        }
    }

    func testRandomTopologySeeding() {
        let shape = LayerShape(fanIn: 256, fanOut: 256)
        var a = Generator(seed: 5), b = Generator(seed: 5), c = Generator(seed: 6)
        let ta = randomTopology(shape: shape, count: 6554, generator: &a)
        XCTAssertEqual(ta, randomTopology(shape: shape, count: 6554, generator: &b))
        XCTAssertNotEqual(ta, randomTopology(shape: shape, count: 6554, generator: &c))
    }

    func testBernoulliTopologyCountAndOrder() {
        var g = Generator(seed: 2)
        let shape = LayerShape(fanIn: 256, fanOut: 256)
        let density = erdosRenyiEpsilonDensity(shape: shape, epsilon: 64)
        var counts = [Int]()
        for _ in 0..<20 {
            let t = bernoulliTopology(shape: shape, density: density, generator: &g)
            XCTAssert(sparsityPositionsAreValid(t, in: shape))
            counts.append(t.count)
        }
        let n = Double(shape.count)
        let sd = (n * density * (1 - density)).squareRoot()
        for c in counts { XCTAssertEqual(Double(c), n * density, accuracy: 5 * sd) }
        XCTAssertGreaterThan(Set(counts).count, 1, "the count is random, not fixed")
        XCTAssertEqual(bernoulliTopology(shape: shape, density: 1, generator: &g).count, shape.count)
        XCTAssertEqual(bernoulliTopology(shape: shape, density: 0, generator: &g).count, 0)
    }

    // MARK: Drop / grow invariants

    private let drops: [DropCriterion] = [.magnitude, .signedMagnitude, .magnitudeThreshold]
    private let grows: [GrowCriterion] = [.random, .gradient]

    /// Many chained updates per combination; every plan is checked against the twins and the invariants.
    func testTopologyUpdateInvariantsForEveryCombination() {
        let shapes = [LayerShape(fanIn: 17, fanOut: 256), LayerShape(fanIn: 256, fanOut: 256),
                      LayerShape(fanIn: 6, fanOut: 5)]
        for drop in drops { for grow in grows { for shape in shapes {
            var g = Generator(seed: UInt64(shape.count))
            let density = shape.count < 100 ? 0.4 : 0.1
            var positions = randomTopology(shape: shape, count: Int(density * Double(shape.count)), generator: &g)
            var weights = sparsityTestWeights(positions.count, generator: &g)
            let budget = positions.count
            for update in 0..<25 {
                let fraction = [0.05, 0.1, 0.3, 0.5][update % 4]
                let gradient = (0..<shape.count).map { _ in Float(g.normal()) }
                let plan = planTopologyUpdate(shape: shape, positions: positions, weights: weights,
                                              dropFraction: fraction, drop: drop, grow: grow, regrow: true,
                                              denseGradient: gradient, generator: &g)
                let label = "\(drop) \(grow) \(shape) update \(update)"
                checkPlanInvariants(plan, shape: shape, positions: positions, label: label)
                XCTAssertEqual(plan.liveCount, budget, "live count restored exactly: \(label)")

                // Dropped are exactly what the reference procedure drops.
                let kept = plan.kept.map { positions[$0] }
                switch drop {
                case .magnitude:
                    XCTAssertEqual(kept, sparsityTestRigLKeep(shape: shape, positions: positions, weights: weights,
                                                              fraction: fraction), label)
                    let droppedIdx = Set(positions.indices).subtracting(plan.kept)
                    let maxDropped = droppedIdx.map { abs(weights[$0]) }.max() ?? 0
                    let minKept = plan.kept.map { abs(weights[$0]) }.min() ?? .infinity
                    XCTAssertLessThanOrEqual(maxDropped, minKept, label)
                    XCTAssertEqual(droppedIdx.count, Int(Double(positions.count) * fraction), label)
                case .signedMagnitude:
                    XCTAssertEqual(kept, sparsityTestSokarDenseKeep(shape: shape, positions: positions,
                                                                    weights: weights, zeta: fraction), label)
                    // Per sign: every dropped negative is closer to 0 than every kept negative; same for positives.
                    let droppedIdx = Set(positions.indices).subtracting(plan.kept)
                    let dn = droppedIdx.map { weights[$0] }.filter { $0 < 0 }
                    let kn = plan.kept.map { weights[$0] }.filter { $0 < 0 }
                    let dp = droppedIdx.map { weights[$0] }.filter { $0 > 0 }
                    let kp = plan.kept.map { weights[$0] }.filter { $0 > 0 }
                    if let a = dn.min(), let b = kn.max() { XCTAssertGreaterThan(a, b, label) }
                    if let a = dp.max(), let b = kp.min() { XCTAssertLessThan(a, b, label) }
                    XCTAssertFalse(plan.kept.contains { weights[$0] == 0 }, "live zeros are dropped: \(label)")
                case .magnitudeThreshold:
                    XCTAssertEqual(kept, sparsityTestANFKeep(positions: positions, weights: weights, zeta: fraction),
                                   label)
                }
                if grow == .gradient {
                    // The grown are the largest |g| among all positions not kept (just-dropped included).
                    let keptSet = Set(kept), grownSet = Set(plan.grown)
                    let minGrown = plan.grown.map { abs(gradient[Int($0)]) }.min() ?? .infinity
                    for p in 0..<shape.count where !keptSet.contains(Position(p)) && !grownSet.contains(Position(p)) {
                        XCTAssertLessThanOrEqual(abs(gradient[p]), minGrown, label)
                    }
                }
                // Apply: kept values stay, new connections start at 0 (RigL/ANF), regrown-same keep their value.
                let merge = mergeTopology(oldPositions: positions, plan: plan)
                positions = merge.positions
                weights = merge.source.map { $0 >= 0 ? weights[$0] : 0 }
                // Let "training" move the weights.
                weights = weights.map { $0 + Float(g.normal() * 0.05) }
                for i in weights.indices where g.nextDouble() < 0.03 { weights[i] = 0 }
            }
        } } }
    }

    private func checkPlanInvariants(_ plan: TopologyPlan, shape: LayerShape, positions: [Position], label: String) {
        XCTAssert(zip(plan.kept, plan.kept.dropFirst()).allSatisfy { $0 < $1 }, "kept ascending, unique: \(label)")
        XCTAssert(plan.kept.allSatisfy { $0 >= 0 && $0 < positions.count }, "kept in range: \(label)")
        XCTAssert(sparsityPositionsAreValid(plan.grown, in: shape), "grown ascending, unique, in range: \(label)")
        let kept = Set(plan.kept.map { positions[$0] })
        XCTAssert(plan.grown.allSatisfy { !kept.contains($0) }, "grown never previously kept: \(label)")
        let merged = (Array(kept) + plan.grown).sorted()
        XCTAssert(sparsityPositionsAreValid(merged, in: shape), "no duplicates after the update: \(label)")
    }

    func testFinalDropWithoutRegrowReducesByTheDropAmount() {
        let shape = LayerShape(fanIn: 256, fanOut: 256)
        for drop in drops {
            var g = Generator(seed: 3)
            let positions = randomTopology(shape: shape, count: 6554, generator: &g)
            let weights = sparsityTestWeights(positions.count, generator: &g, zeros: false, ties: false)
            let plan = planTopologyUpdate(shape: shape, positions: positions, weights: weights, dropFraction: 0.05,
                                          drop: drop, grow: .random, regrow: false, denseGradient: nil, generator: &g)
            XCTAssertTrue(plan.grown.isEmpty)
            let dropped = positions.count - plan.kept.count
            switch drop {
            case .magnitude: XCTAssertEqual(dropped, Int(6554 * 0.05))
            case .magnitudeThreshold: XCTAssertEqual(dropped, Int(6554 * 0.05) + 1)
            case .signedMagnitude:
                let nNeg = weights.filter { $0 < 0 }.count, nPos = weights.filter { $0 > 0 }.count
                XCTAssertEqual(dropped, (nNeg - Int((1 - 0.05) * Double(nNeg))) + (Int(0.05 * Double(nPos)) + 1))
            }
            // The same update with regrow drops the same connections and grows them back.
            var h = Generator(seed: 4)
            let regrown = planTopologyUpdate(shape: shape, positions: positions, weights: weights, dropFraction: 0.05,
                                             drop: drop, grow: .random, regrow: true, denseGradient: nil, generator: &h)
            XCTAssertEqual(regrown.kept, plan.kept)
            XCTAssertEqual(regrown.grown.count, dropped)
        }
    }

    func testSokarSignedDropWorkedExample() {
        // 10×10 layer, 20 negative and 20 positive live weights, ζ = 0.05: Sokar drops values[int(0.95·20)] = the
        // negative closest to 0 (1 weight) and positives up to values[int(80 + 0.05·20)] = the 2 smallest positives.
        let shape = LayerShape(fanIn: 10, fanOut: 10)
        let positions = (0..<40).map { Position($0 * 2) }
        let weights = (0..<40).map { i -> Float in i < 20 ? -Float(i + 1) : Float(i - 19) }   // −1…−20, 1…20
        var g = Generator(seed: 1)
        let plan = planTopologyUpdate(shape: shape, positions: positions, weights: weights, dropFraction: 0.05,
                                      drop: .signedMagnitude, grow: .random, regrow: false, denseGradient: nil,
                                      generator: &g)
        let dropped = Set(positions.indices).subtracting(plan.kept).map { weights[$0] }.sorted()
        XCTAssertEqual(dropped, [-1, 1, 2])
    }

    func testMagnitudeTiesKeepTheLowerPosition() {
        let shape = LayerShape(fanIn: 4, fanOut: 4)
        var g = Generator(seed: 1)
        let plan = planTopologyUpdate(shape: shape, positions: [1, 3, 5, 7], weights: [0.5, -0.5, 0.5, 2],
                                      dropFraction: 0.5, drop: .magnitude, grow: .random, regrow: false,
                                      denseGradient: nil, generator: &g)
        XCTAssertEqual(plan.kept, [0, 3])
        let pruned = planMagnitudePruning(positions: [1, 3, 5, 7], weights: [0.5, -0.5, 0.5, 2], targetCount: 3)
        XCTAssertEqual(pruned, [0, 1, 3])
        XCTAssertEqual(planMagnitudePruning(positions: [1, 3], weights: [1, 2], targetCount: 5), [0, 1])
    }

    func testGradientGrowthPicksTheLargestAbsentGradientsIncludingJustDropped() {
        // 2×3 layer, live {0, 1, 2}; dropping one (the smallest, position 1) with the largest gradient at 1 regrows it.
        let shape = LayerShape(fanIn: 3, fanOut: 2)
        var g = Generator(seed: 1)
        let gradient: [Float] = [9, 8, 9, -0.5, 0.1, -0.2]
        let plan = planTopologyUpdate(shape: shape, positions: [0, 1, 2], weights: [1, 0.1, -1], dropFraction: 0.34,
                                      drop: .magnitude, grow: .gradient, regrow: true, denseGradient: gradient,
                                      generator: &g)
        XCTAssertEqual(plan.kept, [0, 2])
        XCTAssertEqual(plan.grown, [1])
        XCTAssertEqual(grownWasLive(oldPositions: [0, 1, 2], plan: plan), [true])
        let merge = mergeTopology(oldPositions: [0, 1, 2], plan: plan)
        XCTAssertEqual(merge.positions, [0, 1, 2])
        XCTAssertEqual(merge.source, [0, 1, 2], "dropped-and-regrown keeps its old value")
        XCTAssertEqual(mergeTopology(oldPositions: [0, 1, 2], plan: plan, keepRegrownState: false).source, [0, -1, 2])
        // Without position 1 being dropped, the largest absent |g| is position 3 (|−0.5|).
        let plan2 = planTopologyUpdate(shape: shape, positions: [0, 1, 2], weights: [0.1, 1, -1], dropFraction: 0.34,
                                       drop: .magnitude, grow: .gradient, regrow: true, denseGradient: gradient,
                                       generator: &g)
        XCTAssertEqual(plan2.kept, [1, 2])
        XCTAssertEqual(plan2.grown, [0], "the just-dropped position 0 has |g| = 9 and is eligible")
        // Ties on |g| go to the lower position.
        let plan3 = planTopologyUpdate(shape: shape, positions: [3, 4, 5], weights: [1, 2, 3], dropFraction: 0.34,
                                       drop: .magnitude, grow: .gradient, regrow: true,
                                       denseGradient: [1, 1, 1, 0, 0, 0], generator: &g)
        XCTAssertEqual(plan3.grown, [0])
    }

    func testRandomGrowthTreatsJustDroppedAsEligible() {
        // 4×4 layer, 8 live, drop 2 → 10 candidates (8 absent + 2 just dropped), grow 2: each candidate with p = 0.2.
        let shape = LayerShape(fanIn: 4, fanOut: 4)
        let positions: [Position] = [0, 1, 2, 3, 4, 5, 6, 7]
        let weights: [Float] = [0.01, 0.02, 1, 1.1, 1.2, 1.3, 1.4, 1.5]
        var g = Generator(seed: 9)
        var regrownSame = [0, 0], absentHits = 0
        let trials = 20_000
        for _ in 0..<trials {
            let plan = planTopologyUpdate(shape: shape, positions: positions, weights: weights, dropFraction: 0.25,
                                          drop: .magnitude, grow: .random, regrow: true, denseGradient: nil,
                                          generator: &g)
            XCTAssertEqual(plan.kept, [2, 3, 4, 5, 6, 7])
            if plan.grown.contains(0) { regrownSame[0] += 1 }
            if plan.grown.contains(1) { regrownSame[1] += 1 }
            if plan.grown.contains(12) { absentHits += 1 }
        }
        let sd = (Double(trials) * 0.2 * 0.8).squareRoot()
        for h in regrownSame + [absentHits] { XCTAssertEqual(Double(h), 0.2 * Double(trials), accuracy: 5 * sd) }
    }

    func testSameSeedSamePlanDifferentSeedDifferentPlan() {
        let shape = LayerShape(fanIn: 256, fanOut: 256)
        var setup = Generator(seed: 77)
        let positions = randomTopology(shape: shape, count: 6554, generator: &setup)
        let weights = sparsityTestWeights(positions.count, generator: &setup)
        for drop in drops {
            func plan(_ seed: UInt64) -> TopologyPlan {
                var g = Generator(seed: seed)
                return planTopologyUpdate(shape: shape, positions: positions, weights: weights, dropFraction: 0.3,
                                          drop: drop, grow: .random, regrow: true, denseGradient: nil, generator: &g)
            }
            XCTAssertEqual(plan(1), plan(1))
            XCTAssertNotEqual(plan(1).grown, plan(2).grown)
            XCTAssertEqual(plan(1).kept, plan(2).kept, "the drop is deterministic")
        }
    }

    func testMergeTopologyAgreesWithSetUnion() {
        var g = Generator(seed: 21)
        let shape = LayerShape(fanIn: 30, fanOut: 20)
        for _ in 0..<200 {
            let positions = randomTopology(shape: shape, count: 1 + g.nextInt(below: 300), generator: &g)
            let weights = sparsityTestWeights(positions.count, generator: &g)
            let plan = planTopologyUpdate(shape: shape, positions: positions, weights: weights,
                                          dropFraction: g.uniform(0, 1), drop: .magnitude, grow: .random,
                                          regrow: true, denseGradient: nil, generator: &g)
            let merge = mergeTopology(oldPositions: positions, plan: plan)
            XCTAssertEqual(merge.positions, (plan.kept.map { positions[$0] } + plan.grown).sorted())
            let old = Dictionary(uniqueKeysWithValues: positions.enumerated().map { ($1, $0) })
            for (p, s) in zip(merge.positions, merge.source) { XCTAssertEqual(s, old[p] ?? -1) }
            let wasLive = grownWasLive(oldPositions: positions, plan: plan)
            XCTAssertEqual(wasLive, plan.grown.map { old[$0] != nil })
        }
    }
}
