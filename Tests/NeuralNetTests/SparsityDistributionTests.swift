import XCTest
import SparrowCore
@testable import NeuralNet

/// Per-layer budgets: worked numbers from the reference codes (docs: /work/shared/reference/algorithms.md a1, a3, a4).
final class SparsityDistributionTests: XCTestCase {
    private let sacActorHalfCheetah = LayerShape.mlp([17, 256, 256, 12])   // SAC actor: 2·|A| outputs
    private let criticHalfCheetah = LayerShape.mlp([23, 256, 256, 1])      // obs 17 + act 6

    // MARK: ERK (RigL)

    func testERKNinetyPercentHalfCheetahSACMatchesReferenceA4() throws {
        let actor = try layerDensities(shapes: sacActorHalfCheetah, sparsity: 0.9, distribution: .erdosRenyiKernel)
        let actorSparsity = actor.map { 1 - $0 }
        XCTAssertEqual(actorSparsity[0], 0.565, accuracy: 0.001)
        XCTAssertEqual(actorSparsity[1], 0.946, accuracy: 0.001)
        XCTAssertEqual(actorSparsity[2], 0.395, accuracy: 0.001)
        // Exact live counts as RigL forms them (N − ⌊s·N⌋ per layer), from a transcription of
        // rigl/sparse_utils.py get_sparsities_erdos_renyi + get_mask_random_numpy.
        XCTAssertEqual(liveCounts(shapes: sacActorHalfCheetah, densities: actor), [1893, 3549, 1858])
        XCTAssertEqual(liveCounts(shapes: sacActorHalfCheetah, densities: actor).reduce(0, +), 7300)

        let critic = try layerDensities(shapes: criticHalfCheetah, sparsity: 0.9, distribution: .erdosRenyiKernel)
        let criticSparsity = critic.map { 1 - $0 }
        XCTAssertEqual(criticSparsity[0], 0.586, accuracy: 0.001)
        XCTAssertEqual(criticSparsity[1], 0.932, accuracy: 0.001)
        XCTAssertEqual(critic[2], 1, "ERK makes the 256→1 critic output dense")
        XCTAssertEqual(liveCounts(shapes: criticHalfCheetah, densities: critic), [2439, 4475, 256])
        XCTAssertEqual(liveCounts(shapes: criticHalfCheetah, densities: critic).reduce(0, +), 7170)
    }

    func testERKForcedDenseLayerIsPaidForByTheOthers() throws {
        // Forcing the actor output dense: it keeps all 3072 weights and the hidden layers get sparser.
        let free = try layerDensities(shapes: sacActorHalfCheetah, sparsity: 0.9, distribution: .erdosRenyiKernel)
        let forced = try layerDensities(shapes: sacActorHalfCheetah, sparsity: 0.9, distribution: .erdosRenyiKernel,
                                        dense: [2])
        XCTAssertEqual(forced[2], 1)
        XCTAssertLessThan(forced[0], free[0])
        XCTAssertLessThan(forced[1], free[1])
        let total = sacActorHalfCheetah.reduce(0) { $0 + $1.count }
        let live = liveCounts(shapes: sacActorHalfCheetah, densities: forced).reduce(0, +)
        XCTAssertEqual(Double(live), 0.1 * Double(total), accuracy: 3, "overall 90 % over all layers")
        // Forcing the critic output dense changes nothing: ERK made it dense already.
        XCTAssertEqual(try layerDensities(shapes: criticHalfCheetah, sparsity: 0.9, distribution: .erdosRenyiKernel,
                                          dense: [2]),
                       try layerDensities(shapes: criticHalfCheetah, sparsity: 0.9, distribution: .erdosRenyiKernel))
    }

