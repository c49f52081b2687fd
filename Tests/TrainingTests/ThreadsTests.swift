import Foundation
import NeuralNet
import XCTest
@testable import Training

/// `--threads N` (issue 10): the twin critics run side by side and large products split by rows, and nothing is
/// summed across threads, so a run gives bit-identical metrics and weights with 1 and with 2 threads — and a run
/// interrupted with one thread count resumes exactly with another.
final class ThreadsTests: XCTestCase {
    override func tearDown() { Parallel.setThreads(1) }

    func networkState(_ dir: String) throws -> [[Float]] {
        let (_, agent) = try TrainingCheckpoint.loadAgent(checkpoint: dir + "/checkpoint.sparrow")
        return agent.namedNetworks.flatMap { $0.network.parameters.flatMap { [$0.values, $0.firstMoment, $0.secondMoment] } }
    }

    func checkThreadCountsAgree(_ preset: String, _ flags: [String: Any] = [:]) throws {
        let config = try smallConfig(preset, ["steps": 1600, "update-interval": 200].merging(flags) { $1 })
        let one = temporaryRunDirectory("one\(preset)"), two = temporaryRunDirectory("two\(preset)")
        defer { try? FileManager.default.removeItem(atPath: one); try? FileManager.default.removeItem(atPath: two) }
        Parallel.setThreads(1)
        let a = try OffPolicyTrainer(config: config, runDirectory: one, resume: false).run()
        // Two threads, interrupted and resumed half-way with two threads again.
        Parallel.setThreads(2)
        _ = try OffPolicyTrainer(config: config, runDirectory: two, resume: false).run(stopAfter: 1111)
        let b = try OffPolicyTrainer(config: config, runDirectory: two, resume: true).run()
        XCTAssertEqual(a.evaluations, b.evaluations, preset)
        XCTAssertEqual(try deterministicMetrics(one), try deterministicMetrics(two), preset)
        XCTAssertEqual(try networkState(one), try networkState(two), preset)
        let machine = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: two + "/config.json"))) as? [String: Any]
        XCTAssertEqual((machine?[TrainConfig.metadataKey] as? [String: Any])?["threads"] as? Int, 2)
    }

    func testTowsSACSameWithTwoThreads() throws { try checkThreadCountsAgree("tows-sac") }
    func testDenseSACSameWithTwoThreads() throws { try checkThreadCountsAgree("dense-sac") }
    func testRigLSACSameWithTwoThreads() throws { try checkThreadCountsAgree("rigl-sac") }
    func testDSTD3SameWithTwoThreads() throws { try checkThreadCountsAgree("ds-td3") }
    /// Noise features drawn by the networks come from one generator: every critic's input is filled in critic order
    /// before the critics run side by side, so the draws do not depend on the thread count.
    func testNetworkDrawnNoiseFeaturesSameWithTwoThreads() throws {
        try checkThreadCountsAgree("tows-sac", ["noise-features": 0.5, "noise-features-mode": "network"])
    }
}
