import Agents
import Foundation
import Training
import XCTest

final class TrainCLITests: XCTestCase {
    let small = ["--env", "InvertedPendulum-v5", "--steps", "1500", "--start-steps", "300", "--eval-every", "500",
                 "--eval-episodes", "2", "--checkpoint-every", "500", "--log-every", "250", "--no-progress"]

    func testTrainWritesARunDirectoryAndEvalReadsIt() throws {
        let dir = try CLI.temporaryDirectory().appendingPathComponent("run").path
        let r = try CLI.run(["train", "--preset", "tows-sac"] + small + ["--run-dir", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("done: 1500 steps"), r.stdout)
        for f in ["config.json", "metrics.csv", "evaluations.csv", "checkpoint.sparrow", "summary.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), f)
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
        XCTAssertEqual(config["preset"] as? String, "tows-sac")
        XCTAssertEqual(config["sparsity"] as? Double, 0.9)
        XCTAssertEqual(config["start-steps"] as? Int, 300)
        // Parameters counted both ways: with biases (live_params) and weights only (live_weights, Sokar et al.'s count).
        // InvertedPendulum (4 observations, 1 action), 256-256: the actor's biases 256 + 256 + 2 (mean, log σ), each
        // critic's 256 + 256 + 1.
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as! [String: Any]
        let params = try XCTUnwrap(summary["live_params"] as? Int), weights = try XCTUnwrap(summary["live_weights"] as? Int)
        XCTAssertEqual(params - weights, 514 + 2 * 513)
        let metrics = try String(contentsOfFile: dir + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        // The columns of before stay first and in order (a contract); the analyses' columns (2026-12-02) follow.
        XCTAssertEqual(metrics.first, "step,wall_time_s,steps_per_s,episode_return,eval_return,critic_loss,actor_loss,alpha,mean_q,live_params,actor_sparsity,critic_sparsity,training_flops"
                       + ",actor_snr,critic_snr,actor_dormant,critic_dormant,actor_input_real,actor_input_noise,critic_input_real,critic_input_noise"
                       + ",td_loss,value_loss,approx_kl,clip_fraction")
        XCTAssertEqual(metrics.count, 1 + 6)

        let e = try CLI.run(["eval", dir, "--episodes", "3", "--seed", "5"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let last = try JSONSerialization.jsonObject(with: Data(e.lines.last!.utf8)) as! [String: Any]
        XCTAssertEqual(last["episodes"] as? Int, 3)
        XCTAssertEqual((last["returns"] as? [Double])?.count, 3)
        XCTAssertNotNil(last["mean_return"] as? Double)
        XCTAssertNotNil(last["std_return"] as? Double)
        let again = try CLI.run(["eval", dir + "/checkpoint.sparrow", "--episodes", "3", "--seed", "5"])
        XCTAssertEqual(again.lines.last, e.lines.last)  // deterministic policy, seeded env
    }

    /// SIGTERM mid-run: a checkpoint is written and the process exits cleanly; --resume finishes the run with
    /// the same evaluations as an uninterrupted one.
    func testSIGTERMCheckpointsAndResumeFinishesExactly() throws {
        let base = try CLI.temporaryDirectory()
        let straight = base.appendingPathComponent("a").path, cut = base.appendingPathComponent("b").path
        let args = ["train", "--preset", "dense-sac", "--env", "InvertedPendulum-v5", "--steps", "4000", "--start-steps", "300",
                    "--eval-every", "500", "--eval-episodes", "2", "--checkpoint-every", "100000", "--no-progress"]
        XCTAssertEqual(try CLI.run(args + ["--run-dir", straight]).status, 0)

        let p = Process()
        p.executableURL = CLI.executable
        p.arguments = args + ["--run-dir", cut]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        // Wait until training has started (metrics rows appear), then stop it.
        let metrics = cut + "/metrics.csv"
        for _ in 0..<200 {
            if let t = try? String(contentsOfFile: metrics, encoding: .utf8), t.split(separator: "\n").count >= 3 { break }
            usleep(50_000)
        }
        p.terminate()  // SIGTERM
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("SIGTERM at step"), text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: cut + "/checkpoint.sparrow"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: cut + "/summary.json"))

        let resumed = try CLI.run(args + ["--run-dir", cut, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resuming"), resumed.stdout)
        XCTAssertEqual(try String(contentsOfFile: straight + "/evaluations.csv", encoding: .utf8),
                       try String(contentsOfFile: cut + "/evaluations.csv", encoding: .utf8))
    }

    /// One live process per run directory (a double launch, a requeue racing its predecessor): the second stops
    /// with one line naming the holder's pid and host and touches nothing; once the holder is killed (SIGKILL:
    /// no clean-up), its stale lock file does not block the resume.
    func testSecondProcessOnARunDirectoryIsRefusedAndAStaleLockIsNot() throws {
        let dir = try CLI.temporaryDirectory().appendingPathComponent("run").path
        let args = ["train", "--preset", "dense-sac", "--env", "InvertedPendulum-v5", "--steps", "200000", "--start-steps", "300",
                    "--eval-every", "100000", "--checkpoint-every", "400", "--no-progress", "--run-dir", dir]
        func start(_ extra: [String]) throws -> Process {
            let p = Process()
            p.executableURL = CLI.executable
            p.arguments = args + extra
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        func waitForCheckpoint(after date: Date) {
            for _ in 0..<400 {
                if let a = try? FileManager.default.attributesOfItem(atPath: dir + "/checkpoint.sparrow"),
                   let m = a[.modificationDate] as? Date, m > date { return }
                usleep(50_000)
            }
        }
        let first = try start([])
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        waitForCheckpoint(after: .distantPast)
        let configBefore = try String(contentsOfFile: dir + "/config.json", encoding: .utf8)
        let second = try CLI.run(args + ["--resume"])
        assertCleanFailure(second, contains: "is in use by another training process (pid \(first.processIdentifier) on host ")
        XCTAssertEqual(second.status, 75, "the run-in-use exit status a sweep counts as running elsewhere")
        XCTAssertTrue(first.isRunning, "the holder keeps training")
        XCTAssertEqual(try String(contentsOfFile: dir + "/config.json", encoding: .utf8), configBefore)

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run.lock"), "a killed holder leaves its lock file")
        let killedAt = Date()
        let third = try start(["--resume"])
        waitForCheckpoint(after: killedAt)  // it resumed and trains: a fresh checkpoint appears
        XCTAssertTrue(third.isRunning)
        third.terminate()
        third.waitUntilExit()
        XCTAssertEqual(third.terminationStatus, 0)
        XCTAssertTrue(try String(contentsOfFile: dir + "/run.lock", encoding: .utf8).contains("pid \(third.processIdentifier) "))
    }

    /// `--help` lists every setting flag (from `TrainConfig.knobs`) with its choices and the default preset's value,
    /// in lines ArgumentParser prints as they are.
    func testHelpListsEverySettingWithItsChoicesAndDefault() throws {
        let help = try CLI.run(["train", "--help"])
        XCTAssertEqual(help.status, 0)
        let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for key in TrainConfig.keys where !["env", "preset"].contains(key) {
            XCTAssertTrue(lines.contains { $0.hasPrefix("    --\(key) ") || $0 == "    --\(key)" || $0.hasPrefix("    --[no-]\(key) ") || $0 == "    --[no-]\(key)" },
                          "--help lists --\(key)")
        }
        XCTAssertTrue(help.stdout.contains("--init pytorch|xavier|sparsity-aware|zero"), help.stdout)
        XCTAssertTrue(help.stdout.contains("--target-topology copy|maintain"), help.stdout)
        XCTAssertTrue(help.stdout.contains("(default: 0.9)"), "tows-sac's sparsity is shown")
        XCTAssertTrue(lines.allSatisfy { $0.count < 80 || $0.hasPrefix("USAGE") }, "no line is re-wrapped")
    }

    /// Setting flags in all their forms reach the run's config.json.
    func testSettingFlagsInEveryFormReachTheConfig() throws {
        let dir = try CLI.temporaryDirectory().appendingPathComponent("run").path
        let r = try CLI.run(["train", "--preset", "tows-sac", "--steps", "30", "--start-steps", "20", "--eval-every", "1000",
                             "--eval-episodes", "1", "--batch-size=8", "--target-entropy", "-2.5", "--no-dense-output",
                             "--final-drop", "--init=sparsity-aware", "--drop", "signed", "--target-topology", "copy",
                             "--hidden", "64,32", "--update-stop", "0.5", "--lr", "0.001", "--critic-lr", "0.002",
                             "--run-dir", dir, "--no-progress"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
        XCTAssertEqual(config["batch-size"] as? Int, 8)
        XCTAssertEqual(config["target-entropy"] as? Double, -2.5)
        XCTAssertEqual(config["dense-output"] as? Bool, false)
        XCTAssertEqual(config["final-drop"] as? Bool, true)
        XCTAssertEqual(config["init"] as? String, "sparsity-aware")
        XCTAssertEqual(config["drop"] as? String, "signed")
        XCTAssertEqual(config["target-topology"] as? String, "copy")
        XCTAssertEqual(config["hidden"] as? [Int], [64, 32])
        XCTAssertEqual(config["update-stop"] as? Double, 0.5)
        XCTAssertEqual(config["actor-lr"] as? Double, 0.001, "--lr sets all three")
        XCTAssertEqual(config["critic-lr"] as? Double, 0.002, "a specific rate overrides --lr")
    }

    func testBadInputIsAOneLineErrorAndNothingIsOverwritten() throws {
        let dir = try CLI.temporaryDirectory()
        assertCleanFailure(try CLI.run(["train", "--env", "Pong-v5", "--steps", "10"]), contains: "unknown environment 'Pong-v5'; valid:")
        assertCleanFailure(try CLI.run(["train", "--preset", "best-sac"]), contains: "unknown preset 'best-sac'; valid: dense-sac")
        assertCleanFailure(try CLI.run(["train", "--actor-lr", "nan", "--steps", "10"]), contains: "actor-lr must be finite, got nan")
        assertCleanFailure(try CLI.run(["train", "--threads", "0"]), contains: "--threads must be in 1…64, got 0")
        assertCleanFailure(try CLI.run(["train", "--sparsity", "1.5"]), contains: "sparsity must be in [0, 1), got 1.5")
        assertCleanFailure(try CLI.run(["train", "--steps=-5"]), contains: "steps must be positive, got -5")
        assertCleanFailure(try CLI.run(["train", "--config", dir.appendingPathComponent("none.yaml").path]),
                           contains: "cannot read config file")
        let bad = dir.appendingPathComponent("bad.yaml")
        try "steps: [1, 2\nfoo: {".write(to: bad, atomically: true, encoding: .utf8)
        assertCleanFailure(try CLI.run(["train", "--config", bad.path]), contains: "is not valid YAML")
        let unknown = dir.appendingPathComponent("unknown.yaml")
        try "preset: tows-sac\nsteps: 100\nlearning-rate: 3\n".write(to: unknown, atomically: true, encoding: .utf8)
        assertCleanFailure(try CLI.run(["train", "--config", unknown.path]), contains: "unknown key 'learning-rate'")
        let flag = try CLI.run(["train", "--lernrate", "3"])
        XCTAssertNotEqual(flag.status, 0)
        XCTAssertTrue(flag.stderr.contains("unknown option '--lernrate' (sparrow train --help lists the settings)"), flag.stderr)
        assertCleanFailure(try CLI.run(["train", "--batchsize", "3"]), contains: "unknown option '--batchsize'; did you mean --batch-size?")
        assertCleanFailure(try CLI.run(["train", "--method", "sparse"]),
                           contains: "--method takes one of \(AgentConfig.Method.spellings.joined(separator: ", ")), got 'sparse'")
        assertCleanFailure(try CLI.run(["train", "--hidden", "64,x"]), contains: "--hidden takes <int,…>, got '64,x'")
        assertCleanFailure(try CLI.run(["train", "--batch-size"]), contains: "--batch-size needs a value: <int>")
        assertCleanFailure(try CLI.run(["train", "--dense-output=maybe"]), contains: "--dense-output takes true or false")
        assertCleanFailure(try CLI.run(["train", "--preset", "prune-sac", "--distribution", "er-epsilon"]),
                           contains: "method prune spreads its final sparsity by uniform, er or erk")

        // A run directory with a checkpoint is never overwritten without --resume; a corrupted one is refused.
        let run = dir.appendingPathComponent("run").path
        XCTAssertEqual(try CLI.run(["train", "--preset", "tows-td3"] + small + ["--run-dir", run]).status, 0)
        let ckpt = run + "/checkpoint.sparrow"
        let original = try Data(contentsOf: URL(fileURLWithPath: ckpt))
        assertCleanFailure(try CLI.run(["train", "--preset", "tows-td3"] + small + ["--run-dir", run]), contains: "already holds a run")
        var broken = original
        broken[broken.count / 2] ^= 0xFF
        try broken.write(to: URL(fileURLWithPath: ckpt))
        assertCleanFailure(try CLI.run(["train", "--preset", "tows-td3"] + small + ["--run-dir", run, "--resume"]),
                           contains: "checksum mismatch")
        assertCleanFailure(try CLI.run(["eval", run]), contains: "checksum mismatch")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ckpt)), broken)
        assertCleanFailure(try CLI.run(["train", "--preset", "tows-sac"] + small + ["--run-dir", run, "--resume"]),
                           contains: "checksum mismatch")
        assertCleanFailure(try CLI.run(["eval", dir.appendingPathComponent("nothing").path]), contains: "no checkpoint or policy file at")
        // A run directory that is a file: one line, not Foundation's NSCocoaErrorDomain dump.
        let aFile = dir.appendingPathComponent("a-file").path
        XCTAssertTrue(FileManager.default.createFile(atPath: aFile, contents: Data("keep".utf8)))
        assertCleanFailure(try CLI.run(["train"] + small + ["--run-dir", aFile]),
                           contains: "the run directory \(aFile) is a file, not a folder: choose another --run-dir")
        assertCleanFailure(try CLI.run(["train"] + small + ["--run-dir", aFile + "/run"]), contains: "cannot create the run directory: ")
        XCTAssertEqual(try String(contentsOfFile: aFile, encoding: .utf8), "keep")
    }

    /// Settings files are read with bounds and without silent choices: a key given twice (YAML or JSON, config or
    /// sweep spec) is refused by name, a 1 KB alias bomb is refused before it fills memory, a file over 1 MiB before
    /// it is read, and a sweep grid is counted before any run is built (--max-runs raises the bound).
    func testSettingsFilesAreBoundedAndRefuseRepeatedKeys() throws {
        let dir = try CLI.temporaryDirectory()
        func file(_ name: String, _ text: String) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        assertCleanFailure(try CLI.run(["train", "--config", try file("dup.yaml", "steps: 100\nseed: 1\nsteps: 200\n")]),
                           contains: "config file \(dir.path)/dup.yaml repeats the key 'steps'")
        assertCleanFailure(try CLI.run(["train", "--config", try file("dup.json", "{\"steps\": 10, \"steps\": 20}")]),
                           contains: "repeats the key 'steps'")
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for (name, previous) in zip("bcdefg", "abcdef") { bomb += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n" }
        XCTAssertLessThan(bomb.utf8.count, 1024)
        assertCleanFailure(try CLI.run(["train", "--config", try file("bomb.yaml", bomb)]), contains: "expands to more than 100000 values")
        assertCleanFailure(try CLI.run(["train", "--config", try file("huge.json", "{\"env\": \"" + String(repeating: "H", count: 1_100_000) + "\"}")]),
                           contains: "is 1100011 bytes; settings files are at most 1048576 bytes")

        assertCleanFailure(try CLI.run(["sweep", try file("dup-sweep.yaml", "name: d\nroot: r\ngrid:\n  seed: [0, 1]\n  seed: [2, 3]\n"), "--dry-run"]),
                           contains: "repeats the key 'grid.seed'")
        let axes = ["seed", "steps", "batch-size", "tau", "gamma", "actor-lr", "critic-lr"]
        let big = "name: big\nroot: r\ngrid:\n" + axes.map { "  \($0): [" + (1...10).map(String.init).joined(separator: ", ") + "]" }.joined(separator: "\n") + "\n"
        let bigSpec = try file("big.yaml", big)
        let started = Date()
        assertCleanFailure(try CLI.run(["sweep", bigSpec, "--dry-run"]),
                           contains: "the grid has 10000000 runs (10 actor-lr × 10 batch-size × 10 critic-lr × 10 gamma × 10 steps × 10 tau × 10 seed); a sweep builds at most 10000 (--max-runs raises the bound)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "counted, not built")
        let small = try file("small.yaml", "name: s\nroot: \(dir.path)/r\nset: {steps: 2000, start-steps: 500}\ngrid:\n  seed: [0, 1, 2]\n")
        assertCleanFailure(try CLI.run(["sweep", small, "--dry-run", "--max-runs", "2"]), contains: "the grid has 3 runs (3 seed)")
        let ok = try CLI.run(["sweep", small, "--dry-run", "--max-runs", "3"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    func testConfigFileKeysAreTheFlagNames() throws {
        let dir = try CLI.temporaryDirectory()
        let yaml = dir.appendingPathComponent("c.yaml")
        try """
            preset: dense-td3
            env: InvertedPendulum-v5
            steps: 800
            start-steps: 200
            eval-every: 400
            eval-episodes: 1
            hidden: [32, 32]
            actor-lr: 0.002
            """.write(to: yaml, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run").path
        let r = try CLI.run(["train", "--config", yaml.path, "--batch-size", "64", "--run-dir", run, "--no-progress"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let c = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/config.json"))) as! [String: Any]
        XCTAssertEqual(c["algorithm"] as? String, "td3")
        XCTAssertEqual(c["hidden"] as? [Int], [32, 32])
        XCTAssertEqual(c["actor-lr"] as? Double, 0.002)
        XCTAssertEqual(c["batch-size"] as? Int, 64)
    }

    func testBenchTrainJSONContract() throws {
        let r = try CLI.run(["bench", "train", "--env", "InvertedPendulum-v5", "--preset", "tows-sac", "--steps", "50",
                             "--start-steps", "300", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try JSONSerialization.jsonObject(with: Data(r.lines.last!.utf8)) as! [String: Any]
        XCTAssertGreaterThan(o["steps_per_s"] as? Double ?? 0, 0)
        XCTAssertEqual(o["preset"] as? String, "tows-sac")
        // 90% over every hidden and input layer; output layers may be denser (ERK, uniform rules), so a bit below.
        let sparsity = try XCTUnwrap(o["network_sparsity"] as? Double)
        XCTAssertGreaterThan(sparsity, 0.8)
        XCTAssertLessThanOrEqual(sparsity, 0.9 + 1e-9)
        XCTAssertEqual(try XCTUnwrap(o["ms_per_step"] as? Double), 1000 / (o["steps_per_s"] as! Double), accuracy: 1e-9)
        // Windows (issue 10): one rate per window, first and last named; the BLAS core and thread count.
        XCTAssertEqual((o["window_steps_per_s"] as? [Double])?.count, 6)
        XCTAssertEqual(o["first_window_steps_per_s"] as? Double, (o["window_steps_per_s"] as? [Double])?.first)
        XCTAssertNotNil(o["blas_core"] as? String)
        XCTAssertEqual(o["threads"] as? Int, 1)
        let p = try CLI.run(["bench", "train", "--env", "InvertedPendulum-v5", "--preset", "tows-sac", "--steps", "60",
                             "--start-steps", "300", "--windows", "2", "--profile", "--threads", "2", "--json"])
        XCTAssertEqual(p.status, 0, p.stderr)
        let q = try JSONSerialization.jsonObject(with: Data(p.lines.last!.utf8)) as! [String: Any]
        let phases = try XCTUnwrap(q["profile_ms_per_step"] as? [String: Double])
        XCTAssertEqual(Set(phases.keys), ["env_step", "acting", "replay", "replay_sample", "critic_update", "actor_update",
                                          "target_update", "topology_update", "evaluation", "rest"])
        // The phases add up to the timed step (the clock reads between windows are outside both).
        XCTAssertEqual(phases.values.reduce(0, +), q["ms_per_step"] as! Double, accuracy: 0.1 * (q["ms_per_step"] as! Double))
        XCTAssertGreaterThan(phases["critic_update"]!, 0)
        XCTAssertGreaterThan(phases["env_step"]!, 0)
        XCTAssertGreaterThan(phases["replay_sample"]!, 0, "drawing the batch is timed apart from storing transitions")
        XCTAssertGreaterThan(phases["target_update"]!, 0)
        XCTAssertEqual(q["threads"] as? Int, 2)
        assertCleanFailure(try CLI.run(["bench", "train", "--steps", "10", "--windows", "11"]), contains: "--windows must be in 1…10")
        // DS presets reach their sparsity through ER-ε, not the knob: the measured value says so.
        let ds = try CLI.run(["bench", "train", "--env", "InvertedPendulum-v5", "--preset", "ds-sac", "--steps", "20",
                              "--start-steps", "300", "--json"])
        XCTAssertEqual(ds.status, 0, ds.stderr)
        let d = try JSONSerialization.jsonObject(with: Data(ds.lines.last!.utf8)) as! [String: Any]
        XCTAssertGreaterThan(d["network_sparsity"] as? Double ?? 0, 0.2)
    }
}