    func testERKHitsTheTargetOnRandomNetworks() throws {
        var g = Generator(seed: 11)
        for _ in 0..<200 {
            let depth = 2 + g.nextInt(below: 4)
            let units = (0...depth).map { _ in 1 + g.nextInt(below: 400) }
            let shapes = LayerShape.mlp(units)
            let s = g.uniform(0.05, 0.98)
            let d = try layerDensities(shapes: shapes, sparsity: s, distribution: .erdosRenyiKernel)
            let live = liveCounts(shapes: shapes, densities: d)
            // RigL's target: Σ (N − ⌊s·N⌋); per-layer flooring can add < 1 per layer.
            let target = shapes.reduce(0) { $0 + $1.count - Int(s * Double($1.count)) }
            XCTAssertEqual(Double(live.reduce(0, +)), Double(target), accuracy: Double(shapes.count),
                           "units \(units) sparsity \(s)")
            for (x, shape) in zip(d, shapes) {
                XCTAssert(x > 0 && x <= 1, "density \(x) for \(shape)")
            }
            // ER ordering: a layer with a larger raw probability is never sparser.
            for i in shapes.indices { for j in shapes.indices {
                let pi = Double(shapes[i].fanIn + shapes[i].fanOut) / Double(shapes[i].count)
                let pj = Double(shapes[j].fanIn + shapes[j].fanOut) / Double(shapes[j].count)
                if pi > pj { XCTAssertGreaterThanOrEqual(d[i], d[j]) }
            } }
        }
    }

    // MARK: ANF uniform / ER

    func testUniformNinetyPercentCriticWithDenseOutputIsANFsNinetyPointThree() throws {
        let d = try layerDensities(shapes: criticHalfCheetah, sparsity: 0.9, distribution: .uniform, dense: [2])
        XCTAssertEqual(1 - d[0], 0.903, accuracy: 0.0005)
        XCTAssertEqual(1 - d[1], 0.903, accuracy: 0.0005)
        XCTAssertEqual(d[2], 1)
        // Exact value of ANF's compute_sparsity_per_layer: 1 − 0.1·6912/7143.
        XCTAssertEqual(1 - d[0], 0.9032339353212936, accuracy: 1e-12)
        XCTAssertEqual(liveCounts(shapes: criticHalfCheetah, densities: d, rounding: .anf), [569, 6341, 256])
        XCTAssertEqual(liveCounts(shapes: criticHalfCheetah, densities: d, rounding: .rigl), [570, 6342, 256])
        // TD3 actor 17-256-256-6 with dense output: ≈ 92.0 % (reference a3).
        let actor = try layerDensities(shapes: LayerShape.mlp([17, 256, 256, 6]), sparsity: 0.9,
                                       distribution: .uniform, dense: [2])
        XCTAssertEqual(1 - actor[0], 0.920, accuracy: 0.0005)
        XCTAssertEqual(actor[0], actor[1])
    }

    func testUniformWithoutDenseLayersIsTheTargetUpToANFsRounding() throws {
        let d = try layerDensities(shapes: criticHalfCheetah, sparsity: 0.9, distribution: .uniform)
        for x in d { XCTAssertEqual(x, 0.1, accuracy: 0.0001) }
        XCTAssertEqual(d[0], d[2])
    }

    func testANFErdosRenyi() throws {
        let d = try layerDensities(shapes: criticHalfCheetah, sparsity: 0.9, distribution: .erdosRenyi, dense: [2])
        XCTAssertEqual(1 - d[0], 0.5859396471170231, accuracy: 1e-12)
        XCTAssertEqual(1 - d[1], 0.93173198482933, accuracy: 1e-12)
        XCTAssertEqual(liveCounts(shapes: criticHalfCheetah, densities: d, rounding: .anf), [2437, 4474, 256])
        // A layer whose ER probability exceeds 1 turns dense and the rest are rescaled.
        let td3Actor = LayerShape.mlp([17, 256, 256, 6])
        let e = try layerDensities(shapes: td3Actor, sparsity: 0.8, distribution: .erdosRenyi, dense: [2])
        XCTAssertEqual(e[0], 1)
        XCTAssertEqual(1 - e[1], 0.8718719482421875, accuracy: 1e-12)
    }

