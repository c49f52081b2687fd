import Foundation
import XCTest

/// `sparrow sweep` (local and SLURM backends), `sparrow sweep status` and `sparrow report` as a user runs them.
final class SweepCLITests: XCTestCase {
    static let tiny = """
          env: InvertedPendulum-v5
          preset: tows-sac
          steps: 400
          start-steps: 200
          eval-every: 200
          eval-episodes: 1
          hidden: [32, 32]
        """

    func status(_ root: String) throws -> [String: Any] {
        let r = try CLI.run(["sweep", "status", root, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    func testLocalSweepRunsTwoRunsSkipsThemWhenRerunAndReports() throws {
        let dir = try CLI.temporaryDirectory()
        let spec = dir.appendingPathComponent("sweep.yaml").path
        try "root: \(dir.path)/root\ngrid:\n  seed: [0, 1]\n\(Self.tiny)\n".write(toFile: spec, atomically: true, encoding: .utf8)

        let dry = try CLI.run(["sweep", spec, "--backend", "local", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual(dry.lines.filter { $0.hasPrefix("start") }.count, 2, dry.stdout)

        let first = try CLI.run(["sweep", spec, "--backend", "local", "--jobs", "2"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertTrue(first.stdout.contains("2 finished, 0 skipped"), first.stdout)
        let names = ["InvertedPendulum-v5_tows-sac_s0.9_seed0", "InvertedPendulum-v5_tows-sac_s0.9_seed1"]
        for name in names {
            let summary = dir.appendingPathComponent("root/\(name)/summary.json").path
            XCTAssertTrue(FileManager.default.fileExists(atPath: summary), name)
        }
        let mtime = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("root/\(names[0])/summary.json").path)[.modificationDate] as? Date

        let second = try CLI.run(["sweep", spec, "--backend", "local"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("0 finished, 2 skipped"), second.stdout)
        let mtime2 = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("root/\(names[0])/summary.json").path)[.modificationDate] as? Date
        XCTAssertEqual(mtime, mtime2, "a finished run was run again")

        let s = try status(dir.appendingPathComponent("root").path)
        XCTAssertEqual(s["counts"] as? [String: Int], ["done": 2, "running": 0, "pending": 0, "failed": 0])

        let report = try CLI.run(["report", dir.appendingPathComponent("root").path, "--reps", "1000"])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("| TowS-SAC | 90% |"), report.stdout)
        for file in ["report.md", "results.csv", "learning_curves.svg", "iqm.svg", "return_vs_sparsity.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("root/report/\(file)").path), file)
        }
    }

    func testStatusNamesTheFailingLine() throws {
        let dir = try CLI.temporaryDirectory()
        let spec = dir.appendingPathComponent("sweep.yaml").path
        // A run directory that already holds a run with other settings: `train --resume` refuses it with one line.
        try "root: \(dir.path)/root\ngrid:\n  seed: [0]\n\(Self.tiny)\n".write(toFile: spec, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("root/InvertedPendulum-v5_tows-sac_s0.9_seed0").path
        let pre = try CLI.run(["train", "--run-dir", run, "--env", "InvertedPendulum-v5", "--steps", "400", "--start-steps", "200",
                               "--eval-every", "200", "--hidden", "64,64", "--no-progress"])
        XCTAssertEqual(pre.status, 0, pre.stderr)
        try FileManager.default.removeItem(atPath: run + "/summary.json")
        let r = try CLI.run(["sweep", spec, "--backend", "local"])
        assertCleanFailure(r, contains: "1 of 1 runs failed")
        let s = try status(dir.appendingPathComponent("root").path)
        let runs = try XCTUnwrap(s["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.first?["state"] as? String, "failed")
        XCTAssertTrue((runs.first?["detail"] as? String ?? "").hasPrefix("Error:"), "\(runs)")
    }
}
