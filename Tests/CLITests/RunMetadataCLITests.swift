import Foundation
import XCTest

/// run.json: the versions, machine and times of a run; a resume keeps the start and adds a session; `--version`
/// prints the same versions.
final class RunMetadataCLITests: XCTestCase {
    func testRunJSONRecordsVersionsMachineAndSessions() throws {
        let dir = try CLI.temporaryDirectory().appendingPathComponent("run").path
        let args = ["train", "--preset", "dense-sac", "--env", "InvertedPendulum-v5", "--start-steps", "200",
                    "--eval-every", "300", "--eval-episodes", "1", "--no-progress", "--run-dir", dir]
        let first = try CLI.run(args + ["--steps", "400"], environment: ["SLURM_JOB_ID": "4242", "SLURM_ARRAY_TASK_ID": "3",
                                                                       "SLURM_ARRAY_JOB_ID": nil])
        XCTAssertEqual(first.status, 0, first.stderr)
        func load() throws -> [String: Any] {
            let d = try Data(contentsOf: URL(fileURLWithPath: dir + "/run.json"))
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: d) as? [String: Any])
        }
        var m = try load()
        let version = try CLI.run(["--version"])
        XCTAssertEqual(version.status, 0)
        let line = version.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try XCTUnwrap(m["git_commit"] as? String)
        XCTAssertTrue(commit == "unknown" || (commit.count == 40 && commit.allSatisfy(\.isHexDigit)), commit)
        for key in ["sparrow_version", "git_commit", "swift_version", "mujoco_version"] {
            let v = try XCTUnwrap(m[key] as? String, key)
            XCTAssertTrue(line.contains(v), "\(key) \(v) not in --version: \(line)")
        }
        XCTAssertEqual(m["blas_library"] as? String, "OpenBLAS")
        let machine = try XCTUnwrap(m["machine"] as? [String: Any])
        XCTAssertFalse((machine["cpu"] as? String ?? "").isEmpty)
        XCTAssertNotNil(machine["cpu_features"] as? [String])
        XCTAssertNotNil(machine["blas_core"] as? String)
        XCTAssertNotNil(machine["threads"] as? Int)
        var sessions = try XCTUnwrap(m["sessions"] as? [[String: Any]])
        XCTAssertEqual(sessions.count, 1)
        XCTAssertEqual(sessions[0]["slurm_job_id"] as? String, "4242")
        XCTAssertEqual(sessions[0]["slurm_array_task_id"] as? String, "3")
        XCTAssertNil(sessions[0]["slurm_array_job_id"])
        XCTAssertNotNil(sessions[0]["ended_at"] as? String, "end time written when the process closes its logs")
        let started = try XCTUnwrap(m["started_at"] as? String)

        // Longer: the same run continues (--resume) as a second session with the first start kept.
        let resumed = try CLI.run(args + ["--steps", "400", "--resume"], environment: ["SLURM_JOB_ID": nil, "SLURM_ARRAY_TASK_ID": nil])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        m = try load()
        sessions = try XCTUnwrap(m["sessions"] as? [[String: Any]])
        XCTAssertEqual(sessions.count, 2)
        XCTAssertEqual(m["started_at"] as? String, started)
        XCTAssertNil(sessions[1]["slurm_job_id"])
    }
}