    func testImpossibleTargetsThrowWithAMessage() {
        XCTAssertThrowsError(try layerDensities(shapes: criticHalfCheetah, sparsity: 1, distribution: .uniform))
        XCTAssertThrowsError(try layerDensities(shapes: criticHalfCheetah, sparsity: -0.1, distribution: .uniform))
        XCTAssertThrowsError(try layerDensities(shapes: [], sparsity: 0.5, distribution: .uniform))
        XCTAssertThrowsError(try layerDensities(shapes: criticHalfCheetah, sparsity: 0.5, distribution: .uniform,
                                                dense: [3]))
        // ANF's own example of an impossible configuration: [10, 256, 256], second layer dense, 90 %.
        let shapes = LayerShape.mlp([10, 256, 256])
        for distribution in [SparsityDistribution.uniform, .erdosRenyi, .erdosRenyiKernel] {
            XCTAssertThrowsError(try layerDensities(shapes: shapes, sparsity: 0.9, distribution: distribution,
                                                    dense: [1])) { error in
                XCTAssert("\(error)".contains("impossible"), "\(error)")
            }
        }
        // Every layer forced dense cannot be 50 % sparse.
        XCTAssertThrowsError(try layerDensities(shapes: shapes, sparsity: 0.5, distribution: .erdosRenyiKernel,
                                                dense: [0, 1]))
    }

    func testZeroSparsityIsDense() throws {
        for distribution in [SparsityDistribution.uniform, .erdosRenyi, .erdosRenyiKernel] {
            let d = try layerDensities(shapes: criticHalfCheetah, sparsity: 0, distribution: distribution)
            XCTAssertEqual(d, [1, 1, 1])
            XCTAssertEqual(liveCounts(shapes: criticHalfCheetah, densities: d), criticHalfCheetah.map(\.count))
        }
    }

    // MARK: Sokar ER-ε

    func testSokarEpsilonDensitiesMatchReferenceA1() {
        let hidden = LayerShape(fanIn: 256, fanOut: 256)
        XCTAssertEqual(erdosRenyiEpsilonDensity(shape: hidden, epsilon: 64), 0.5, accuracy: 1e-12)
        let actorL1 = [(17, 0.439), (11, 0.664), (111, 0.517), (376, 0.401)]   // HalfCheetah/Walker, Hopper, Ant, Humanoid
        let epsilons = [7.0, 7, 40, 61]
        for ((obs, expected), eps) in zip(actorL1, epsilons) {
            XCTAssertEqual(erdosRenyiEpsilonDensity(shape: LayerShape(fanIn: obs, fanOut: 256), epsilon: eps),
                           expected, accuracy: 0.00051, "actor L1 obs \(obs)")
        }
        let criticL1 = [(23, 0.332), (14, 0.527), (119, 0.492), (393, 0.393)]   // obs + act
        for ((inputs, expected), eps) in zip(criticL1, epsilons) {
            XCTAssertEqual(erdosRenyiEpsilonDensity(shape: LayerShape(fanIn: inputs, fanOut: 256), epsilon: eps),
                           expected, accuracy: 0.00051, "critic L1 inputs \(inputs)")
        }
        XCTAssertEqual(erdosRenyiEpsilonDensity(shape: LayerShape(fanIn: 3, fanOut: 4), epsilon: 10), 1, "clipped")
    }

