import Experiments
import Foundation
import Training
import XCTest

/// Reading a run's metrics.csv while it trains (`RunLog.progress`): the last whole row's step and evaluation, and the
/// speed the time left is estimated from.
final class RunLogTests: XCTestCase {
    /// The speed is the median of the last five whole rows' steps_per_s: one slow row (a checkpoint, a resume) does not
    /// move it, an empty or zero one is left out, and a row still being written (no newline yet) counts for nothing.
    func testSpeedIsTheMedianOfTheLastWholeRows() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-runlog-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("metrics.csv").path
        var text = "step,wall_time_s,steps_per_s,episode_return,eval_return\n"
        let speeds = ["900", "100", "110", "3", "", "120", "0", "105"]  // only the last five whole rows count
        for (i, v) in speeds.enumerated() { text += "\((i + 1) * 1000),\(i),\(v),1.0,\(i == 6 ? "42.5" : "")\n" }
        try (text + "9000,8,5000,1.0,").write(toFile: path, atomically: true, encoding: .utf8)
        let p = try XCTUnwrap(RunLog.progress(dir.path))
        XCTAssertEqual(p.step, 8000, "the row being written is not read")
        XCTAssertNil(p.evalReturn, "the last whole row has no evaluation")
        XCTAssertEqual(p.stepsPerSecond, 105, "median of 3, 120, 105 (the empty and zero speeds left out)")
        XCTAssertEqual(try XCTUnwrap(p.secondsLeft(total: 29_000)), 200, accuracy: 1e-9)
        XCTAssertEqual(p.secondsLeft(total: 5000), 0, "past its end: nothing left")
        XCTAssertEqual(RunLog.duration(200), "3 min")
        XCTAssertEqual(RunLog.duration(9000), "2.5 h")

        try "step,wall_time_s,steps_per_s\n1000,1,".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertNil(RunLog.progress(dir.path), "no whole row yet")
        try "step,wall_time_s,steps_per_s\n1000,1,\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(RunLog.progress(dir.path)?.step, 1000)
        XCTAssertNil(RunLog.progress(dir.path)?.stepsPerSecond)
    }

    /// Before its first update a run only acts (Atari DQN's 20k warm-up steps at ~1400 steps/s, against ~50 once it
    /// learns): no time left is estimated from that speed, and once it learns only rows that learned count.
    func testWarmUpRowsDoNotEstimateTheTimeLeft() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-runlog-warm-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("metrics.csv").path
        func row(_ step: Int, speed: Double, flops: Double) -> String {
            var cells = Array(repeating: "", count: MetricsRow.columns.count)
            cells[0] = "\(step)"; cells[2] = String(format: "%.1f", speed)
            cells[MetricsRow.columns.firstIndex { $0.name == "training_flops" }!] = String(format: "%.6e", flops)
            return cells.joined(separator: ",") + "\n"
        }
        var text = MetricsRow.header + "\n" + row(10_000, speed: 1400, flops: 0) + row(20_000, speed: 1300, flops: 0)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var p = try XCTUnwrap(RunLog.progress(dir.path))
        XCTAssertTrue(p.warmingUp)
        XCTAssertEqual(p.stepsPerSecond, 1350, "the acting speed is still shown")
        XCTAssertNil(p.secondsLeft(total: 2_000_000), "but no time left is estimated from it")

        text += row(30_000, speed: 50, flops: 1e12) + row(40_000, speed: 40, flops: 2e12)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        p = try XCTUnwrap(RunLog.progress(dir.path))
        XCTAssertFalse(p.warmingUp)
        XCTAssertEqual(p.stepsPerSecond, 45, "the median of the two learning rows, not of 1400, 1300, 50, 40")
        XCTAssertEqual(try XCTUnwrap(p.secondsLeft(total: 130_000)), 2000, accuracy: 1e-9)
    }
}
