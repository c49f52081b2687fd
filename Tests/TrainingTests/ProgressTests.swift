@testable import Training
import XCTest

/// The progress a person watches (`ProgressReporter`): before the first update a run only acts, 10-50× faster than
/// it learns (Atari DQN's 20k warm-up steps), so no ETA is drawn from that speed.
final class ProgressTests: XCTestCase {
    func testNoETAFromWarmUpSpeed() {
        let warm = ProgressReporter.logLine(label: "dqn", step: 20_000, total: 2_000_000, stepsPerSecond: 1400,
                                            evalReturn: nil, learning: false)
        XCTAssertTrue(warm.hasSuffix("1400 steps/s eta - eval_return -"), warm)
        let learning = ProgressReporter.logLine(label: "dqn", step: 20_000, total: 2_000_000, stepsPerSecond: 50,
                                                evalReturn: -20.5, learning: true)
        XCTAssertTrue(learning.hasSuffix("50 steps/s eta 11h00m eval_return -20.5"), learning)

        let bar = ProgressReporter.barLine(label: "dqn", step: 20_000, total: 2_000_000, stepsPerSecond: 1400,
                                           evalReturn: nil, learning: false)
        XCTAssertTrue(bar.contains("ETA -- (warm-up)"), bar)
        let resumed = ProgressReporter.barLine(label: "dqn", step: 880_000, total: 2_000_000, stepsPerSecond: 0,
                                               evalReturn: nil, learning: false)
        XCTAssertTrue(resumed.contains("ETA --  eval"), "a resumed run with no speed yet is not called warming up: \(resumed)")
        let bar2 = ProgressReporter.barLine(label: "dqn", step: 1_000_000, total: 2_000_000, stepsPerSecond: 50,
                                            evalReturn: 3.5, learning: true)
        XCTAssertTrue(bar2.contains("ETA 5h33m  eval 3.5"), bar2)
    }
}
