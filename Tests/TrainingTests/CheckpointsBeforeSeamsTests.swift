import Foundation
import SparrowCore
import XCTest
@testable import Training

/// Checkpoints written by the code before the sparse-method and agent seams (issue 22: `SparsityUpdater`,
/// `AgentCore`), committed as fixtures: the current code reads them, resumes them, and continues them exactly
/// (straight to the end equals stopping half-way, checkpointing with the current code, and resuming again).
///
/// Fixtures/checkpoints-before-seams was made with the binary of commit ca907fd (`sparrow 0.14.0`), each run stopped
/// by SIGTERM (`timeout -s TERM`), keeping checkpoint.sparrow (gzipped), metrics.csv and evaluations.csv:
///   dqn: sparrow train --env CartPole-v1 --preset set-dqn --steps 40000 --start-steps 500 --hidden 64,64
///        --update-interval 200 --target-update-interval 50 --buffer-size 1500 --checkpoint-every 500
///        --log-every 250 --eval-every 1000 --eval-episodes 2 --epsilon-final 0.2 --seed 0   (stopped at 5596)
///   ppo: sparrow train --env InvertedPendulum-v5 --preset rigl-ppo --steps 4096 --rollout-steps 512
///        --update-interval 25 --hidden 32,32 --eval-every 1024 --eval-episodes 2 --checkpoint-every 512
///        --log-every 256 --seed 0   (stopped at 2560)
///   td3: sparrow train --env InvertedPendulum-v5 --preset ds-td3 --steps 4000 --start-steps 500 --hidden 64,64
///        --update-interval 200 --buffer-size 1500 --checkpoint-every 500 --log-every 250 --eval-every 1000
///        --eval-episodes 2 --seed 0   (stopped at 2000)
final class CheckpointsBeforeSeamsTests: XCTestCase {
    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/checkpoints-before-seams") }

    func fixtureRun(_ name: String, as label: String) throws -> String {
        let dir = temporaryRunDirectory("seams\(name)\(label)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let source = fixtures.appendingPathComponent(name)
        try gunzip(source.appendingPathComponent("checkpoint.sparrow.gz")).write(to: URL(fileURLWithPath: dir + "/checkpoint.sparrow"))
        for f in ["metrics.csv", "evaluations.csv"] {
            try FileManager.default.copyItem(atPath: source.appendingPathComponent(f).path, toPath: dir + "/" + f)
        }
        return dir
    }

    func checkResumesAndContinuesExactly(_ name: String, stoppedAt: Int, algorithm: String) throws {
        let straight = try fixtureRun(name, as: "straight"), split = try fixtureRun(name, as: "split")
        defer { try? FileManager.default.removeItem(atPath: straight); try? FileManager.default.removeItem(atPath: split) }
        let (config, _) = try CheckpointFile.read(straight + "/checkpoint.sparrow")
        XCTAssertEqual(config.agent.algorithm.rawValue, algorithm)
        let a = try makeTrainer(config: config, runDirectory: straight, resume: true)
        XCTAssertEqual(a.step, stoppedAt, name)
        XCTAssertEqual(try a.run().outcome, .finished, name)

        let middle = stoppedAt + (config.steps - stoppedAt) / 2
        do {  // the first trainer (and its run lock) ends here
            let b = try makeTrainer(config: config, runDirectory: split, resume: true)
            XCTAssertEqual(try b.run(progress: nil, stopAfter: middle, finalCheckpoint: true).outcome, .interrupted, name)
        }
        let c = try makeTrainer(config: config, runDirectory: split, resume: true)
        XCTAssertEqual(c.step, middle, name)
        XCTAssertEqual(try c.run().outcome, .finished, name)

        XCTAssertEqual(try file(straight, "evaluations.csv"), try file(split, "evaluations.csv"), name)
        XCTAssertEqual(try deterministicMetrics(straight), try deterministicMetrics(split), name)
        let (_, x) = try TrainingCheckpoint.loadAgent(checkpoint: straight + "/checkpoint.sparrow")
        let (_, y) = try TrainingCheckpoint.loadAgent(checkpoint: split + "/checkpoint.sparrow")
        XCTAssertEqual(x.networks.map(\.name), y.networks.map(\.name))
        for (p, q) in zip(x.networks, y.networks) {
            XCTAssertEqual(p.network.parameters.map(\.values), q.network.parameters.map(\.values), "\(name) \(p.name)")
            XCTAssertEqual(p.network.parameters.map(\.secondMoment), q.network.parameters.map(\.secondMoment), "\(name) \(p.name)")
        }
    }

    func testDQNCheckpointResumes() throws { try checkResumesAndContinuesExactly("dqn", stoppedAt: 5596, algorithm: "dqn") }
    func testPPOCheckpointResumes() throws { try checkResumesAndContinuesExactly("ppo", stoppedAt: 2560, algorithm: "ppo") }
    func testTD3CheckpointResumes() throws { try checkResumesAndContinuesExactly("td3", stoppedAt: 2000, algorithm: "td3") }
}
