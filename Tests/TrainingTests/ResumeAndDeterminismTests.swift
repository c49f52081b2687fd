@testable import Agents
import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Training

final class ResumeAndDeterminismTests: XCTestCase {
    override func tearDown() { StopSignal.set(false) }

    /// Weights, biases and Adam moments of every network of the run's final checkpoint.
    func networkState(_ dir: String) throws -> [[Float]] {
        let (_, agent) = try TrainingCheckpoint.loadAgent(checkpoint: dir + "/checkpoint.sparrow")
        return agent.namedNetworks.flatMap { $0.network.parameters.flatMap { [$0.values, $0.firstMoment, $0.secondMoment] } }
    }

    func checkExactResume(_ preset: String, env: String = "InvertedPendulum-v5", interruptAt: Int,
                          _ flags: [String: Any] = [:]) throws {
        let config = try smallConfig(preset, env: env, flags)
        let straight = temporaryRunDirectory("straight\(preset)"), resumed = temporaryRunDirectory("resumed\(preset)")
        defer { try? FileManager.default.removeItem(atPath: straight); try? FileManager.default.removeItem(atPath: resumed) }

        let a = try OffPolicyTrainer(config: config, runDirectory: straight, resume: false).run()
        XCTAssertEqual(a.outcome, .finished)

        let first = try OffPolicyTrainer(config: config, runDirectory: resumed, resume: false).run(stopAfter: interruptAt)
        XCTAssertEqual(first.outcome, .interrupted)
        XCTAssertEqual(first.step, interruptAt)
        let second = try OffPolicyTrainer(config: config, runDirectory: resumed, resume: true)
        XCTAssertEqual(second.step, interruptAt)
        let b = try second.run()

        XCTAssertEqual(a.evaluations, b.evaluations, preset)
        XCTAssertEqual(try file(straight, "evaluations.csv"), try file(resumed, "evaluations.csv"), preset)
        let ma = try deterministicMetrics(straight), mb = try deterministicMetrics(resumed)
        XCTAssertEqual(ma.count, mb.count, preset)
        if let i = ma.indices.first(where: { ma[$0] != mb[$0] }) {
            XCTFail("\(preset) metrics differ at row \(i):\n  \(ma[i])\n  \(mb[i])")
        }
        XCTAssertEqual(try networkState(straight), try networkState(resumed), preset)
        XCTAssertEqual(try? file(straight, "analysis.csv"), try? file(resumed, "analysis.csv"), preset)
    }

    /// Interrupted mid-episode, after topology updates and target updates, then resumed: the run ends exactly
    /// as the uninterrupted one (evaluations, metrics, every weight and moment).
    func testExactResumeTowsSAC() throws { try checkExactResume("tows-sac", interruptAt: 1777, ["update-interval": 200]) }
    func testExactResumeDSTD3() throws { try checkExactResume("ds-td3", interruptAt: 1333, ["update-interval": 200, "steps": 2000]) }
    /// With noise features the noise is part of the resumed state: the resumed run draws what the straight one did.
    func testExactResumeWithNoiseFeatures() throws {
        try checkExactResume("ss-sac", interruptAt: 1777, ["noise-features": 0.8, "steps": 2500])
    }
    /// Noise features drawn by the networks (ANF's way): the noise generator is part of the agent's checkpoint, so
    /// the resumed run's forward passes see what the straight one's did; TD3 too (target actor, delayed steps).
    func testExactResumeWithNoiseFeaturesDrawnByTheNetworks() throws {
        try checkExactResume("tows-sac", interruptAt: 1777, ["noise-features": 0.8, "noise-features-mode": "network",
                                                             "steps": 2500, "update-interval": 200])
        try checkExactResume("tows-td3", interruptAt: 1333, ["noise-features": 0.5, "noise-features-mode": "network",
                                                             "steps": 2000, "update-interval": 200])
    }

