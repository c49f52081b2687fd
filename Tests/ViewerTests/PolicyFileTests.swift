import Agents
import Environments
import Training
import XCTest

final class PolicyFileTests: XCTestCase {
    func smallAgent(_ preset: String) throws -> (TrainConfig, any OffPolicyAgent, LocomotionEnv) {
        var config = try Presets.config(named: preset, env: "Hopper-v5")
        config.agent.hidden = [64, 64]
        let env = try makeEnvironment("Hopper-v5")
        let agent = try makeAgent(config: config.agent, observationSize: env.observationSpace.dimension,
                                  actions: env.actions, totalUpdates: 100, seed: 3)
        return (config, agent, env)
    }

    /// The exported actor acts exactly as the agent's deterministic policy (SAC: squashed mean; TD3: tanh head).
    func testExportedActorActsLikeTheAgent() throws {
        for preset in ["tows-sac", "tows-td3", "dense-sac"] {
            let (config, agent, env) = try smallAgent(preset)
            let bytes = try PolicyFile.encode(agent: agent, config: config, actionLow: env.actionSpace.low, actionHigh: env.actionSpace.high)
            let policy = try PolicyFile.decode(bytes)
            XCTAssertEqual(policy.config, config)
            XCTAssertEqual(policy.header.head, config.agent.algorithm == .sac ? "gaussian-tanh" : "deterministic-tanh")
            XCTAssertEqual(policy.header.actorSparsity, ActorCriticAgent.sparsity(of: agent.namedNetworks[0].network))
            var obs = try env.reset(seed: 1).observation
            var a = [Float](repeating: 0, count: 3), b = a
            for _ in 0..<50 {
                obs.withUnsafeBufferPointer { o in a.withUnsafeMutableBufferPointer { agent.act(o, deterministic: true, into: $0) } }
                obs.withUnsafeBufferPointer { o in b.withUnsafeMutableBufferPointer { policy.act(o, into: $0) } }
                XCTAssertEqual(a, b, preset)
                let r = try env.step(a.map(Double.init))
                obs = r.observation
                if r.terminated { obs = try env.reset(seed: nil).observation }
            }
        }
    }

    func testCorruptedTruncatedAndForeignFilesAreRejected() throws {
        let (config, agent, env) = try smallAgent("tows-sac")
        let bytes = try PolicyFile.encode(agent: agent, config: config, actionLow: env.actionSpace.low, actionHigh: env.actionSpace.high)
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x40
        for bad in [flipped, Array(bytes.dropLast(10)), Array("SPRWCKPT and more".utf8), []] {
            XCTAssertThrowsError(try PolicyFile.decode(bad))
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-policy-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("p.policy").path
        try Data(flipped).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PolicyFile.read(path)) { XCTAssertTrue("\($0)".contains("checksum"), "\($0)") }
        XCTAssertThrowsError(try PolicyFile.read(dir.appendingPathComponent("missing").path)) {
            XCTAssertTrue("\($0)".contains("cannot read"), "\($0)")
        }
    }
}
