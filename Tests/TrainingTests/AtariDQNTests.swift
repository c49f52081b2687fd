@testable import Agents
import Environments
import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Training

/// DQN on Atari frames (issue 23): the rigl/rl presets resolve to Dopamine's settings, what does not fit is refused
/// in one line, the frame replay memory hands the network the environment's own stacks, a run resumes exactly
/// mid-episode, and a short run learns (its Q values rise toward the discounted clipped rewards).
final class AtariDQNTests: XCTestCase {
    override func tearDown() { StopSignal.set(false) }

    func testPresetsFollowTheGinFilesAndRefuseWhatDoesNotFit() throws {
        let rigl = try TrainConfig.resolve(preset: "rigl-dqn-atari", env: "ALE/Pong-v5", file: nil, flags: [:])
        XCTAssertEqual(rigl.agent.network, .natureCNN)
        XCTAssertEqual(rigl.steps, 10_000_000)
        XCTAssertEqual(rigl.totalUpdates, 2_500_000 - 5_000, "one update every 4 steps after the 20k start steps")
        XCTAssertEqual(rigl.agent.sparsity, 0.9)
        XCTAssertEqual(rigl.agent.updateInterval, 5000)
        XCTAssertEqual(rigl.atariOptions.noopMax, 0, "Dopamine has no no-op starts")
        XCTAssertEqual(rigl.atariOptions.repeatActionProbability, 0.25)
        let q = try DQN(config: rigl.agent, observationSize: 4 * 84 * 84, choices: 6, totalUpdates: rigl.totalUpdates, seed: 1)
        XCTAssertEqual(q.q.spec.widths, [28224, 32 * 21 * 21, 64 * 11 * 11, 7744, 512, 6])
        XCTAssertEqual(q.q.layers.map { $0 is SparseConv2D }, [true, true, true, false, false])
        XCTAssertEqual(q.epsilon.decayUpdates, 62_500, "250k steps at one update per 4")
        let live = q.q.layers.map(\.liveConnections).reduce(0, +), all = q.q.layers.map(\.shape.count).reduce(0, +)
        XCTAssertEqual(1 - Double(live) / Double(all), 0.9, accuracy: 1e-4)
        XCTAssertEqual(try TrainConfig.resolve(preset: "static-dqn-atari", env: "ALE/Breakout-v5", file: nil, flags: [:]).agent.sparsity, 0.95)

        func refused(_ preset: String, _ env: String, _ flags: [String: Any] = [:], _ expected: String) {
            XCTAssertThrowsError(try TrainConfig.resolve(preset: preset, env: env, file: nil, flags: flags)) { e in
                let text = "\(e)"
                XCTAssertTrue(text.contains(expected), text)
                XCTAssertFalse(text.contains("\n"), text)
            }
        }
        refused("dense-dqn", "ALE/Pong-v5", [:], "dense-dqn-atari")
        refused("rigl-dqn-atari", "CartPole-v1", [:], "rigl-dqn")
        refused("tows-sac", "Hopper-v5", ["noop-max": 3], "noop-max is an Atari setting")
        refused("dense-dqn-atari", "ALE/Pong-v5", ["log-snr-every": 100], "fully connected")
    }