    /// ANF (issue 24, finding 4): with noise-features-mode network the replay buffer stores only the real
    /// observation while the networks read real + noise inputs, and two forward passes over the same stored
    /// transition see different noise (fresh N(0, 1) draws), the real rows unchanged.
    func testNetworkDrawnNoiseFeaturesAreFreshAtEveryForwardPassAndNeverStored() throws {
        let config = try smallConfig("tows-sac", ["noise-features": 0.8, "noise-features-mode": "network"])
        let dir = temporaryRunDirectory("anf")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try OffPolicyTrainer(config: config, runDirectory: dir, resume: false)
        let n = 4, k = 16  // InvertedPendulum: 4 real features; 0.8 of the input is noise
        XCTAssertEqual(trainer.buffer.observationSize, n, "the buffer stores real observations only")
        let agent = try XCTUnwrap(trainer.agent as? ActorCriticAgent)
        XCTAssertEqual(agent.noiseInputs, k)
        XCTAssertEqual(agent.actor.layers[0].shape.fanIn, n + k)
        XCTAssertEqual(agent.critics[0].layers[0].shape.fanIn, n + k + 1)
        let B = 64
        var stored = [Float](repeating: 0, count: n * B)
        var g = Generator(seed: 3)
        for i in stored.indices { stored[i] = Float(g.normal()) }
        var first = [Float](repeating: 0, count: (n + k) * B), second = first
        stored.withUnsafeBufferPointer { s in
            first.withUnsafeMutableBufferPointer { agent.loadObservations($0.baseAddress!, from: s.baseAddress!, batch: B) }
            second.withUnsafeMutableBufferPointer { agent.loadObservations($0.baseAddress!, from: s.baseAddress!, batch: B) }
        }
        XCTAssertEqual(Array(first[0..<(n * B)]), stored)
        XCTAssertEqual(Array(second[0..<(n * B)]), stored)
        let a = Array(first[(n * B)...]), b = Array(second[(n * B)...])
        XCTAssertEqual(zip(a, b).filter { $0 == $1 }.count, 0, "every noise input is drawn again")
        let mean = a.reduce(0, +) / Float(a.count), variance = a.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(a.count)
        XCTAssertEqual(mean, 0, accuracy: 0.06); XCTAssertEqual(variance, 1, accuracy: 0.08)
        // The environment is the plain task, and acting draws noise too (the policy reads n + k inputs).
        XCTAssertEqual(try config.makeEnvironment().observationSpace.dimension, n)
        XCTAssertThrowsError(try smallConfig("set-dqn", env: "CartPole-v1", ["noise-features": 0.5, "noise-features-mode": "network"])) {
            XCTAssertTrue("\($0)".contains("noise-features-mode network draws noise features in the networks of sac and td3"), "\($0)")
        }
    }
    /// Gradient SNR, dormant fractions and ReDo on: the resumed run logs and recycles exactly as the straight one
    /// (ReDo draws from the agent's generator; metrics rows repeat the latest measurement, read back from
    /// analysis.csv on resume).
    func testExactResumeWithAnalysesAndReDo() throws {
        try checkExactResume("set-sac", interruptAt: 1777, ["log-snr-every": 300, "log-dormant-every": 250, "redo-every": 500,
                                                             "redo-tau": 0.3, "update-interval": 200])
    }
    func testExactResumeRigLSAC() throws { try checkExactResume("rigl-sac", interruptAt: 2101, ["update-interval": 200]) }
    /// DQN on CartPole, interrupted mid-episode between target syncs and after mask updates (SET, ε draws).
    func testExactResumeSETDQN() throws {
        try checkExactResume("set-dqn", env: "CartPole-v1", interruptAt: 1877,
                             ["update-interval": 200, "target-update-interval": 50, "epsilon-final": 0.2, "hidden": [64, 64]])
    }

    /// PPO's settings for the resume tests: rollouts of 512 steps (8 minibatches × 10 epochs = 80 gradient steps
    /// each), mask updates every 25 gradient steps, 6 iterations.
    func ppoConfig(_ preset: String) throws -> TrainConfig {
        try smallConfig(preset, ["steps": 3072, "start-steps": 0, "rollout-steps": 512, "update-interval": 25,
                                 "eval-every": 512, "log-every": 256, "checkpoint-every": 1024])
    }

    /// Compares two finished runs: evaluations, metrics rows, every weight and moment.
    func checkSameRun(_ straight: String, _ resumed: String, _ label: String) throws {
        XCTAssertEqual(try file(straight, "evaluations.csv"), try file(resumed, "evaluations.csv"), label)
        let ma = try deterministicMetrics(straight), mb = try deterministicMetrics(resumed)
        XCTAssertEqual(ma.count, mb.count, label)
        if let i = ma.indices.first(where: { ma[$0] != mb[$0] }) {
            XCTFail("\(label) metrics differ at row \(i):\n  \(ma[i])\n  \(mb[i])")
        }
        XCTAssertEqual(try networkState(straight), try networkState(resumed), label)
        XCTAssertEqual(try ppoState(straight), try ppoState(resumed), label)
    }

