import Foundation
import XCTest
@testable import Training

/// Dense and 90%-sparse SET DQN (the presets, Graesser et al.'s settings) solve CartPole-v1: some evaluation (20
/// greedy episodes, every 2000 steps) reaches a mean return ≥ 475 within 50k environment steps. The run stops at
/// the first such evaluation. Seeds are fixed, so a run is deterministic on a given machine.
final class DQNLearningTests: XCTestCase {
    func solveCartPole(_ preset: String, line: UInt = #line) throws {
        let budget = 50_000
        let config = try TrainConfig.resolve(preset: preset, env: "CartPole-v1", file: nil,
                                             flags: ["steps": budget, "checkpoint-every": budget])
        let dir = temporaryRunDirectory("learn\(preset)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try Trainer(config: config, runDirectory: dir, resume: false)
        while trainer.step < budget, (trainer.evaluations.last?.meanReturn ?? 0) < 475 {
            _ = try trainer.run(stopAfter: trainer.step + config.evalEvery, finalCheckpoint: false)
        }
        let returns = trainer.evaluations.map { Int($0.meanReturn) }
        XCTAssertGreaterThanOrEqual(trainer.evaluations.last?.meanReturn ?? 0, 475,
                                    "\(preset): evaluations \(returns)", line: line)
        print("\(preset): solved CartPole-v1 at step \(trainer.step); evaluations \(returns)")
    }

    func testDenseDQNSolvesCartPole() throws { try solveCartPole("dense-dqn") }
    func testSET90DQNSolvesCartPole() throws { try solveCartPole("set-dqn") }
}