    /// Real Breakout transitions through the loop's memory: every sampled s and s′ is the stack the environment
    /// showed (as floats 0…255), with its action, clipped-or-not reward and terminal flag.
    func testFrameMemoryBatchesAreTheEnvironmentsStacks() throws {
        let env = try AtariEnv(AtariGame.find("ALE/Breakout-v5")!, options: { var o = AtariOptions(); o.maxEpisodeFrames = 400; return o }(), seed: 3)
        let memory = FrameReplayMemory(capacity: 120, frameSize: env.frameSize, stackSize: env.frameStack)
        let n = env.observationSpace.dimension
        var obs = [Double](repeating: 0, count: n), next = obs
        _ = try obs.withUnsafeMutableBufferPointer { try env.reset(seed: 3, observation: $0) }
        var stored: [(s: [Double], a: Float, r: Double, t: Bool, s1: [Double])] = []
        var g = Generator(seed: 5)
        for _ in 0..<300 {
            let a = [Double(g.nextInt(below: 4))]
            let out = try a.withUnsafeBufferPointer { a in try next.withUnsafeMutableBufferPointer { try env.step(action: a, observation: $0) } }
            [Float(a[0])].withUnsafeBufferPointer { act in
                obs.withUnsafeBufferPointer { o in next.withUnsafeBufferPointer { s1 in
                    memory.add(observation: o, action: act, reward: out.reward, nextObservation: s1, terminated: out.terminated,
                               truncated: out.truncated)
                } }
            }
            stored.append((obs, Float(a[0]), out.reward, out.terminated, next))
            if out.terminated || out.truncated {
                _ = try obs.withUnsafeMutableBufferPointer { try env.reset(seed: nil, observation: $0) }
            } else { swap(&obs, &next) }
        }
        XCTAssertTrue(stored.contains { $0.t || $0.r > 0 }, "the run saw a reward or an episode end")
        let batch = ReplayBatch(size: 16, observationSize: n, actionSize: 1)
        memory.sample(into: batch, generator: &g)
        let recent = stored.suffix(120)
        for b in 0..<16 {
            let s = (0..<n).map { Double(batch.observations[$0 * 16 + b]) }
            let s1 = (0..<n).map { Double(batch.nextObservations[$0 * 16 + b]) }
            guard let t = recent.first(where: { $0.s == s && $0.s1 == s1 }) else { return XCTFail("sample \(b) is no stored transition") }
            XCTAssertEqual(batch.actions[b], t.a)
            XCTAssertEqual(Double(batch.rewards[b]), t.r)
            XCTAssertEqual(batch.notTerminated[b], t.t ? 0 : 1)
        }
    }

    /// A small SET-DQN on Breakout with the Nature CNN, interrupted mid-episode after mask updates and target syncs,
    /// resumed from its checkpoint (frame replay memory, ALE state and all): it ends as the uninterrupted run.
    func testExactResumeMidEpisode() throws {
        let config = try TrainConfig.resolve(preset: "set-dqn-atari", env: "ALE/Breakout-v5", file: nil, flags: [
            "steps": 700, "start-steps": 200, "eval-every": 350, "eval-episodes": 1, "checkpoint-every": 10_000,
            "log-every": 100, "buffer-size": 400, "max-episode-frames": 1200, "update-interval": 20,
            "target-update-interval": 15, "epsilon-decay-steps": 300])
        let straight = temporaryRunDirectory("atari-straight"), resumed = temporaryRunDirectory("atari-resumed")
        defer { try? FileManager.default.removeItem(atPath: straight); try? FileManager.default.removeItem(atPath: resumed) }
        let a = try OffPolicyTrainer(config: config, runDirectory: straight, resume: false).run()
        XCTAssertEqual(a.outcome, .finished)
        let first = try OffPolicyTrainer(config: config, runDirectory: resumed, resume: false).run(stopAfter: 433)
        XCTAssertEqual(first.outcome, .interrupted)
        let second = try OffPolicyTrainer(config: config, runDirectory: resumed, resume: true)
        XCTAssertEqual(second.step, 433)
        XCTAssertEqual(second.buffer.count, 400, "the memory wrapped and was restored")
        let b = try second.run()
        XCTAssertEqual(a.evaluations, b.evaluations)
        XCTAssertEqual(try deterministicMetrics(straight), try deterministicMetrics(resumed))
        let (_, agentA) = try TrainingCheckpoint.loadAgent(checkpoint: straight + "/checkpoint.sparrow")
        let (_, agentB) = try TrainingCheckpoint.loadAgent(checkpoint: resumed + "/checkpoint.sparrow")
        for (x, y) in zip(agentA.namedNetworks, agentB.namedNetworks) {
            for (p, q) in zip(x.network.parameters, y.network.parameters) {
                XCTAssertEqual(p.values, q.values); XCTAssertEqual(p.firstMoment, q.firstMoment)
            }
            XCTAssertEqual(x.network.layers.map(\.positions), y.network.layers.map(\.positions))
        }
    }