    func testSokarWholeAgentHalfCheetahIsAboutFiftyPercentSparse() {
        // Actor 17-256-256-6 and two critics 23-256-256-1; first two layers ER-ε (λ1 = 7, λ2 = 64), outputs dense.
        func expectedLive(_ units: [Int]) -> Double {
            let s = LayerShape.mlp(units)
            return erdosRenyiEpsilonDensity(shape: s[0], epsilon: 7) * Double(s[0].count)
                + erdosRenyiEpsilonDensity(shape: s[1], epsilon: 64) * Double(s[1].count) + Double(s[2].count)
        }
        let live = expectedLive([17, 256, 256, 6]) + 2 * expectedLive([23, 256, 256, 1])
        let dense = networkCost((LayerShape.mlp([17, 256, 256, 6]) + LayerShape.mlp([23, 256, 256, 1])
                                 + LayerShape.mlp([23, 256, 256, 1])).map { LayerCost(dense: $0) }).liveWeights
        XCTAssertEqual(dense, 214_784)
        XCTAssertEqual(1 - live / Double(dense), 0.506, accuracy: 0.001)
    }

    // MARK: Counts

    func testLiveCountRoundingRules() {
        let shapes = [LayerShape(fanIn: 256, fanOut: 256), LayerShape(fanIn: 10, fanOut: 10)]
        // RigL: N − ⌊0.9·N⌋ = 65536 − 58982 and 100 − 90. ANF: int((1 − 0.9)·N) with 1 − 0.9 = 0.09999999999999998
        // in Double, so 6553.599… → 6553 and 9.999… → 9 (checked against Python).
        XCTAssertEqual(liveCounts(shapes: shapes, densities: [0.1, 0.1]), [6554, 10])
        XCTAssertEqual(liveCounts(shapes: shapes, densities: [0.1, 0.1], rounding: .anf), [6553, 9])
        XCTAssertEqual(liveCounts(shapes: shapes, densities: [1, 0]), [65536, 0])
        XCTAssertEqual(liveCounts(shapes: shapes, densities: [1, 0], rounding: .anf), [65536, 0])
    }

    // MARK: Actor/critic split

    func testActorCriticSplitHonoursTotalAndRatio() throws {
        let actor = LayerShape.mlp([17, 256, 256, 6])
        let critics = LayerShape.mlp([23, 256, 256, 1]) + LayerShape.mlp([23, 256, 256, 1])
        let nA = actor.reduce(0) { $0 + $1.count }, nC = critics.reduce(0) { $0 + $1.count }
        let natural = try actorCriticSparsity(actor: actor, critic: critics, sparsity: 0.9)
        XCTAssertEqual(natural.actor, 0.9, accuracy: 1e-4)
        XCTAssertEqual(natural.critic, 0.9, accuracy: 1e-4)
        let total = Int((0.1 * Double(nA + nC)).rounded())
        for ratio in [0.25, 0.5, 1, 2] {
            let split = try actorCriticSparsity(actor: actor, critic: critics, sparsity: 0.9,
                                                actorToCriticRatio: ratio)
            XCTAssertEqual(split.actorLive + split.criticLive, total)
            XCTAssertEqual(Double(split.actorLive) / Double(split.criticLive), ratio, accuracy: 0.001)
            XCTAssertEqual(split.actor, 1 - Double(split.actorLive) / Double(nA), accuracy: 1e-12)
            XCTAssertEqual(split.critic, 1 - Double(split.criticLive) / Double(nC), accuracy: 1e-12)
        }
        // More critic share → sparser actor.
        let criticHeavy = try actorCriticSparsity(actor: actor, critic: critics, sparsity: 0.9,
                                                  actorToCriticRatio: 0.1)
        XCTAssertGreaterThan(criticHeavy.actor, natural.actor)
        XCTAssertLessThan(criticHeavy.critic, natural.critic)
        // An actor cannot hold more than its dense weight count.
        XCTAssertThrowsError(try actorCriticSparsity(actor: actor, critic: critics, sparsity: 0.5,
                                                     actorToCriticRatio: 10))
        XCTAssertThrowsError(try actorCriticSparsity(actor: actor, critic: critics, sparsity: 0.9,
                                                     actorToCriticRatio: 0))
    }
}
