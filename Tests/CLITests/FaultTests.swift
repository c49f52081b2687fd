import Foundation
import XCTest

/// Issue 25: writes that fail mid-run and sizes that would trap, as a user meets them: one line, a non-zero exit,
/// nothing lost. A full disk is stood in for by a file-size limit (`ulimit -f` with SIGXFSZ ignored: every write
/// past the limit fails with EFBIG, as one past a full disk fails with ENOSPC), which needs no root.
final class FaultTests: XCTestCase {
    /// Runs `sparrow ARGS` under `ulimit -f KB` in a real process.
    func runLimited(kilobytes: Int, _ arguments: [String], in dir: URL) throws -> CLIRun {
        let quoted = ([CLI.executable.path] + arguments).map { "'" + $0 + "'" }.joined(separator: " ")
        return try CLI.run(executable: URL(fileURLWithPath: "/bin/bash"),
                           ["-c", "cd '\(dir.path)' && trap '' XFSZ && ulimit -f \(kilobytes) && exec \(quoted)"])
    }

    func assertWholeRows(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.isEmpty || text.hasSuffix("\n"), "\(path) ends in a cut row", file: file, line: line)
        let widths = Set(text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).count })
        XCTAssertEqual(widths.count, 1, "\(path): every row as wide as the header", file: file, line: line)
    }

    func testAFullDiskEndsTheRunInOneLineWithWholeRowsAndTheLastCheckpoint() throws {
        let dir = try CLI.temporaryDirectory()
        let train = ["train", "--preset", "tows-sac", "--env", "InvertedPendulum-v5", "--steps", "2000", "--start-steps", "300",
                     "--eval-every", "500", "--eval-episodes", "1", "--no-progress", "--run-dir", "run"]
        // Logs fill the "disk" (rows every 10 steps, no checkpoint before the end).
        let logs = try runLimited(kilobytes: 4, train + ["--log-every", "10", "--checkpoint-every", "100000"], in: dir)
        assertCleanFailure(logs, contains: "cannot append to run/")
        XCTAssertTrue(logs.stderr.contains("File too large"), logs.stderr)
        for f in ["metrics.csv", "evaluations.csv", "analysis.csv"] { try assertWholeRows(dir.path + "/run/" + f) }

        // A checkpoint write fails: the one before it stays, no temporary is left, and the run resumes from it to
        // the same end. The limit: just under the size of the last checkpoint (step 2500) of the same run made without
        // one; the replay buffer grows by about 19 kB per 500 steps, so the checkpoints before it fit.
        let reference = try CLI.run(["train", "--preset", "tows-sac", "--env", "InvertedPendulum-v5", "--steps", "3000",
                                     "--start-steps", "300", "--eval-every", "500", "--eval-episodes", "1", "--no-progress",
                                     "--checkpoint-every", "500", "--run-dir", dir.path + "/reference"])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let full = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/reference/checkpoint.sparrow")).count
        try FileManager.default.removeItem(at: dir.appendingPathComponent("run"))
        let limited = try runLimited(kilobytes: (full - 10_000) / 1024, train + ["--steps", "3000", "--checkpoint-every", "500"], in: dir)
        assertCleanFailure(limited, contains: "cannot write run/checkpoint.sparrow")
        let checkpoint = dir.path + "/run/checkpoint.sparrow"
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint), "an earlier checkpoint is still there")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/run").contains { $0.contains(".tmp") })
        for f in ["metrics.csv", "evaluations.csv"] { try assertWholeRows(dir.path + "/run/" + f) }
        // Resuming while the disk is still full: one line naming a file and the reason, no Foundation dump, nothing lost.
        let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        let stillFull = try runLimited(kilobytes: 1, train + ["--steps", "3000", "--checkpoint-every", "500", "--resume"], in: dir)
        assertCleanFailure(stillFull, contains: "run/")
        XCTAssertTrue(stillFull.stderr.contains("File too large"), stillFull.stderr)
        XCTAssertFalse(stillFull.stderr.contains("Domain=") || stillFull.stderr.contains("UserInfo"), stillFull.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint)), before, "the last checkpoint is intact")
        // The same flags and --resume, as a sweep restarts it.
        let resumed = try CLI.run(train.map { $0 == "run" ? dir.path + "/run" : $0 } + ["--steps", "3000", "--checkpoint-every", "500", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let steps = try String(contentsOfFile: dir.path + "/run/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .compactMap { Int($0.prefix { $0 != "," }) }
        XCTAssertEqual(steps, steps.sorted(), "no step twice after the resume")
        XCTAssertEqual(Set(steps).count, steps.count)
        XCTAssertEqual(steps.last, 3000)
        XCTAssertEqual(try String(contentsOfFile: dir.path + "/run/evaluations.csv", encoding: .utf8),
                       try String(contentsOfFile: dir.path + "/reference/evaluations.csv", encoding: .utf8),
                       "the resumed run evaluates exactly as the uninterrupted one")
    }

    /// Sizes and ranges that used to trap (SIGILL in LayerShape.init, TopologyUpdateSchedule.init, or an
    /// allocation of millions of noise features) are one line before anything is built.
    func testSizesThatTrappedAreOneLine() throws {
        let base = ["train", "--env", "Hopper-v5", "--preset", "tows-sac", "--steps", "100", "--start-steps", "10", "--no-progress",
                    "--run-dir", try CLI.temporaryDirectory().path + "/r"]
        assertCleanFailure(try CLI.run(base + ["--hidden", "1000000,1000000"]), contains: "hidden 1000000,1000000: too many weights")
        assertCleanFailure(try CLI.run(base + ["--hidden", "40000,40000"]), contains: "at most 200000000 weights per network")
        assertCleanFailure(try CLI.run(base + ["--noise-features", "0.999999"]), contains: "noise-features must be in [0.0, 0.99]")
        assertCleanFailure(try CLI.run(base + ["--update-offset", "-1"]), contains: "update-offset must be in 0..<update-interval (1000), got -1")
        assertCleanFailure(try CLI.run(base + ["--update-offset", "1000"]), contains: "got 1000")
    }
}