    /// The Impala presets (`dqn_atari_*_impala_net.gin`): the residual network with its own optimizer, 90% ERK over
    /// its 17 layers for RigL, pruning targets solved over rigl/rl's `layer_shape_dict` (first dense layer listed as
    /// 7744 × 512); then a small RigL run on Breakout interrupted after mask updates resumes exactly.
    func testImpalaPresetsAndExactResume() throws {
        let rigl = try TrainConfig.resolve(preset: "rigl-dqn-atari-impala", env: "ALE/Pong-v5", file: nil, flags: [:])
        XCTAssertEqual(rigl.agent.network, .impala)
        XCTAssertEqual(rigl.agent.hidden, [256])
        XCTAssertEqual(rigl.agent.criticLR, 1e-4)
        XCTAssertEqual(rigl.agent.adamEpsilon, 3.125e-4)
        XCTAssertEqual(rigl.agent.weightDecay, 1e-5)
        XCTAssertFalse(rigl.agent.decayBiases)
        XCTAssertEqual(rigl.agent.sparsity, 0.9)
        let q = try DQN(config: rigl.agent, observationSize: 4 * 84 * 84, choices: 6, totalUpdates: rigl.totalUpdates, seed: 1)
        XCTAssertEqual(q.q.layers.count, 17)
        XCTAssertNotNil(q.q.spec.graph)
        XCTAssertEqual(q.q.layers.prefix(15).map { $0 is SparseConv2D }, Array(repeating: true, count: 15))
        XCTAssertEqual(q.q.layers[15].shape, LayerShape(fanIn: 7744, fanOut: 256))
        let live = q.q.layers.map(\.liveConnections).reduce(0, +), all = q.q.layers.map(\.shape.count).reduce(0, +)
        XCTAssertEqual(1 - Double(live) / Double(all), 0.9, accuracy: 1e-4)

        let prune = try TrainConfig.resolve(preset: "prune-dqn-atari-impala", env: "ALE/Pong-v5", file: nil, flags: [:])
        XCTAssertEqual(prune.agent.sparsity, 0.95)
        let factory = NetworkFactory(config: prune.agent, totalUpdates: prune.totalUpdates)
        let spec = try factory.spec(input: 4 * 84 * 84, output: 6, sparsity: 0.95)
        let schedules = try XCTUnwrap(try factory.pruningSchedules(for: spec, sparsity: 0.95))
        var listed = spec.shapes
        listed[15] = LayerShape(fanIn: 7744, fanOut: 512)
        let expected = try layerDensities(shapes: listed, sparsity: 0.95, distribution: .erdosRenyiKernel, dense: [])
        let real = try layerDensities(shapes: spec.shapes, sparsity: 0.95, distribution: .erdosRenyiKernel, dense: [])
        for l in 0..<17 { XCTAssertEqual(schedules[l]?.finalSparsity ?? 0, 1 - expected[l], accuracy: 1e-12, "layer \(l)") }
        XCTAssertNotEqual(expected[15], real[15], accuracy: 1e-6, "the listed shape changes the dense layer's target")

        let config = try TrainConfig.resolve(preset: "rigl-dqn-atari-impala", env: "ALE/Breakout-v5", file: nil, flags: [
            "steps": 240, "start-steps": 80, "eval-every": 120, "eval-episodes": 1, "checkpoint-every": 10_000,
            "log-every": 40, "buffer-size": 150, "max-episode-frames": 400, "update-interval": 8, "batch-size": 4,
            "target-update-interval": 6, "epsilon-decay-steps": 100])
        let straight = temporaryRunDirectory("impala-straight"), resumed = temporaryRunDirectory("impala-resumed")
        defer { try? FileManager.default.removeItem(atPath: straight); try? FileManager.default.removeItem(atPath: resumed) }
        let a = try OffPolicyTrainer(config: config, runDirectory: straight, resume: false).run()
        XCTAssertEqual(a.outcome, .finished)
        let first = try OffPolicyTrainer(config: config, runDirectory: resumed, resume: false).run(stopAfter: 171)
        XCTAssertEqual(first.outcome, .interrupted)
        let b = try OffPolicyTrainer(config: config, runDirectory: resumed, resume: true).run()
        XCTAssertEqual(a.evaluations, b.evaluations)
        XCTAssertEqual(try deterministicMetrics(straight), try deterministicMetrics(resumed))
        let (_, agentA) = try TrainingCheckpoint.loadAgent(checkpoint: straight + "/checkpoint.sparrow")
        let (_, agentB) = try TrainingCheckpoint.loadAgent(checkpoint: resumed + "/checkpoint.sparrow")
        let initial = try DQN(config: config.agent, observationSize: 4 * 84 * 84, choices: 4, totalUpdates: config.totalUpdates,
                              seed: config.seed)
        for (x, y) in zip(agentA.namedNetworks, agentB.namedNetworks) {
            for (p, q) in zip(x.network.parameters, y.network.parameters) { XCTAssertEqual(p.values, q.values) }
            XCTAssertEqual(x.network.layers.map(\.positions), y.network.layers.map(\.positions))
        }
        XCTAssertNotEqual(agentA.namedNetworks[0].network.layers.map(\.positions), initial.q.layers.map(\.positions),
                          "RigL changed the residual network's topology")
    }

