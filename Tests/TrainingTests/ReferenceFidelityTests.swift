@testable import Agents
import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Training

/// Issue 24's reference fixes, each held to the reference's own definition (rigl/rl gin files, TF-Agents).
final class ReferenceFidelityTests: XCTestCase {
    func sac(_ preset: String, env: String = "Hopper-v5") throws -> SAC {
        let c = try TrainConfig.resolve(preset: preset, env: env, file: nil, flags: [:])
        let agent = try makeAgent(config: c.agent, observationSize: 11, actions: .box(BoxSpace(low: [-1, -1, -1], high: [1, 1, 1])),
                                  totalUpdates: 1000, seed: 0)
        return try XCTUnwrap(agent as? SAC, preset)
    }

    /// TF-Agents' `SacAgent` defaults its target entropy to −|A|/2, which rigl/rl's SAC runs; ANF's and the SAC
    /// paper's is −|A|. An explicit `target-entropy` still wins.
    func testGraesserSACTargetsHalfTheActionDimensions() throws {
        for preset in ["dense-sac-graesser", "set-sac", "rigl-sac", "prune-sac"] {
            XCTAssertEqual(try sac(preset).targetEntropy, -1.5, preset)
        }
        XCTAssertEqual(try sac("tows-sac").targetEntropy, -3)
        XCTAssertEqual(try sac("dense-sac").targetEntropy, -3)
        var c = try TrainConfig.resolve(preset: "set-sac", env: "Hopper-v5", file: nil, flags: ["target-entropy": -7.0])
        c.agent.targetEntropyPerAction = -0.5
        let agent = try makeAgent(config: c.agent, observationSize: 11, actions: .box(BoxSpace(low: [-1, -1, -1], high: [1, 1, 1])),
                                  totalUpdates: 10, seed: 0) as! SAC
        XCTAssertEqual(agent.targetEntropy, -7)
    }

    /// Keras' `L2(l2)` adds l2·Σw² over kernels, so the coupled decay is 2·l2 on weights and none on biases:
    /// sparse SAC/DQN 1e-6, dense and pruning SAC 1e-4 (the pruning gin inherits the dense one's), PPO 1e-4 / 1e-6.
    func testWeightDecayFollowsKerasL2OnKernelsOnly() throws {
        let expected: [(String, String, Double)] = [
            ("dense-sac-graesser", "Hopper-v5", 2e-4), ("set-sac", "Hopper-v5", 2e-6), ("rigl-sac", "Hopper-v5", 2e-6),
            ("prune-sac", "Hopper-v5", 2e-4), ("dense-dqn", "CartPole-v1", 2e-6), ("set-dqn", "CartPole-v1", 2e-6),
            ("set-ppo", "Hopper-v5", 2e-4), ("dense-ppo", "Hopper-v5", 2e-6), ("prune-ppo", "Hopper-v5", 2e-6)]
        for (preset, env, wd) in expected {
            let c = try TrainConfig.resolve(preset: preset, env: env, file: nil, flags: [:])
            XCTAssertEqual(c.agent.weightDecay, wd, accuracy: 1e-18, preset)
            XCTAssertFalse(c.agent.decayBiases, preset)
        }
        // ANF's and Sokar's PyTorch Adam decays every parameter it is handed.
        for preset in ["tows-sac", "dense-sac", "ds-td3"] {
            XCTAssertTrue(try TrainConfig.resolve(preset: preset, env: "Hopper-v5", file: nil, flags: [:]).agent.decayBiases, preset)
        }
        // The optimizer the factory builds: with zero gradients a kernel shrinks by the decay, a bias does not move.
        let c = try TrainConfig.resolve(preset: "set-sac", env: "Hopper-v5", file: nil, flags: ["weight-decay": 0.5])
        let adam = NetworkFactory(config: c.agent, totalUpdates: 10).adam(learningRate: 0.1)
        let kernel = ParameterTensor(values: [1, -2]), bias = ParameterTensor(values: [1, -2])
        adam.step(kernel)
        adam.step(bias, isBias: true)
        XCTAssertEqual(bias.values, [1, -2], "no decay on biases")
        XCTAssertTrue(kernel.values[0] < 1 && kernel.values[1] > -2, "kernels decay toward 0: \(kernel.values)")
    }

