import Foundation
import XCTest

/// The SLURM backend on a real single-node SLURM (tools/slurm/start-local-slurm.sh, which .ci/run calls).
final class SweepSlurmTests: XCTestCase {
    func slurmUp() -> Bool {
        guard let r = try? run("/usr/bin/env", ["scontrol", "ping"]) else { return false }
        return r.status == 0 && r.stdout.contains("UP")
    }

    func run(_ exe: String, _ args: [String]) throws -> CLIRun {
        try CLI.run(executable: URL(fileURLWithPath: exe), args)
    }

    func wait(_ what: String, timeout: Double, _ done: () -> Bool) {
        let start = Date()
        while !done() {
            if Date().timeIntervalSince(start) > timeout { XCTFail("timed out after \(timeout) s waiting for \(what)"); return }
            usleep(50_000)
        }
    }

    /// Two runs through sbatch; run 1 gets SIGUSR1 mid-way (as before a time limit), checkpoints, requeues its own
    /// array task and resumes; its evaluations equal an uninterrupted run's; status reports both done.
    func testSlurmSweepCompletesAndARequeuedRunEndsAsIfUninterrupted() throws {
        guard slurmUp() else {
            throw XCTSkip("no SLURM controller answers `scontrol ping` (start one with tools/slurm/start-local-slurm.sh as root)")
        }
        let dir = try CLI.temporaryDirectory()
        let root = dir.appendingPathComponent("root").path
        let settings = ["--env", "InvertedPendulum-v5", "--preset", "tows-sac", "--steps", "20000", "--start-steps", "500",
                        "--eval-every", "1000", "--eval-episodes", "1", "--hidden", "32,32", "--log-every", "100"]
        let spec = dir.appendingPathComponent("sweep.yaml").path
        try """
            root: \(root)
            name: sparrow-test
            grid:
              env: InvertedPendulum-v5
              preset: tows-sac
              seed: [0, 1]
              steps: 20000
              start-steps: 500
              eval-every: 1000
              eval-episodes: 1
              hidden: [32, 32]
              log-every: 100
            resources: {time: "00:10:00", cpus-per-task: 1, mem: 1G, signal-before: 60}
            """.write(toFile: spec, atomically: true, encoding: .utf8)

        let dry = try CLI.run(["sweep", spec, "--backend", "slurm", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("#SBATCH --signal=B:USR1@60") && dry.stdout.contains("#SBATCH --requeue"), dry.stdout)

        let submit = try CLI.run(["sweep", spec, "--backend", "slurm"])
        XCTAssertEqual(submit.status, 0, submit.stderr)
        let job = try XCTUnwrap(submit.stdout.split(separator: " ").dropFirst(3).first.map { String($0.dropLast()) }, submit.stdout)
        XCTAssertTrue(job.allSatisfy(\.isNumber), submit.stdout)
        defer { _ = try? run("/usr/bin/env", ["scancel", job]) }

        let run1 = root + "/InvertedPendulum-v5_tows-sac_s0.9_seed1"
        wait("run 1 to pass step 3000", timeout: 120) {
            guard let text = try? String(contentsOfFile: run1 + "/metrics.csv", encoding: .utf8),
                  let last = text.split(separator: "\n").last, let step = Int(last.prefix { $0 != "," }) else { return false }
            return step >= 3000
        }
        let signal = try run("/usr/bin/env", ["scancel", "--signal=USR1", "--batch", "\(job)_1"])
        XCTAssertEqual(signal.status, 0, signal.stderr)

        // SLURM holds a requeued job back for a while (BeginTime ≈ now + 2 min); start it sooner — but not within
        // the second its previous credential was revoked, or slurmd refuses it ("Job credential revoked") and the
        // task ends instead of resuming. That happened once the runs got fast enough to be signalled within a
        // second of starting.
        wait("run 1 to requeue itself", timeout: 60) {
            ((try? String(contentsOfFile: run1 + "/train.log", encoding: .utf8)) ?? "").contains("requeueing")
        }
        for _ in 0..<40 {
            let q = try run("/usr/bin/env", ["squeue", "-h", "-r", "-j", job, "-o", "%i %T"])
            if q.stdout.contains("\(job)_1 PENDING") {
                _ = try run("/usr/bin/env", ["scontrol", "update", "JobId=\(job)_1", "StartTime=now+3"]); break
            }
            usleep(250_000)
        }
        let summaries = [root + "/InvertedPendulum-v5_tows-sac_s0.9_seed0/summary.json", run1 + "/summary.json"]
        wait("both runs to finish", timeout: 240) { summaries.allSatisfy { FileManager.default.fileExists(atPath: $0) } }
        let log = (try? String(contentsOfFile: run1 + "/train.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("SIGUSR1 at step"), "run 1 was not signalled mid-way:\n\(log)")
        XCTAssertTrue(log.contains("requeueing"), log)
        XCTAssertTrue(log.contains("restart 1"), "the task did not come back:\n\(log)")

        // The same settings without interruption, locally.
        let plain = dir.appendingPathComponent("plain").path
        let r = try CLI.run(["train", "--run-dir", plain, "--seed", "1", "--no-progress"] + settings)
        XCTAssertEqual(r.status, 0, r.stderr)
        let expected = try String(contentsOfFile: plain + "/evaluations.csv", encoding: .utf8)
        let got = try String(contentsOfFile: run1 + "/evaluations.csv", encoding: .utf8)
        XCTAssertEqual(got, expected, "the requeued run's evaluations differ from an uninterrupted run's")
        XCTAssertEqual(expected.split(separator: "\n").count, 21)

        let status = try CLI.run(["sweep", "status", root, "--json"])
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any], status.stdout + status.stderr)
        XCTAssertEqual(o["counts"] as? [String: Int], ["done": 2, "running": 0, "pending": 0, "failed": 0], status.stdout)
    }
}