    /// A short SET-DQN (90% sparse Nature CNN) on Breakout learns: Breakout pays +1 per brick from the first serve,
    /// so the value of its states under a mostly random policy is positive (about the discounted rate of bricks).
    /// On states from the run's own replay memory, max_a Q rises from the untrained network's (same seed, ≈ 0)
    /// by more than 0.1 and stays in a sane range (a wrong-signed gradient would diverge instead).
    func testAShortRunLearnsBreakoutsValues() throws {
        let config = try TrainConfig.resolve(preset: "set-dqn-atari", env: "ALE/Breakout-v5", file: nil, flags: [
            "steps": 3000, "start-steps": 500, "update-every": 2, "target-update-interval": 100, "critic-lr": 1e-3,
            "epsilon-decay-steps": 2000, "buffer-size": 3000, "eval-every": 3000, "eval-episodes": 1,
            "max-episode-frames": 4000, "log-every": 500, "checkpoint-every": 10_000, "update-interval": 500])
        let dir = temporaryRunDirectory("atari-learns")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try OffPolicyTrainer(config: config, runDirectory: dir, resume: false)
        try trainer.run()
        let untrained = try AgentFactory.makeOffPolicyAgent(config: config, env: try config.makeEnvironment(seed: 0)) as! DQN
        let trained = trainer.agent as! DQN
        let n = trained.observationSize, B = 64
        let batch = ReplayBatch(size: B, observationSize: n, actionSize: 1)
        var g = Generator(seed: 17)
        trainer.buffer.sample(into: batch, generator: &g)
        func meanMaxQ(_ agent: DQN) -> Double {
            let input = (0..<(n * B)).map { batch.observations[$0] * agent.inputScale }
            let q = agent.q.predict(input, batch: B)
            return (0..<B).map { b in (0..<agent.choices).map { Double(q[$0 * B + b]) }.max()! }.reduce(0, +) / Double(B)
        }
        let before = meanMaxQ(untrained), after = meanMaxQ(trained)
        XCTAssertGreaterThan(after - before, 0.1, "max Q before \(before), after \(after)")
        XCTAssertLessThan(after, 3, "max Q before \(before), after \(after)")
    }

