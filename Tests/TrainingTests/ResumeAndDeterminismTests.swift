import Agents
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

        let a = try Trainer(config: config, runDirectory: straight, resume: false).run()
        XCTAssertEqual(a.outcome, .finished)

        let first = try Trainer(config: config, runDirectory: resumed, resume: false).run(stopAfter: interruptAt)
        XCTAssertEqual(first.outcome, .interrupted)
        XCTAssertEqual(first.step, interruptAt)
        let second = try Trainer(config: config, runDirectory: resumed, resume: true)
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
    }

    /// Interrupted mid-episode, after topology updates and target updates, then resumed: the run ends exactly
    /// as the uninterrupted one (evaluations, metrics, every weight and moment).
    func testExactResumeTowsSAC() throws { try checkExactResume("tows-sac", interruptAt: 1777, ["update-interval": 200]) }
    func testExactResumeDSTD3() throws { try checkExactResume("ds-td3", interruptAt: 1333, ["update-interval": 200, "steps": 2000]) }
    func testExactResumeRigLSAC() throws { try checkExactResume("rigl-sac", interruptAt: 2101, ["update-interval": 200]) }
    /// DQN on CartPole, interrupted mid-episode between target syncs and after mask updates (SET, ε draws).
    func testExactResumeSETDQN() throws {
        try checkExactResume("set-dqn", env: "CartPole-v1", interruptAt: 1877,
                             ["update-interval": 200, "target-update-interval": 50, "epsilon-final": 0.2, "hidden": [64, 64]])
    }

    func testSameSeedIdenticalDifferentSeedDifferent() throws {
        let c0 = try smallConfig("tows-td3", ["steps": 1500])
        var c1 = c0; c1.seed = 1
        let d = (0..<3).map { temporaryRunDirectory("det\($0)") }
        defer { for x in d { try? FileManager.default.removeItem(atPath: x) } }
        try Trainer(config: c0, runDirectory: d[0], resume: false).run()
        try Trainer(config: c0, runDirectory: d[1], resume: false).run()
        try Trainer(config: c1, runDirectory: d[2], resume: false).run()
        XCTAssertEqual(try deterministicMetrics(d[0]), try deterministicMetrics(d[1]))
        XCTAssertEqual(try networkState(d[0]), try networkState(d[1]))
        XCTAssertNotEqual(try networkState(d[0]), try networkState(d[2]))
        XCTAssertNotEqual(try file(d[0], "evaluations.csv"), try file(d[2], "evaluations.csv"))
    }

    func testStopSignalWritesACheckpointAndResumeIfNoneStartsFresh() throws {
        let config = try smallConfig("dense-sac", ["steps": 1200])
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Trainer(config: config, runDirectory: dir, resume: true)  // nothing to resume: fresh
        XCTAssertEqual(t.step, 0)
        StopSignal.set(true)
        let s = try t.run()
        StopSignal.set(false)
        XCTAssertEqual(s.outcome, .interrupted)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/checkpoint.sparrow"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/summary.json"))
        XCTAssertEqual(try Trainer(config: config, runDirectory: dir, resume: true).run().outcome, .finished)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/summary.json"))
    }
}
