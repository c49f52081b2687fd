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

    /// Every sweep spec committed in sweeps/ (the Atari grids included) expands, and every run's settings resolve to
    /// a valid config: a spec a user submits to SLURM must not fail on run 812. Dry runs, roots moved to a temporary
    /// folder.
    func testEveryCommittedSweepSpecExpands() throws {
        let sweeps = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sweeps")
        let files = try FileManager.default.contentsOfDirectory(atPath: sweeps.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertTrue(files.contains("graesser-dqn-atari.yaml") && files.contains("atari-dqn-evidence.yaml"), "\(files)")
        let dir = try CLI.temporaryDirectory()
        for file in files {
            let text = try String(contentsOf: sweeps.appendingPathComponent(file), encoding: .utf8)
            let moved = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasPrefix("root:") ? "root: \(dir.path)/\(file)" : String(line)
            }.joined(separator: "\n")
            let spec = dir.appendingPathComponent(file).path
            try moved.write(toFile: spec, atomically: true, encoding: .utf8)
            let r = try CLI.run(["sweep", spec, "--backend", "local", "--dry-run"])
            XCTAssertEqual(r.status, 0, "\(file): \(r.stderr)")
            XCTAssertGreaterThan(r.lines.filter { $0.hasPrefix("start") }.count, 0, file)
            if file == "graesser-dqn-atari.yaml" { XCTAssertEqual(r.lines.filter { $0.hasPrefix("start") }.count, 1275) }
        }
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
        XCTAssertEqual((s["time_left"] as? [String: Any])?["seconds"] as? Double, 0, "nothing left: \(s)")

        // A third seed listed in sweep.json but not started: priced at the median (here the mean) of the two finished
        // seeds' training times, their last metrics rows' wall_time_s; a run of another setting is not priced.
        let root = dir.appendingPathComponent("root").path
        var manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/sweep.json"))) as? [String: Any])
        var runs = try XCTUnwrap(manifest["runs"] as? [[String: Any]])
        for (i, name) in ["InvertedPendulum-v5_tows-sac_s0.9_seed2", "InvertedPendulum-v5_dense-sac_s0.0_seed0"].enumerated() {
            runs.append(["index": 2 + i, "name": name, "directory": root + "/" + name, "arguments": ["train"]])
        }
        manifest["runs"] = runs
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: root + "/sweep.json"))
        let times = try names.map { name -> Double in
            let rows = try String(contentsOfFile: root + "/\(name)/metrics.csv", encoding: .utf8).split(separator: "\n")
            return try XCTUnwrap(Double(rows.last!.split(separator: ",", omittingEmptySubsequences: false)[1]))
        }
        let left = try XCTUnwrap(try status(root)["time_left"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(left["seconds"] as? Double), (times[0] + times[1]) / 2, accuracy: 1e-9)
        XCTAssertEqual(left["priced_pending"] as? Int, 1)
        XCTAssertEqual(left["unpriced"] as? Int, 1, "no finished dense-sac run prices the other setting")
        let text = try CLI.run(["sweep", "status", root])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertEqual(text.lines.last, "2 pending, 0 running, 2 done, 0 failed")
        XCTAssertTrue(text.lines.dropLast().last?.hasPrefix("time left: about ") == true, text.stdout)

        let report = try CLI.run(["report", dir.appendingPathComponent("root").path, "--reps", "1000"])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("| TowS-SAC | 90% |"), report.stdout)
        for file in ["report.md", "results.csv", "learning_curves.svg", "iqm.svg", "return_vs_sparsity.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("root/report/\(file)").path), file)
        }
        // Inference FLOPs come from summary.json, so the report keeps them once the checkpoints are deleted.
        func inferenceFLOPs(_ csv: String) throws -> String {
            let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            let column = try XCTUnwrap(rows[0].firstIndex(of: "inference_flops"))
            return String(rows[1][column])
        }
        let withCheckpoints = try inferenceFLOPs(root + "/report/results.csv")
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/\(names[0])/summary.json"))) as? [String: Any])
        let stored = try XCTUnwrap(summary["inference_flops"] as? Double)
        XCTAssertGreaterThan(stored, 0)
        XCTAssertEqual(Double(withCheckpoints), stored, "both seeds have the same live weights at a fixed sparsity")
        for name in names { try FileManager.default.removeItem(atPath: root + "/\(name)/checkpoint.sparrow") }
        XCTAssertEqual(try CLI.run(["report", root, "--reps", "1000", "--out", root + "/report-after"]).status, 0)
        XCTAssertEqual(try inferenceFLOPs(root + "/report-after/results.csv"), withCheckpoints)

        // A published curve beside the runs' own (--reference), and a bad reference file as one line.
        let ref = dir.appendingPathComponent("ref.csv").path, bad = dir.appendingPathComponent("ref-bad.csv").path
        try "env,label,step,value,low,high\nInvertedPendulum-v5,Published SAC,200,5,4,6\nInvertedPendulum-v5,Published SAC,400,9,8,10\n"
            .write(toFile: ref, atomically: true, encoding: .utf8)
        try "env,label,step,value,low,high\nInvertedPendulum-v5,Published SAC,abc,5,,\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("with-reference").path
        let withReference = try CLI.run(["report", dir.appendingPathComponent("root").path, "--reps", "1000", "--reference", ref, "--out", out])
        XCTAssertEqual(withReference.status, 0, withReference.stderr)
        XCTAssertTrue(withReference.stdout.contains("- Published SAC on InvertedPendulum-v5, from ref.csv"), withReference.stdout)
        XCTAssertTrue(try String(contentsOfFile: out + "/learning_curves.svg", encoding: .utf8).contains("Published SAC"))
        assertCleanFailure(try CLI.run(["report", dir.appendingPathComponent("root").path, "--reference", bad, "--out", out]),
                           contains: "ref-bad.csv line 2: step 'abc' is not a finite number")
        assertCleanFailure(try CLI.run(["report", dir.appendingPathComponent("root").path, "--reference", ref + ".missing"]),
                           contains: "--reference: no file at")
        // Training-return curves (--curves training), and their flags' mistakes.
        let trainingOut = dir.appendingPathComponent("training-curves").path
        let training = try CLI.run(["report", dir.appendingPathComponent("root").path, "--reps", "1000", "--curves", "training",
                                    "--train-window", "200", "--out", trainingOut])
        XCTAssertEqual(training.status, 0, training.stderr)
        XCTAssertTrue(training.stdout.contains("learning_curves.svg draws training returns"), training.stdout)
        XCTAssertTrue(try String(contentsOfFile: trainingOut + "/learning_curves.svg", encoding: .utf8).contains("training return"))
        assertCleanFailure(try CLI.run(["report", dir.appendingPathComponent("root").path, "--curves", "train"]),
                           contains: "--curves takes one of evaluation, training, got 'train'")
        assertCleanFailure(try CLI.run(["report", dir.appendingPathComponent("root").path, "--train-window", "100"]),
                           contains: "--train-window sets the window of --curves training")
        assertCleanFailure(try CLI.run(["report", dir.appendingPathComponent("root").path, "--curves", "training", "--train-window", "0"]),
                           contains: "--train-window must be a positive number of steps, got 0")
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
    /// Two `sparrow sweep --jobs 1` processes on one root, the second started while the first trains its first run
    /// (a third of it done, so the two never race for the same finished run): each run trains once, in one of them;
    /// the other counts it "running elsewhere" (or, if it finished first, skipped), and both exit 0. Every
    /// train.log holds whole lines only, and every line each writer wrote: both sweeps' header and footer lines,
    /// the training child's start and end lines, the refused child's one error line.
    func testTwoSweepersOnOneRootShareTheRunsAndEveryLogLineArrivesWhole() throws {
        let dir = try CLI.temporaryDirectory()
        let spec = dir.appendingPathComponent("sweep.yaml").path
        let steps = 30000  // about 3 s alone on one core
        try """
            root: \(dir.path)/root
            grid:
              seed: [0, 1]
              env: InvertedPendulum-v5
              preset: tows-sac
              steps: \(steps)
              start-steps: 500
              eval-every: 10000
              eval-episodes: 1
              log-every: 2000
              hidden: [32, 32]

            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let names = ["InvertedPendulum-v5_tows-sac_s0.9_seed0", "InvertedPendulum-v5_tows-sac_s0.9_seed1"]
        let runDirs = names.map { dir.appendingPathComponent("root/\($0)").path }

        func startSweep(_ label: String) throws -> (Process, String) {
            let out = dir.appendingPathComponent("\(label).out").path
            XCTAssertTrue(FileManager.default.createFile(atPath: out, contents: nil))
            let p = Process()
            p.executableURL = CLI.executable
            p.arguments = ["sweep", spec, "--backend", "local", "--jobs", "1"]
            p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            p.standardError = p.standardOutput
            try p.run()
            return (p, out)
        }
        let (first, firstOut) = try startSweep("first")
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        // The second starts once the first's child holds run 0 and has trained a third of it.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, progressStep(runDirs[0]) < steps / 3, first.isRunning { usleep(50_000) }
        XCTAssertGreaterThanOrEqual(progressStep(runDirs[0]), steps / 3, "the first sweep did not get going")
        let (second, secondOut) = try startSweep("second")
        defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
        first.waitUntilExit()
        second.waitUntilExit()
        let outputs = [try String(contentsOfFile: firstOut, encoding: .utf8), try String(contentsOfFile: secondOut, encoding: .utf8)]
        let sweeps = [first, second]
        for (p, out) in zip(sweeps, outputs) {
            XCTAssertEqual(p.terminationStatus, 0, out)
            XCTAssertFalse(out.contains("failed   "), out)
            XCTAssertTrue(out.contains(", 0 failed"), out)
        }
        // Run 0: the first trained it, the second found it running.
        XCTAssertTrue(outputs[0].contains("done     \(names[0])"), outputs[0])
        XCTAssertTrue(outputs[1].contains("elsewhere \(names[0]): another process is training it (pid "), outputs[1])
        XCTAssertTrue(outputs[1].contains("running elsewhere, 0 failed"), outputs[1])
        // Run 1: the second trained it; the first found it running, or already finished.
        XCTAssertTrue(outputs[1].contains("done     \(names[1])"), outputs[1])
        let firstOnRun1Elsewhere = outputs[0].contains("elsewhere \(names[1])")
        XCTAssertTrue(firstOnRun1Elsewhere || outputs[0].contains("skipped  \(names[1]) (finished elsewhere)"), outputs[0])
        // Between them, each run finished exactly once.
        XCTAssertEqual(outputs.map { $0.components(separatedBy: "\ndone     ").count - 1 }.reduce(0, +), 2, outputs.joined())

        for (i, run) in runDirs.enumerated() {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/summary.json"), names[i])
            let rows = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            XCTAssertEqual(rows.compactMap { Int($0.prefix { $0 != "," }) }, Array(stride(from: 2000, through: steps, by: 2000)),
                           "\(names[i]): metrics.csv has every row once")

            // Every line of train.log is one whole line of a known writer; each writer's lines are all there.
            let log = try String(contentsOfFile: run + "/train.log", encoding: .utf8)
            XCTAssertTrue(log.hasSuffix("\n"), log)
            let trainer = i == 0 ? first : second, other = i == 0 ? second : first
            let otherLaunched = i == 0 || firstOnRun1Elsewhere
            let kinds: [(String, (Substring) -> Bool, Int)] = [
                ("trainer's sweep header", { $0.hasPrefix("== sparrow sweep (local, pid \(trainer.processIdentifier)): starting at ") && $0.hasSuffix(" ==") }, 1),
                ("other sweep's header", { $0.hasPrefix("== sparrow sweep (local, pid \(other.processIdentifier)): ") && $0.hasSuffix(" ==") }, otherLaunched ? 1 : 0),
                ("train start", { $0 == "training tows-sac on InvertedPendulum-v5 for \(steps) steps → \(run)" }, 1),
                ("train progress", { $0.hasPrefix("InvertedPendulum-v5 tows-sac step ") && $0.contains(" steps/s eta ") }, -1),
                ("train end", { $0.hasPrefix("done: \(steps) steps, final score ") && $0.hasSuffix("; \(run)") }, 1),
                ("refusal", { $0.hasPrefix("Error: \(run) is in use by another training process (pid ") && $0.hasSuffix("or use another --run-dir") }, otherLaunched ? 1 : 0),
                ("trainer's footer", { $0.hasPrefix("== exit status 0 at ") && $0.hasSuffix(" ==") && !$0.contains("elsewhere") }, 1),
                ("refused footer", { $0.hasPrefix("== exit status 75 at ") && $0.hasSuffix(": running elsewhere ==") }, otherLaunched ? 1 : 0),
            ]
            var counts = [Int](repeating: 0, count: kinds.count)
            for line in log.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                guard let k = kinds.firstIndex(where: { $0.1(line) }) else { XCTFail("\(names[i]): a line no writer wrote whole: '\(line)'"); continue }
                counts[k] += 1
            }
            // -1: at least one (the progress line comes at the end and every 30 s).
            let expected = kinds.map(\.2)
            XCTAssertEqual(zip(counts, expected).map { $1 < 0 && $0 > 0 ? -1 : $0 }, expected, "\(names[i]) train.log, lines per writer \(kinds.map(\.0)):\n\(log)")
        }
        let s = try status(dir.appendingPathComponent("root").path)
        XCTAssertEqual(s["counts"] as? [String: Int], ["done": 2, "running": 0, "pending": 0, "failed": 0])
    }

    /// A run another process trains (here a plain `sparrow train` on the run's directory) is "running" in
    /// `sweep status` from its run lock, and a sweep on the root counts it "running elsewhere" and exits 0.
    func testRunTrainedByAnotherProcessIsRunningElsewhereNotFailed() throws {
        let dir = try CLI.temporaryDirectory()
        let spec = dir.appendingPathComponent("sweep.yaml").path
        try "root: \(dir.path)/root\ngrid:\n  seed: [0]\n\(Self.tiny)\n".write(toFile: spec, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("root/InvertedPendulum-v5_tows-sac_s0.9_seed0").path
        let holder = Process()
        holder.executableURL = CLI.executable
        holder.arguments = ["train", "--run-dir", run, "--env", "InvertedPendulum-v5", "--preset", "tows-sac", "--hidden", "32,32",
                            "--steps", "10000000", "--start-steps", "200", "--eval-every", "1000000", "--no-progress"]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !FileManager.default.fileExists(atPath: run + "/metrics.csv") { usleep(50_000) }  // it holds the lock

        let root = dir.appendingPathComponent("root").path
        var s = try status(root)
        XCTAssertEqual(s["counts"] as? [String: Int], ["done": 0, "running": 1, "pending": 0, "failed": 0])
        // Once it has logged a row, a running run shows its speed and the time it needs at that speed.
        while Date() < deadline.addingTimeInterval(30), progressStep(run) == 0 { usleep(50_000) }
        s = try status(root)
        let running = try XCTUnwrap((s["runs"] as? [[String: Any]])?.first)
        let speed = try XCTUnwrap(running["steps_per_second"] as? Double, "\(running)")
        let left = try XCTUnwrap(running["seconds_left"] as? Double, "\(running)")
        XCTAssertGreaterThan(speed, 0)
        XCTAssertEqual(left, Double(10_000_000 - (running["step"] as! Int)) / speed, accuracy: 1e-6 * left)
        XCTAssertTrue((running["detail"] as? String ?? "").contains(" steps/s, "), "\(running)")
        XCTAssertTrue((running["detail"] as? String ?? "").contains(" left"), "\(running)")
        let r = try CLI.run(["sweep", spec, "--backend", "local"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("elsewhere InvertedPendulum-v5_tows-sac_s0.9_seed0: another process is training it (pid \(holder.processIdentifier) on host "), r.stdout)
        XCTAssertTrue(r.stdout.contains("sweep: 0 finished, 0 skipped (already finished), 0 stopped with a checkpoint, 1 running elsewhere, 0 failed"), r.stdout)
        XCTAssertTrue(holder.isRunning, "the holder keeps training")
        s = try status(root)
        XCTAssertEqual(s["counts"] as? [String: Int], ["done": 0, "running": 1, "pending": 0, "failed": 0], "the refused attempt is no failure")
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        s = try status(root)
        XCTAssertEqual(s["counts"] as? [String: Int], ["done": 0, "running": 0, "pending": 1, "failed": 0], "a dead holder's run is pending")
        XCTAssertNil((s["runs"] as? [[String: Any]])?.first?["seconds_left"], "a stopped run has no time left to tell")
    }

    /// The step of a run's last metrics row (0 before the first).
    func progressStep(_ run: String) -> Int {
        guard let text = try? String(contentsOfFile: run + "/metrics.csv", encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").last.flatMap { Int($0.prefix { $0 != "," }) } ?? 0
    }
}