    /// A trained Atari run's policy file (version 3: the truly sparse Nature CNN, frames scaled by 1/255, greedy head)
    /// plays real Breakout exactly as the run's checkpoint does: the same action at every step of an evaluation, the
    /// same return, with ε 0 in both (a policy file is the deterministic policy). The file holds the network only.
    func testAtariPolicyFilePlaysLikeItsCheckpoint() throws {
        let config = try TrainConfig.resolve(preset: "rigl-dqn-atari", env: "ALE/Breakout-v5", file: nil, flags: [
            "steps": 700, "start-steps": 200, "eval-every": 700, "eval-episodes": 1, "checkpoint-every": 10_000,
            "log-every": 100, "buffer-size": 400, "max-episode-frames": 2000, "update-interval": 20,
            "epsilon-decay-steps": 300, "eval-epsilon": 0])
        let dir = temporaryRunDirectory("atari-policy-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(try OffPolicyTrainer(config: config, runDirectory: dir, resume: false).run().outcome, .finished)
        let (saved, agent) = try TrainingCheckpoint.loadAgent(checkpoint: dir + "/checkpoint.sparrow")
        let env = try saved.makeEnvironment()
        let path = dir + "/breakout.policy"
        try PolicyFile.write(agent: agent, config: saved, actions: env.actions, to: path)
        let policy = try PolicyFile.read(path)
        XCTAssertEqual(policy.header.choices, 4)
        XCTAssertEqual(policy.header.inputScale, 1 / 255)
        XCTAssertNil(policy.mismatch(with: env))
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertLessThan(size, 4_000_000, "the 90% sparse Nature CNN, values and positions of live weights only")

        /// Plays one evaluation episode through `act`, recording every action.
        func play(_ act: @escaping (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Float>) -> Void) throws -> ([Float], [Double]) {
            final class Actor: Agent {
                let inner: any Agent, act: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Float>) -> Void
                init(_ inner: any Agent, _ act: @escaping (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Float>) -> Void) {
                    self.inner = inner; self.act = act
                }
                var config: AgentConfig { inner.config }
                var updates: Int { inner.updates }
                var trainingFLOPs: Double { 0 }
                var networks: [AgentNetwork] { inner.networks }
                var policyHead: PolicyHeadKind { inner.policyHead }
                var analyses: NetworkAnalyses { inner.analyses }
                var profiler: StepProfiler? { get { nil } set {} }
                var deterministicPolicy: DeterministicPolicy { inner.deterministicPolicy }
                func act(_ o: UnsafeBufferPointer<Double>, deterministic: Bool, into a: UnsafeMutableBufferPointer<Float>) { act(o, a) }
                func encode(into w: inout ByteWriter) throws {}
                func decode(from r: inout ByteReader) throws {}
            }
            var actions: [Float] = []
            let returns = try Evaluator(env: try saved.makeEnvironment(), episodes: 1, seed: 9)
                .returns(of: Actor(agent, act)) { _, _, _, a in actions.append(a[0]) }
            return (actions, returns)
        }
        let fromCheckpoint = try play { o, a in agent.act(o, deterministic: true, into: a) }
        let fromFile = try play { o, a in policy.act(o, into: a) }
        XCTAssertGreaterThan(fromFile.0.count, 50)
        XCTAssertEqual(fromFile.0, fromCheckpoint.0)
        XCTAssertEqual(fromFile.1, fromCheckpoint.1)
    }

    /// Dopamine's evaluation phase (`eval-steps`): whole episodes until the step budget is reached, the last one run
    /// to its end; the returns are those episodes'. On CartPole with an untrained DQN (short episodes).
    func testEvaluationPhaseRunsWholeEpisodesUntilTheStepBudget() throws {
        let config = try smallConfig("dense-dqn", env: "CartPole-v1", ["hidden": [8]])
        let env = try config.makeEnvironment(seed: 3)
        let agent = try AgentFactory.makeOffPolicyAgent(config: config, env: env)
        var lengths: [Int: Int] = [:]
        let returns = try Evaluator(env: env, episodes: 1, seed: 3, minimumSteps: 100)
            .returns(of: agent) { episode, _, _, _ in lengths[episode, default: 0] += 1 }
        let steps = lengths.values.reduce(0, +), last = lengths[lengths.count - 1]!
        XCTAssertEqual(returns.count, lengths.count)
        XCTAssertGreaterThanOrEqual(steps, 100)
        XCTAssertLessThan(steps - last, 100, "no episode starts after the budget is reached")
        XCTAssertEqual(returns, lengths.keys.sorted().map { Double(lengths[$0]!) }, "CartPole pays 1 per step: whole episodes")
        XCTAssertGreaterThan(returns.count, 1)
    }
}