    /// PPO's own state besides the networks: σ's parameters and moments, the normalisers, the counters.
    func ppoState(_ dir: String) throws -> [Double] {
        let (_, agent) = try TrainingCheckpoint.loadAgent(checkpoint: dir + "/checkpoint.sparrow")
        guard let ppo = agent as? PPO else { return [] }
        return (ppo.rho.values + ppo.rho.firstMoment + ppo.rho.secondMoment).map(Double.init)
            + ppo.observationStats.mean + ppo.observationStats.variance + ppo.rewardStats.variance
            + [ppo.observationStats.count, Double(ppo.updates), Double(ppo.iterations)]
    }

    /// SET-PPO stopped in the middle of a rollout (mid-episode, after learning phases with mask updates), and
    /// again in the middle of an epoch, then resumed: both end exactly as the uninterrupted run.
    func testExactResumeSETPPOMidRolloutAndMidEpoch() throws {
        let config = try ppoConfig("set-ppo")
        let dirs = ["straight", "rollout", "epoch"].map { temporaryRunDirectory("ppo\($0)") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        XCTAssertEqual(try OnPolicyTrainer(config: config, runDirectory: dirs[0], resume: false).run().outcome, .finished)

        let first = try OnPolicyTrainer(config: config, runDirectory: dirs[1], resume: false).run(stopAfter: 1777)
        XCTAssertEqual(first.outcome, .interrupted)
        let again = try OnPolicyTrainer(config: config, runDirectory: dirs[1], resume: true)
        XCTAssertEqual(again.step, 1777)
        XCTAssertFalse(again.rollout.isLearning)
        XCTAssertEqual(again.rollout.count, 1777 - 3 * 512)
        XCTAssertEqual(try again.run().outcome, .finished)
        try checkSameRun(dirs[0], dirs[1], "set-ppo mid-rollout")

        // 250 gradient steps: the 4th iteration (updates 241…320), epoch 1, minibatch 2.
        XCTAssertEqual(try OnPolicyTrainer(config: config, runDirectory: dirs[2], resume: false).run(stopAfterUpdates: 250).outcome,
                       .interrupted)
        let resumed = try OnPolicyTrainer(config: config, runDirectory: dirs[2], resume: true)
        XCTAssertEqual(resumed.step, 4 * 512)
        XCTAssertTrue(resumed.rollout.isLearning)
        XCTAssertEqual(resumed.rollout.epoch, 1)
        XCTAssertEqual(resumed.rollout.minibatch, 2)
        XCTAssertEqual(resumed.agent.updates, 250)
        XCTAssertEqual(try resumed.run().outcome, .finished)
        try checkSameRun(dirs[0], dirs[2], "set-ppo mid-epoch")
    }

    func testPPOSameSeedIdenticalDifferentSeedDifferent() throws {
        let c0 = try ppoConfig("rigl-ppo")
        var c1 = c0; c1.seed = 1
        let d = (0..<3).map { temporaryRunDirectory("ppodet\($0)") }
        defer { for x in d { try? FileManager.default.removeItem(atPath: x) } }
        try OnPolicyTrainer(config: c0, runDirectory: d[0], resume: false).run()
        try OnPolicyTrainer(config: c0, runDirectory: d[1], resume: false).run()
        try OnPolicyTrainer(config: c1, runDirectory: d[2], resume: false).run()
        XCTAssertEqual(try deterministicMetrics(d[0]), try deterministicMetrics(d[1]))
        XCTAssertEqual(try networkState(d[0]), try networkState(d[1]))
        XCTAssertNotEqual(try networkState(d[0]), try networkState(d[2]))
    }

    func testSameSeedIdenticalDifferentSeedDifferent() throws {
        let c0 = try smallConfig("tows-td3", ["steps": 1500])
        var c1 = c0; c1.seed = 1
        let d = (0..<3).map { temporaryRunDirectory("det\($0)") }
        defer { for x in d { try? FileManager.default.removeItem(atPath: x) } }
        try OffPolicyTrainer(config: c0, runDirectory: d[0], resume: false).run()
        try OffPolicyTrainer(config: c0, runDirectory: d[1], resume: false).run()
        try OffPolicyTrainer(config: c1, runDirectory: d[2], resume: false).run()
        XCTAssertEqual(try deterministicMetrics(d[0]), try deterministicMetrics(d[1]))
        XCTAssertEqual(try networkState(d[0]), try networkState(d[1]))
        XCTAssertNotEqual(try networkState(d[0]), try networkState(d[2]))
        XCTAssertNotEqual(try file(d[0], "evaluations.csv"), try file(d[2], "evaluations.csv"))
    }

    /// `checkpoint-minutes`: a run that checkpoints by wall time only (every 30 ms here; by steps never) and is
    /// killed (stopped without a final checkpoint) leaves its last one, resumes from it and ends exactly as a run
    /// that never wrote one; with the knob at 0 the same kill leaves no checkpoint.
    func testCheckpointsByWallTimeSurviveAKillAndResumeExactly() throws {
        var never = try smallConfig("tows-sac", ["steps": 1500, "checkpoint-every": 100_000, "update-interval": 200])
        never.checkpointMinutes = 0
        var timed = never
        timed.checkpointMinutes = 0.0005
        let straight = temporaryRunDirectory("timedstraight"), killed = temporaryRunDirectory("timedkilled"),
            untimed = temporaryRunDirectory("timeduntimed")
        defer { for d in [straight, killed, untimed] { try? FileManager.default.removeItem(atPath: d) } }

        let a = try OffPolicyTrainer(config: never, runDirectory: straight, resume: false).run()
        XCTAssertEqual(a.outcome, .finished)
        _ = try OffPolicyTrainer(config: never, runDirectory: untimed, resume: false).run(stopAfter: 1200, finalCheckpoint: false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: untimed + "/checkpoint.sparrow"))

        _ = try OffPolicyTrainer(config: timed, runDirectory: killed, resume: false).run(stopAfter: 1200, finalCheckpoint: false)
        let second = try OffPolicyTrainer(config: timed, runDirectory: killed, resume: true)
        XCTAssertGreaterThan(second.step, 0, "a checkpoint was written by time")
        XCTAssertLessThanOrEqual(second.step, 1200)
        let b = try second.run()
        XCTAssertEqual(a.evaluations, b.evaluations)
        XCTAssertEqual(try deterministicMetrics(straight), try deterministicMetrics(killed))
        XCTAssertEqual(try networkState(straight), try networkState(killed))
    }

