import Foundation
import XCTest
@testable import Training

/// Dense and 90%-sparse SET PPO (the presets, Graesser et al.'s settings, with the run shortened to the budget so
/// the learning rate decays and the mask updates stop within it) balance InvertedPendulum-v5: some evaluation (10
/// deterministic episodes, every 2 rollouts = 4096 steps) reaches a mean return ≥ 900 within 50 iterations =
/// 102 400 environment steps. The run stops at the first such evaluation. Seeds are fixed.
final class PPOLearningTests: XCTestCase {
    func balance(_ preset: String, line: UInt = #line) throws {
        let budget = 50 * 2048
        let config = try TrainConfig.resolve(preset: preset, env: "InvertedPendulum-v5", file: nil,
                                             flags: ["steps": budget, "checkpoint-every": budget, "eval-every": 4096,
                                                     "eval-episodes": 10])
        let dir = temporaryRunDirectory("learn\(preset)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try OnPolicyTrainer(config: config, runDirectory: dir, resume: false)
        while trainer.step < budget, (trainer.evaluations.last?.meanReturn ?? 0) < 900 {
            _ = try trainer.run(stopAfter: trainer.step + config.evalEvery, finalCheckpoint: false)
        }
        let returns = trainer.evaluations.map { Int($0.meanReturn) }
        XCTAssertGreaterThanOrEqual(trainer.evaluations.last?.meanReturn ?? 0, 900,
                                    "\(preset): evaluations \(returns)", line: line)
        print("\(preset): InvertedPendulum-v5 ≥ 900 at step \(trainer.step); evaluations \(returns)")
    }

    func testDensePPOBalancesInvertedPendulum() throws { try balance("dense-ppo") }
    func testSET90PPOBalancesInvertedPendulum() throws { try balance("set-ppo") }
}
