import Foundation
import XCTest
@testable import Training

/// Dense and 90%-sparse SET DQN (the presets, Graesser et al.'s settings) solve CartPole-v1: some evaluation (20
/// greedy episodes, every 2000 steps) reaches a mean return ≥ 475 within 50k environment steps. The run stops at
/// the first such evaluation. Seeds are fixed, so a run is deterministic on a given machine — but not across BLAS
/// kernels: dense-dqn's seed 0 solves at 28k steps with OpenBLAS's Cooperlake/SkylakeX kernels and not within 50k
/// with its Haswell ones (`OPENBLAS_CORETYPE=Haswell`; other rounding, another run). So a preset passes when its
/// first seed, or failing that a second, solves within the budget; the test prints which.
final class DQNLearningTests: XCTestCase {
    func solveCartPole(_ preset: String, seeds: [UInt64] = [0, 2], line: UInt = #line) throws {
        let budget = 50_000
        var tried: [String] = []
        for seed in seeds {
            let config = try TrainConfig.resolve(preset: preset, env: "CartPole-v1", file: nil,
                                                 flags: ["steps": budget, "checkpoint-every": budget, "seed": seed])
            let dir = temporaryRunDirectory("learn\(preset)\(seed)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let trainer = try OffPolicyTrainer(config: config, runDirectory: dir, resume: false)
            while trainer.step < budget, (trainer.evaluations.last?.meanReturn ?? 0) < 475 {
                _ = try trainer.run(stopAfter: trainer.step + config.evalEvery, finalCheckpoint: false)
            }
            let returns = trainer.evaluations.map { Int($0.meanReturn) }
            if (trainer.evaluations.last?.meanReturn ?? 0) >= 475 {
                print("\(preset) seed \(seed): solved CartPole-v1 at step \(trainer.step); evaluations \(returns)")
                return
            }
            tried.append("seed \(seed): \(returns)")
        }
        XCTFail("\(preset) did not reach 475 within \(budget) steps: \(tried.joined(separator: "; "))", line: line)
    }

    func testDenseDQNSolvesCartPole() throws { try solveCartPole("dense-dqn") }
    func testSET90DQNSolvesCartPole() throws { try solveCartPole("set-dqn") }
}
