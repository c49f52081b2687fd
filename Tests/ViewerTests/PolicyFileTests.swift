import Agents
import Environments
import Foundation
import SparrowCore
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

    /// The version a policy file's frame says (bytes 8..<12, little-endian).
    func frameVersion(_ bytes: [UInt8]) -> UInt32 {
        bytes[8..<12].enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    /// Every algorithm writes its evaluation policy: DQN's greedy action over fully connected, Nature-CNN and
    /// Impala Q networks (frames scaled by 1/255 in the file as in the agent), PPO's mean behind its observation
    /// normaliser, SAC's and TD3's squashed heads. The file acts exactly as the agent on the same observations;
    /// continuous actors that need none of version 3's fields stay version 2 (what older Sparrows read).
    func testEveryAlgorithmsPolicyFileActsLikeItsAgent() throws {
        let frames = 4 * 84 * 84
        let cases: [(preset: String, env: String, observations: Int, actions: ActionSpace, version: UInt32)] = [
            ("tows-sac", "Hopper-v5", 11, .box(BoxSpace(low: [-1, -1, -1], high: [1, 1, 1])), 2),
            ("tows-td3", "Hopper-v5", 11, .box(BoxSpace(low: [-1, -1, -1], high: [1, 1, 1])), 2),
            ("set-ppo", "Hopper-v5", 11, .box(BoxSpace(low: [-1, -1, -1], high: [1, 1, 1])), 3),
            ("dense-dqn", "CartPole-v1", 4, .discrete(2), 3),
            ("set-dqn", "CartPole-v1", 4, .discrete(2), 3),
            ("rigl-dqn-atari", "ALE/Breakout-v5", frames, .discrete(4), 3),
            ("dense-dqn-atari", "ALE/Breakout-v5", frames, .discrete(4), 3),
            ("set-dqn-atari-impala", "ALE/Pong-v5", frames, .discrete(6), 3),
        ]
        var g = Generator(seed: 11)
        for c in cases {
            var config = try TrainConfig.resolve(preset: c.preset, env: c.env, file: nil, flags: [:])
            if !config.agent.network.readsFrames { config.agent.hidden = [64, 64] }
            let agent = try makeAgent(AgentRequest(config: config.agent, observationSize: c.observations, actions: c.actions,
                                                   totalUpdates: 100, totalIterations: 2, seed: 5))
            let bytes = try PolicyFile.encode(agent: agent, config: config, actions: c.actions)
            XCTAssertEqual(frameVersion(bytes), c.version, c.preset)
            let policy = try PolicyFile.decode(bytes)
            XCTAssertEqual(policy.config, config, c.preset)
            XCTAssertEqual(policy.header.head, agent.policyHead.rawValue, c.preset)
            XCTAssertEqual(policy.header.choices, c.actions.choices, c.preset)
            XCTAssertEqual(policy.header.inputScale, config.agent.network.readsFrames ? 1 / 255 : nil, c.preset)
            XCTAssertEqual(policy.header.observationNormalization, agent.deterministicPolicy.normalization, c.preset)
            XCTAssertEqual(policy.header.observationNormalization != nil, c.preset == "set-ppo", c.preset)
            XCTAssertEqual(policy.actionSize, c.actions.componentCount, c.preset)
            XCTAssertEqual(policy.header.actorSparsity, weightSparsity([agent.policyNetwork]), accuracy: 1e-12)
            var a = [Float](repeating: 0, count: c.actions.componentCount), b = a
            var seen = Set<Float>()
            for _ in 0..<(c.observations == frames ? 6 : 40) {
                let obs = (0..<c.observations).map { _ in c.observations == frames ? Double(g.next() % 256) : g.normal() }
                obs.withUnsafeBufferPointer { o in a.withUnsafeMutableBufferPointer { agent.act(o, deterministic: true, into: $0) } }
                obs.withUnsafeBufferPointer { o in b.withUnsafeMutableBufferPointer { policy.act(o, into: $0) } }
                XCTAssertEqual(a, b, c.preset)
                seen.insert(a[0])
            }
            // The whole output, not only the action: the file's network computes the agent's Q values or means.
            let obs = (0..<c.observations).map { _ in c.observations == frames ? Double(g.next() % 256) : g.normal() }
            XCTAssertEqual(outputs(agent.deterministicPolicy, obs), outputs(policy.deterministicPolicy, obs), c.preset)
            if c.actions.choices != nil && c.observations != frames { XCTAssertGreaterThan(seen.count, 1, "\(c.preset) chose one action only") }
        }
    }

    /// The network outputs of a policy for one observation (after its input step).
    func outputs(_ p: DeterministicPolicy, _ observation: [Double]) -> [Float] {
        let ws = p.network.workspace(batch: 1)
        observation.withUnsafeBufferPointer { p.input($0, into: ws.input.pointer) }
        p.network.forward(ws)
        return Array(UnsafeBufferPointer(start: ws.output.pointer, count: p.network.outputWidth))
    }

    /// Headers a crafted or damaged file could carry are one error each, never a trap: version 3 fields in a
    /// version 2 frame (an older Sparrow would act without them), an argmax head of one choice or without choices,
    /// a box on a Q network, a normaliser of the wrong size or with a zero std, a non-positive input scale,
    /// an action scale without its offset.
    func testVersion3FieldsAreCheckedAgainstTheNetwork() throws {
        let dqn = try TrainConfig.resolve(preset: "dense-dqn", env: "CartPole-v1", file: nil, flags: [:])
        let q = try makeAgent(AgentRequest(config: dqn.agent, observationSize: 4, actions: .discrete(2), totalUpdates: 10, seed: 1))
        let ppo = try TrainConfig.resolve(preset: "set-ppo", env: "Hopper-v5", file: nil, flags: [:])
        let pi = try makeAgent(AgentRequest(config: ppo.agent, observationSize: 11, actions: .box(BoxSpace(low: [-1, -1, -1], high: [1, 1, 1])),
                                            totalUpdates: 10, totalIterations: 2, seed: 1))
        /// The file of `agent` with its header changed by `edit` and framed as `version`.
        func crafted(_ agent: any Agent, _ config: TrainConfig, _ actions: ActionSpace, version: UInt32,
                     _ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
            let good = try PolicyFile.encode(agent: agent, config: config, actions: actions)
            let (payload, _) = try ChecksummedFrame.unframe(good, magic: PolicyFile.magic, versions: PolicyFile.readableVersions, kind: "policy")
            var r = ByteReader(payload)
            var header = try JSONSerialization.jsonObject(with: Data(try r.read(String.self).utf8)) as! [String: Any]
            let network = try r.readBytes()
            edit(&header)
            var w = ByteWriter()
            w.write(String(decoding: try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]), as: UTF8.self))
            w.write(bytes: network)
            return ChecksummedFrame.frame(magic: PolicyFile.magic, version: version, payload: w.bytes)
        }
        XCTAssertNoThrow(try PolicyFile.decode(try crafted(q, dqn, .discrete(2), version: 3) { _ in }), "the unchanged header reads")
        let hopper: ActionSpace = .box(BoxSpace(low: [-1, -1, -1], high: [1, 1, 1]))
        let bad: [(String, [UInt8])] = [
            ("version 2 with version 3 fields", try crafted(q, dqn, .discrete(2), version: 2) { _ in }),
            ("argmax head needs 2 or more choices", try crafted(q, dqn, .discrete(2), version: 3) { $0["choices"] = 1 }),
            ("argmax head needs 2 or more choices", try crafted(q, dqn, .discrete(2), version: 3) { $0["choices"] = nil }),
            ("argmax head needs 2 or more choices", try crafted(q, dqn, .discrete(2), version: 3) { $0["actionLow"] = [-1, -1]; $0["actionHigh"] = [1, 1] }),
            ("input scale", try crafted(q, dqn, .discrete(2), version: 3) { $0["inputScale"] = 0 }),
            ("observation normaliser", try crafted(pi, ppo, hopper, version: 3) {
                var n = $0["observationNormalization"] as! [String: Any]; n["std"] = [Double](repeating: 0, count: 11); $0["observationNormalization"] = n }),
            ("observation normaliser", try crafted(pi, ppo, hopper, version: 3) {
                var n = $0["observationNormalization"] as! [String: Any]; n["mean"] = [0.0]; $0["observationNormalization"] = n }),
            ("scale and offset", try crafted(pi, ppo, hopper, version: 3) { $0["actionScale"] = [1, 1, 1] }),
            ("inputs for", try crafted(q, dqn, .discrete(2), version: 3) { $0["observationSize"] = 5 }),
        ]
        for (expected, bytes) in bad {
            XCTAssertThrowsError(try PolicyFile.decode(bytes), expected) { XCTAssertTrue("\($0)".contains(expected), "\(expected): \($0)") }
        }
    }

    /// A Q network's file evaluates as its run did: with the run's eval-epsilon (1 here: every action random, both
    /// choices drawn) from the caller's generator, and at 0 exactly the greedy action, without a draw.
    func testQNetworkFilesEvaluateWithTheRunsEpsilon() throws {
        var config = try TrainConfig.resolve(preset: "dense-dqn", env: "CartPole-v1", file: nil, flags: [:])
        config.agent.hidden = [16]
        for eps in [0.0, 1.0] {
            config.agent.evalEpsilon = eps
            let q = try makeAgent(AgentRequest(config: config.agent, observationSize: 4, actions: .discrete(2), totalUpdates: 10, seed: 2))
            let policy = try PolicyFile.decode(try PolicyFile.encode(agent: q, config: config, actions: .discrete(2)))
            XCTAssertEqual(policy.evaluationEpsilon, eps)
            var g = Generator(seed: 4)
            var untouched = g
            var counts = [0, 0], agree = 0
            for k in 0..<200 {
                let obs = [Double(k % 7) - 3, 0.5, -0.2, Double(k % 3)]
                var a: [Float] = [0], greedy: [Float] = [0]
                obs.withUnsafeBufferPointer { o in a.withUnsafeMutableBufferPointer { policy.evaluationAct(o, into: $0, generator: &g) } }
                obs.withUnsafeBufferPointer { o in greedy.withUnsafeMutableBufferPointer { policy.act(o, into: $0) } }
                counts[Int(a[0])] += 1
                if a == greedy { agree += 1 }
            }
            if eps == 0 {
                XCTAssertEqual(agree, 200)
                XCTAssertEqual(g.next(), untouched.next(), "no draw at ε 0")
            } else {
                XCTAssertGreaterThan(counts.min()!, 60, "\(counts)")
            }
        }
    }
}