    /// `--actor-critic-ratio` splits a sparse budget; a dense run has none, and used to ignore it silently.
    func testActorCriticRatioIsRefusedForDenseRuns() throws {
        for preset in ["dense-sac", "dense-sac-graesser"] {
            XCTAssertThrowsError(try TrainConfig.resolve(preset: preset, env: "Hopper-v5", file: nil, flags: ["actor-critic-ratio": 0.5])) {
                XCTAssertTrue("\($0)".contains("actor-critic-ratio 0.5"), "\($0)")
            }
        }
        XCTAssertNoThrow(try TrainConfig.resolve(preset: "set-sac", env: "Hopper-v5", file: nil, flags: ["actor-critic-ratio": 0.5]))
    }

    /// The preset families decide which dense run a sparse method is compared with.
    func testPresetFamilies() {
        XCTAssertEqual(Presets.family(ofPreset: "set-sac"), .graesser)
        XCTAssertEqual(Presets.family(ofPreset: "dense-sac-graesser@0.9"), .graesser)
        XCTAssertEqual(Presets.family(ofPreset: "dense-sac"), .anf)
        XCTAssertEqual(Presets.family(ofPreset: "tows-sac"), .anf)
        XCTAssertEqual(Presets.family(ofPreset: "rigl-dqn"), .graesser)
        XCTAssertNil(Presets.family(ofPreset: "nope"))
        for name in Presets.names { XCTAssertNotNil(Presets.family(ofPreset: name), name) }
    }

    /// Issue 24 finding 4: ANF's configuration — the input layer 80% sparse, hidden and output layers dense — as
    /// `--distribution per-layer --layer-sparsity 0.8,0,0`: exactly those layers sparse in every trained network, and
    /// a short TowS run evolves the input layer's topology at a constant live count while the others stay dense.
    func testPerLayerSparsityRunsANFsSparseInputLayer() throws {
        let config = try smallConfig("tows-sac", ["distribution": "per-layer", "layer-sparsity": [0.8, 0.0, 0.0],
                                                  "steps": 2000, "update-interval": 100])
        let dir = NSTemporaryDirectory() + "sparrow-per-layer-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try OffPolicyTrainer(config: config, runDirectory: dir, resume: false)
        func check(_ agent: any Agent) -> [[Position]] {
            var inputTopologies: [[Position]] = []
            for n in agent.trainedNetworks {
                let layers = n.network.layers
                XCTAssertEqual(layers.count, 3, n.name)
                let first = layers[0]
                XCTAssertEqual(first.backend, .sparse, n.name)
                XCTAssertEqual(first.liveConnections, first.shape.count - Int((0.8 * Double(first.shape.count)).rounded(.down)), n.name)
                for l in layers.dropFirst() { XCTAssertEqual(l.backend, .dense, "\(n.name): hidden and output layers dense") }
                inputTopologies.append(first.positions)
            }
            return inputTopologies
        }
        let before = check(trainer.trainedAgent)
        try trainer.run()
        let after = check(trainer.trainedAgent)
        XCTAssertNotEqual(before, after, "TowS moved connections of the sparse input layers")
    }

    func testPerLayerSparsityIsCheckedWhereItIsGiven() {
        func refused(_ flags: [String: Any], _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try smallConfig("tows-sac", flags), line: line) {
                XCTAssertTrue("\($0)".contains(fragment), "\($0)", line: line)
            }
        }
        refused(["distribution": "per-layer", "layer-sparsity": [0.8, 0.0]],
                "distribution per-layer needs --layer-sparsity with one value per layer (3 for hidden 256,256), got 2")
        refused(["distribution": "per-layer", "layer-sparsity": [0.8, 1.0, 0.0]], "layer-sparsity values must be in [0, 1), got 1.0")
        refused(["layer-sparsity": [0.8, 0.0, 0.0]], "layer-sparsity is for distribution per-layer (got distribution")
        XCTAssertThrowsError(try smallConfig("prune-sac", ["distribution": "per-layer", "layer-sparsity": [0.8, 0.0, 0.0]])) {
            XCTAssertTrue("\($0)".contains("per-layer fixes sparsities"), "\($0)")
        }
    }
}
