import Agents
import Foundation
import XCTest
@testable import Training

/// What `--log-snr-every`, `--log-dormant-every`, `--redo-every` and `--noise-features` leave in a run directory:
/// analysis.csv rows at the updates asked for, for every trained network, and metrics.csv columns that repeat
/// the latest of them; nothing at all when they are off.
final class AnalysisLoggingTests: XCTestCase {
    func rows(_ dir: String, _ name: String) throws -> [[String: String]] {
        let lines = try file(dir, name).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
    }

    func testAnalysesAreLoggedPerNetworkAtTheirUpdates() throws {
        for (preset, env, networks) in [("set-sac", "InvertedPendulum-v5", ["actor", "critic1", "critic2"]),
                                        ("set-dqn", "CartPole-v1", ["q"]), ("set-ppo", "InvertedPendulum-v5", ["actor", "value"])] {
            var flags: [String: Any] = ["log-snr-every": 200, "log-dormant-every": 400, "redo-every": 400, "noise-features": 0.5]
            if preset == "set-ppo" { flags.merge(["start-steps": 0, "rollout-steps": 512, "batch-size": 64, "steps": 2048], uniquingKeysWith: { $1 }) }
            let config = try smallConfig(preset, env: env, flags)
            let dir = temporaryRunDirectory("analysis\(preset)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let trainer = try makeTrainer(config: config, runDirectory: dir, resume: false)
            try trainer.run()
            let updates = trainer.trainedAgent.updates
            let analysis = try rows(dir, "analysis.csv")
            for network in networks {
                let snr = analysis.filter { $0["network"] == network && $0["quantity"] == "gradient_snr" }
                XCTAssertEqual(snr.map { Int($0["update"] ?? "") ?? -1 }, Array(stride(from: 200, through: updates, by: 200)), "\(preset) \(network)")
                XCTAssertTrue(snr.allSatisfy { (Double($0["value"] ?? "") ?? 0) > 0 }, "\(preset) \(network) SNR")
                let live = analysis.filter { $0["network"] == network && $0["quantity"] == "gradient_snr_live" }
                XCTAssertEqual(live.map { $0["update"] }, snr.map { $0["update"] }, "\(preset) \(network): the live-only figure beside it")
                let dormant = analysis.filter { $0["network"] == network && $0["quantity"] == "dormant_fraction" && $0["layer"] == "" }
                XCTAssertEqual(dormant.count, updates / 400, "\(preset) \(network)")
                XCTAssertTrue(dormant.allSatisfy { (0...1).contains(Double($0["value"] ?? "") ?? -1) })
                XCTAssertEqual(analysis.filter { $0["network"] == network && $0["quantity"] == "recycled_neurons" }.count, updates / 400)
            }
            if preset == "set-ppo" {
                // rigl/rl's PPO SNR is one over both networks: between the two, at the same updates.
                let joint = analysis.filter { $0["network"] == "actor+value" && $0["quantity"] == "gradient_snr" }
                XCTAssertEqual(joint.map { Int($0["update"] ?? "") ?? -1 }, Array(stride(from: 200, through: updates, by: 200)))
                for row in joint {
                    let parts = ["actor", "value"].compactMap { n in
                        analysis.first { $0["network"] == n && $0["quantity"] == "gradient_snr" && $0["update"] == row["update"] }?["value"]
                    }.compactMap(Double.init)
                    let v = try XCTUnwrap(Double(row["value"] ?? ""))
                    XCTAssertEqual(parts.count, 2)
                    XCTAssertTrue(v >= parts.min()! - 1e-9 && v <= parts.max()! + 1e-9, "joint \(v) between \(parts)")
                }
            }
            // metrics.csv repeats the latest whole-network values of the policy and the first value network.
            let metrics = try rows(dir, "metrics.csv")
            let last = try XCTUnwrap(metrics.last), actor = networks.contains("actor") ? "actor" : nil, critic = try XCTUnwrap(networks.first { $0 != "actor" })
            func latest(_ network: String, _ quantity: String) -> String? {
                analysis.last { $0["network"] == network && $0["quantity"] == quantity && $0["layer"] == "" }?["value"]
            }
            XCTAssertNotNil(latest(critic, "gradient_snr").flatMap(Double.init), preset)
            XCTAssertEqual(last["critic_snr"].flatMap(Double.init), latest(critic, "gradient_snr").flatMap(Double.init), preset)
            XCTAssertEqual(last["critic_dormant"].flatMap(Double.init), latest(critic, "dormant_fraction").flatMap(Double.init), preset)
            if let actor {
                XCTAssertEqual(last["actor_snr"].flatMap(Double.init), latest(actor, "gradient_snr").flatMap(Double.init), preset)
            }
            // With noise features (half the observation: 4 real features, 4 noise), the input layers' connections.
            XCTAssertEqual(try config.makeEnvironment().observationSpace.dimension, 8)
            for key in ["critic_input_real", "critic_input_noise"] + (actor == nil ? [] : ["actor_input_real", "actor_input_noise"]) {
                XCTAssertNotNil(Double(last[key] ?? ""), "\(preset) \(key)")
            }
        }
    }

    func testNothingIsMeasuredWhenOff() throws {
        let config = try smallConfig("set-sac", ["steps": 1000])
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try OffPolicyTrainer(config: config, runDirectory: dir, resume: false).run()
        XCTAssertEqual(try rows(dir, "analysis.csv").count, 0)
        let metrics = try rows(dir, "metrics.csv")
        for key in ["actor_snr", "critic_snr", "actor_dormant", "critic_dormant", "actor_input_real", "actor_input_noise",
                    "critic_input_real", "critic_input_noise"] {
            XCTAssertTrue(metrics.allSatisfy { $0[key] == "" }, key)
        }
    }

    /// ANF's per-feature averages: the critic's real features include its action inputs (they are signal, not
    /// noise); held to direct counts over the first layers of a sparse SAC on a noise-feature env.
    func testNoiseFeatureConnectionsCountTheCriticsActionInputsAsReal() throws {
        let config = try smallConfig("tows-sac", ["noise-features": 0.5])
        let env = try config.makeEnvironment()
        let agent = try AgentFactory.makeAgent(config: config, env: env)
        let n = 4, k = 4  // InvertedPendulum: 4 real features, as many noise features at 0.5
        XCTAssertEqual(env.observationSpace.dimension, n + k)
        let c = NoiseFeatureConnections(agent: agent, realFeatures: n, noiseFeatures: k)
        let actor = agent.policyNetwork.inputConnections, critic = agent.valueNetworks[0].inputConnections
        XCTAssertEqual(critic.count, n + k + 1, "observation, noise, then the one action")
        func mean(_ v: [Int]) -> Double { Double(v.reduce(0, +)) / Double(v.count) }
        XCTAssertEqual(c.actorReal!, mean(Array(actor[0..<n])), accuracy: 1e-12)
        XCTAssertEqual(c.actorNoise!, mean(Array(actor[n..<(n + k)])), accuracy: 1e-12)
        XCTAssertEqual(c.criticReal!, mean(Array(critic[0..<n]) + [critic[n + k]]), accuracy: 1e-12)
        XCTAssertEqual(c.criticNoise!, mean(Array(critic[n..<(n + k)])), accuracy: 1e-12)
        XCTAssertNotEqual(c.criticReal!, mean(Array(critic[0..<n])), "the action input changes the average here")
    }

    /// Issue 22 part 2: DQN and PPO log under their own names beside the columns they always filled — DQN's
    /// td_loss is its critic_loss; PPO's value_loss is its critic_loss, its approx_kl a non-negative KL estimate and
    /// its clip_fraction a fraction; SAC leaves them empty.
    func testEachAlgorithmLogsItsOwnLossNames() throws {
        func lastRow(_ config: TrainConfig) throws -> [String: String] {
            let dir = temporaryRunDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            _ = try makeTrainer(config: config, runDirectory: dir, resume: false).run()
            return try XCTUnwrap(try rows(dir, "metrics.csv").last)
        }
        let dqn = try lastRow(try smallConfig("set-dqn", env: "CartPole-v1", ["steps": 1500, "hidden": [32, 32]]))
        XCTAssertEqual(Double(dqn["td_loss"] ?? ""), Double(dqn["critic_loss"] ?? "-"))
        XCTAssertNotNil(Double(dqn["td_loss"] ?? ""))
        for key in ["value_loss", "approx_kl", "clip_fraction"] { XCTAssertEqual(dqn[key], "", "dqn \(key)") }
        let ppo = try lastRow(try smallConfig("set-ppo", ["steps": 1024, "start-steps": 0, "rollout-steps": 256,
                                                          "eval-every": 512, "log-every": 256, "checkpoint-every": 1024]))
        XCTAssertEqual(Double(ppo["value_loss"] ?? ""), Double(ppo["critic_loss"] ?? "-"))
        let kl = try XCTUnwrap(Double(ppo["approx_kl"] ?? "")), clipped = try XCTUnwrap(Double(ppo["clip_fraction"] ?? ""))
        XCTAssertTrue(kl >= 0 && kl.isFinite, "approx_kl \(kl)")
        XCTAssertTrue(clipped >= 0 && clipped <= 1, "clip_fraction \(clipped)")
        XCTAssertEqual(ppo["td_loss"], "")
        let sac = try lastRow(try smallConfig("tows-sac", ["steps": 1000]))
        for key in ["td_loss", "value_loss", "approx_kl", "clip_fraction"] { XCTAssertEqual(sac[key], "", "sac \(key)") }
    }
}
