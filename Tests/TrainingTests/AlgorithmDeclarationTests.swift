@testable import Agents
import Foundation
import XCTest
@testable import Training

/// Each algorithm's declaration against what its agent and its runs do: the networks and roles it lists are the
/// agent's, the update metrics it lists are the columns its runs fill (and no other update column), and the
/// action kind and loop decide which environments and trainers it gets.
final class AlgorithmDeclarationTests: XCTestCase {
    static let updateColumns = ["critic_loss", "actor_loss", "alpha", "mean_q", "td_loss", "value_loss", "approx_kl", "clip_fraction"]

    func testDeclarationsMatchTheAgentsAndTheirMetrics() throws {
        let cases: [(preset: String, env: String, flags: [String: Any])] = [
            ("dense-sac", "InvertedPendulum-v5", ["steps": 800, "start-steps": 300]),
            ("dense-td3", "InvertedPendulum-v5", ["steps": 800, "start-steps": 300]),
            ("dense-dqn", "CartPole-v1", ["steps": 800, "start-steps": 300, "hidden": [32, 32]]),
            ("dense-ppo", "InvertedPendulum-v5", ["steps": 512, "start-steps": 0, "rollout-steps": 256]),
        ]
        XCTAssertEqual(Set(cases.map { Presets.algorithm(ofPreset: $0.preset)! }), Set(AgentConfig.Algorithm.allCases))
        for c in cases {
            let config = try smallConfig(c.preset, env: c.env, c.flags.merging(["log-every": 100, "eval-every": 400]) { $1 })
            let declaration = config.agent.algorithm.declaration
            XCTAssertEqual(declaration.algorithm, config.agent.algorithm)
            let dir = temporaryRunDirectory("declared\(c.preset)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let trainer = try makeTrainer(config: config, runDirectory: dir, resume: false)
            XCTAssertEqual(trainer is OnPolicyTrainer, declaration.loop == .onPolicy, c.preset)
            XCTAssertEqual(try trainer.run().outcome, .finished, c.preset)
            let agent = trainer.trainedAgent
            XCTAssertEqual(agent.networks.map(\.name), declaration.networks.map(\.name), c.preset)
            XCTAssertEqual(agent.networks.map(\.role), declaration.networks.map(\.role), c.preset)
            XCTAssertEqual(agent is any OffPolicyAgent, declaration.loop == .offPolicy, c.preset)

            let lines = try String(contentsOfFile: dir + "/metrics.csv", encoding: .utf8).split(separator: "\n")
            let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            XCTAssertGreaterThan(rows.count, 2, c.preset)
            for column in Self.updateColumns {
                let i = try XCTUnwrap(header.firstIndex(of: column))
                let filled = rows.contains { !$0[i].isEmpty }
                XCTAssertEqual(filled, declaration.updateMetrics.contains(column), "\(c.preset) \(column)")
            }
        }
    }

    func testActionKindDecidesTheEnvironmentsAndExportsAreDeclared() throws {
        let columns = MetricsRow.columns.map(\.name)
        XCTAssertEqual(Set(columns).count, columns.count)
        for algorithm in AgentConfig.Algorithm.allCases {
            let d = algorithm.declaration
            for name in d.updateMetrics { XCTAssertTrue(columns.contains(name), "\(algorithm): \(name) is a metrics.csv column") }
            XCTAssertEqual(algorithm.actsDiscretely, d.actions == .discrete)
            XCTAssertEqual(algorithm.isOnPolicy, d.loop == .onPolicy)
        }
        XCTAssertThrowsError(try TrainConfig.resolve(preset: "dense-dqn", env: "Hopper-v5", file: nil, flags: [:]))
        XCTAssertThrowsError(try TrainConfig.resolve(preset: "dense-ppo", env: "CartPole-v1", file: nil, flags: [:]))
        XCTAssertThrowsError(try TrainConfig.resolve(preset: "dense-dqn", env: "CartPole-v1", file: nil,
                                                     flags: ["noise-features": 0.5, "noise-features-mode": "network"])) {
            XCTAssertTrue("\($0)".contains("noise-features-mode network draws noise features in the networks of sac and td3"), "\($0)")
        }
    }
}
