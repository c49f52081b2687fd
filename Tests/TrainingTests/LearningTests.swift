import Foundation
import XCTest
@testable import Training

/// SAC and TD3, dense and 90%-sparse TowS, learn InvertedPendulum-v5 (maximum return 1000) in a short run.
/// Criterion: some evaluation in the run reaches ≥ 900 (the pendulum balanced for the whole episode in most
/// evaluation episodes). Seeds are fixed, so a run is deterministic on a given machine.
final class LearningTests: XCTestCase {
    func learn(_ preset: String, steps: Int, _ flags: [String: Any] = [:], line: UInt = #line) throws {
        var f: [String: Any] = ["steps": steps, "start-steps": 1000, "eval-every": 1000, "eval-episodes": 3,
                                "checkpoint-every": steps, "log-every": 1000]
        for (k, v) in flags { f[k] = v }
        let config = try TrainConfig.resolve(preset: preset, env: "InvertedPendulum-v5", file: nil, flags: f)
        let dir = temporaryRunDirectory("learn\(preset)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let summary = try OffPolicyTrainer(config: config, runDirectory: dir, resume: false).run()
        let best = summary.evaluations.map(\.meanReturn).max() ?? 0
        XCTAssertGreaterThanOrEqual(best, 900, "\(preset): evaluations \(summary.evaluations.map(\.meanReturn))", line: line)
    }

    func testDenseSAC() throws { try learn("dense-sac", steps: 15_000) }
    /// ERK as for TD3 below: with the preset's uniform 90%, the 4-input first layer keeps ~100 connections and
    /// SAC learns this task within 15k steps for one seed in four (measured: seeds 0–3, with and without
    /// flush-to-zero); with ERK all four seeds reach 1000 by step 12k.
    func testTowsSAC90() throws { try learn("tows-sac", steps: 15_000, ["distribution": "erk"]) }
    func testDenseTD3() throws { try learn("dense-td3", steps: 30_000) }
    /// ERK instead of the preset's uniform distribution: at 90% uniform, the 4-input first layer keeps ~100
    /// connections for 256 units and TD3 does not learn this task in a short run; ERK keeps it denser.
    func testTowsTD3_90() throws { try learn("tows-td3", steps: 30_000, ["distribution": "erk"]) }
}