    func testStopSignalWritesACheckpointAndResumeIfNoneStartsFresh() throws {
        let config = try smallConfig("dense-sac", ["steps": 1200])
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try OffPolicyTrainer(config: config, runDirectory: dir, resume: true)  // nothing to resume: fresh
        XCTAssertEqual(t.step, 0)
        StopSignal.set(true)
        let s = try t.run()
        StopSignal.set(false)
        XCTAssertEqual(s.outcome, .interrupted)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/checkpoint.sparrow"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/summary.json"))
        XCTAssertEqual(try OffPolicyTrainer(config: config, runDirectory: dir, resume: true).run().outcome, .finished)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/summary.json"))
    }
}

/// Issue 25: a writer killed during a checkpoint write leaves `checkpoint.sparrow.tmp-PID`; the next start of that
/// run removes it, and only those of processes that are gone.
final class LeftoverTemporaryTests: XCTestCase {
    func testTemporariesOfDeadWritersAreRemovedAtTheNextStart() throws {
        let dir = temporaryRunDirectory("leftovers")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // A process that has exited: its pid is free (the kernel does not reuse it this soon).
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let dead = "checkpoint.sparrow.tmp-\(p.processIdentifier)", alive = "checkpoint.sparrow.tmp-1"  // init: always alive (this process would replace its own)
        for name in [dead, alive, "checkpoint.sparrow.tmp-notapid"] {
            try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        let config = try smallConfig("tows-sac", env: "InvertedPendulum-v5", ["steps": 600, "start-steps": 300])
        try makeTrainer(config: config, runDirectory: dir, resume: true).run()
        let left = try FileManager.default.contentsOfDirectory(atPath: dir)
        XCTAssertFalse(left.contains(dead), "a dead writer's temporary is removed")
        XCTAssertTrue(left.contains(alive), "a live process's temporary is left alone")
        XCTAssertTrue(left.contains("checkpoint.sparrow.tmp-notapid"), "only checkpoint.sparrow.tmp-PID names are touched")
    }
}
