import Foundation
import Training
import XCTest

/// The zoo of pretrained policies end to end: `sparrow eval` of a policy file, robot names for `replay` and `eval`,
/// and `sparrow report --paper tows` over several roots.
final class ZooCLITests: XCTestCase {
    static let hopperAsset = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../assets/hopper-tows-sac-0.9.policy").standardized.path

    /// Runs the CLI in `directory` (the other helpers run it in the test's own working directory).
    func run(_ args: [String], in directory: URL, environment: [String: String?] = [:]) throws -> CLIRun {
        let p = Process()
        p.executableURL = CLI.executable
        p.arguments = args
        p.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIRun(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// A policy exported from a checkpoint evaluates to exactly the checkpoint's numbers (same line, same JSON) on
    /// the same fresh seed, and differently on another seed; bad inputs are one-line errors.
    func testEvalOfAPolicyFileMatchesItsCheckpointAndBadInputIsOneLine() throws {
        let dir = try CLI.temporaryDirectory()
        let run = dir.appendingPathComponent("run").path
        let t = try CLI.run(["train", "--preset", "tows-sac", "--env", "InvertedPendulum-v5", "--steps", "1500", "--start-steps", "300",
                             "--eval-every", "1500", "--eval-episodes", "1", "--no-progress", "--run-dir", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        let policy = dir.appendingPathComponent("p.policy").path
        XCTAssertEqual(try CLI.run(["replay", run, "--export-policy", policy]).status, 0)

        let fromCheckpoint = try CLI.run(["eval", run, "--episodes", "3", "--seed", "77"])
        let fromPolicy = try CLI.run(["eval", policy, "--episodes", "3", "--seed", "77"])
        XCTAssertEqual(fromCheckpoint.status, 0, fromCheckpoint.stderr)
        XCTAssertEqual(fromPolicy.status, 0, fromPolicy.stderr)
        XCTAssertEqual(fromPolicy.lines, fromCheckpoint.lines)
        XCTAssertEqual(fromPolicy.lines.count, 2)
        XCTAssertTrue(fromPolicy.lines[0].hasPrefix("InvertedPendulum-v5 tows-sac: 3 episodes, return "), fromPolicy.stdout)
        let json = try JSONSerialization.jsonObject(with: Data(fromPolicy.lines[1].utf8)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["env", "preset", "episodes", "mean_return", "std_return", "returns"])
        XCTAssertEqual((json["returns"] as? [Double])?.count, 3)
        let otherSeed = try CLI.run(["eval", policy, "--episodes", "3", "--seed", "78"])
        XCTAssertNotEqual(otherSeed.lines.last, fromPolicy.lines.last, "a fresh seed gives fresh episodes")
        XCTAssertEqual(try CLI.run(["eval", policy, "--episodes", "3", "--seed", "77", "--env", "inverted-pendulum"]).lines,
                       fromPolicy.lines)

        let junk = dir.appendingPathComponent("junk.policy").path
        try "neither".write(toFile: junk, atomically: true, encoding: .utf8)
        assertCleanFailure(try CLI.run(["eval", dir.appendingPathComponent("missing.policy").path]), contains: "no checkpoint or policy file at")
        assertCleanFailure(try CLI.run(["eval", junk]), contains: "neither a Sparrow checkpoint nor a policy file")
        assertCleanFailure(try CLI.run(["eval", policy, "--env", "Hopper-v5"]), contains: "policy for InvertedPendulum-v5, not Hopper-v5")
        assertCleanFailure(try CLI.run(["eval", run, "--env", "Hopper-v5"]), contains: "not Hopper-v5")
        assertCleanFailure(try CLI.run(["eval", policy, "--env", "Nope-v9"]), contains: "not Nope-v9")

        // A policy file whose header names another robot than its actor was trained for: sizes disagree.
        let (config, agent) = try TrainingCheckpoint.loadAgent(checkpoint: run + "/checkpoint.sparrow")
        var wrong = config
        wrong.env = "Hopper-v5"
        let mislabelled = dir.appendingPathComponent("mislabelled.policy").path
        try PolicyFile.write(agent: agent, config: wrong, actionLow: [-3], actionHigh: [3], to: mislabelled)
        assertCleanFailure(try CLI.run(["eval", mislabelled]), contains: "expects 4 observations and 1 actions; Hopper-v5 has 11 and 3")
    }

    /// DQN and PPO runs export policy files too (version 3: DQN's Q network and greedy head, PPO's actor behind the
    /// observation normaliser it learned): `sparrow eval` of the file prints exactly the checkpoint's lines, the file
    /// is far smaller than the checkpoint, and `sparrow export` writes ONNX from it.
    func testDQNAndPPOPolicyFilesEvaluateLikeTheirCheckpoints() throws {
        let dir = try CLI.temporaryDirectory()
        let runs: [(name: String, train: [String], env: String, says: String)] = [
            ("dqn", ["--preset", "set-dqn", "--env", "CartPole-v1", "--steps", "3000", "--start-steps", "500"], "CartPole-v1", "the Q network of CartPole-v1 set-dqn, greedy policy"),
            ("ppo", ["--preset", "set-ppo", "--env", "InvertedPendulum-v5", "--steps", "4096"], "InvertedPendulum-v5", "the actor of InvertedPendulum-v5 set-ppo, deterministic policy"),
        ]
        for r in runs {
            let run = dir.appendingPathComponent(r.name).path
            let t = try CLI.run(["train"] + r.train + ["--eval-every", "100000", "--eval-episodes", "1", "--no-progress", "--run-dir", run])
            XCTAssertEqual(t.status, 0, t.stderr)
            let policy = dir.appendingPathComponent("\(r.name).policy").path
            let e = try CLI.run(["replay", run, "--export-policy", policy])
            XCTAssertEqual(e.status, 0, e.stderr)
            XCTAssertTrue(e.stdout.contains(r.says), e.stdout)
            let policyBytes = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: policy)[.size] as? Int)
            let checkpointBytes = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: run + "/checkpoint.sparrow")[.size] as? Int)
            XCTAssertLessThan(policyBytes * 3, checkpointBytes, r.name)
            let fromCheckpoint = try CLI.run(["eval", run, "--episodes", "3", "--seed", "31"])
            let fromPolicy = try CLI.run(["eval", policy, "--episodes", "3", "--seed", "31"])
            XCTAssertEqual(fromCheckpoint.status, 0, fromCheckpoint.stderr)
            XCTAssertEqual(fromPolicy.lines, fromCheckpoint.lines, r.name)
            XCTAssertTrue(fromPolicy.stdout.hasPrefix("\(r.env) "), fromPolicy.stdout)
            let onnx = dir.appendingPathComponent("\(r.name).onnx").path
            let x = try CLI.run(["export", policy, "--onnx", onnx])
            XCTAssertEqual(x.status, 0, x.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: onnx), r.name)
        }
        let ppo = try PolicyFile.read(dir.appendingPathComponent("ppo.policy").path)
        let n = try XCTUnwrap(ppo.header.observationNormalization, "set-ppo normalises observations")
        XCTAssertTrue(n.mean.contains { $0 != 0 }, "the normaliser learned from the rollouts: \(n.mean)")
        assertCleanFailure(try CLI.run(["eval", dir.appendingPathComponent("dqn.policy").path, "--env", "Acrobot-v1"]),
                           contains: "policy for CartPole-v1, not Acrobot-v1")
        // --eval-epsilon: the same override for the run and its file (at 1 both act at random, from their own draws);
        // refused for a policy that is not a DQN's.
        for path in [dir.appendingPathComponent("dqn").path, dir.appendingPathComponent("dqn.policy").path] {
            let greedy = try CLI.run(["eval", path, "--episodes", "3", "--seed", "31", "--eval-epsilon", "0"])
            XCTAssertEqual(greedy.lines, try CLI.run(["eval", path, "--episodes", "3", "--seed", "31"]).lines, "set-dqn evaluates greedily")
            let random = try CLI.run(["eval", path, "--episodes", "3", "--seed", "31", "--eval-epsilon", "1"])
            XCTAssertEqual(random.status, 0, random.stderr)
            XCTAssertNotEqual(random.lines.last, greedy.lines.last, path)
        }
        assertCleanFailure(try CLI.run(["eval", dir.appendingPathComponent("ppo.policy").path, "--eval-epsilon", "0.1"]),
                           contains: "--eval-epsilon is for DQN policies;")
        assertCleanFailure(try CLI.run(["eval", dir.appendingPathComponent("ppo").path, "--eval-epsilon", "0.1"]),
                           contains: "--eval-epsilon is for DQN policies;")
    }

    /// A robot's name that is not a path opens its zoo policy: from $SPARROW_ZOO, or the executable's checkout
    /// whatever the working directory; a robot without one is one line listing the robots that have one.
    func testRobotNamesOpenTheZooPolicyAndAMissingOneListsThoseThatHaveOne() throws {
        let dir = try CLI.temporaryDirectory()
        let zoo = dir.appendingPathComponent("zoo")
        try FileManager.default.createDirectory(at: zoo, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.hopperAsset, toPath: zoo.appendingPathComponent("hopper-tows-sac-0.9.policy").path)
        let env: [String: String?] = ["SPARROW_ZOO": zoo.path, "DISPLAY": nil, "WAYLAND_DISPLAY": nil]

        let direct = try CLI.run(["eval", Self.hopperAsset, "--episodes", "1", "--seed", "3"])
        XCTAssertEqual(direct.status, 0, direct.stderr)
        for name in ["hopper", "Hopper-v5", "HOPPER"] {
            let r = try run(["eval", name, "--episodes", "1", "--seed", "3"], in: dir, environment: env)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.lines, direct.lines, name)
        }
        // Without $SPARROW_ZOO, from a folder that has no assets/: the checkout the binary was built in.
        let fromElsewhere = try run(["eval", "hopper", "--episodes", "1", "--seed", "3"], in: dir, environment: ["SPARROW_ZOO": nil])
        XCTAssertEqual(fromElsewhere.lines, direct.lines, fromElsewhere.stderr)

        let frames = dir.appendingPathComponent("frames").path
        let r = try run(["replay", "hopper", "--record", frames, "--frames", "2", "--width", "64", "--height", "48"], in: dir, environment: env)
        if r.status != 0 && r.stderr.contains("OpenGL") { throw XCTSkip("no offscreen OpenGL here: \(r.stderr)") }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Hopper-v5 (tows-sac"), r.stdout)

        for name in ["ant", "Humanoid-v5", "half-cheetah", "walker2d"] {
            for command in ["replay", "eval"] {
                assertCleanFailure(try run([command, name], in: dir, environment: env), contains: "robots with one: hopper")
            }
        }
        assertCleanFailure(try run(["replay", "ant"], in: dir, environment: env), contains: "no pretrained policy for Ant-v5")
        // A path wins over a robot's name, and a name that is neither is the old missing-file error.
        try FileManager.default.copyItem(atPath: Self.hopperAsset, toPath: dir.appendingPathComponent("ant").path)
        XCTAssertEqual(try run(["eval", "ant", "--episodes", "1", "--seed", "3"], in: dir, environment: env).lines, direct.lines)
        assertCleanFailure(try run(["replay", "hoppr"], in: dir, environment: env), contains: "no checkpoint or policy file at hoppr")
    }

    /// `report --paper tows` over two roots of metrics-only run directories writes the table and its curves.
    func testReportPaperTowsReadsSeveralRootsOfMetricsOnlyRuns() throws {
        let dir = try CLI.temporaryDirectory()
        func write(_ root: String, _ env: String, seed: Int, finished: Bool) throws {
            let run = dir.appendingPathComponent("\(root)/\(env)_tows-sac_s0.9_seed\(seed)")
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
            try #"{"env": "\#(env)", "preset": "tows-sac", "algorithm": "sac", "method": "tows", "sparsity": 0.9, "seed": \#(seed), "steps": 1000000}"#
                .write(to: run.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
            let evals = (1...10).map { "\($0 * 100_000),\(Double($0) * 300 + Double(seed)),1,5" }
            try (["step,mean_return,std_return,episodes"] + evals).joined(separator: "\n")
                .appending("\n").write(to: run.appendingPathComponent("evaluations.csv"), atomically: true, encoding: .utf8)
            if finished {
                try #"{"final_score": \#(3000 + seed), "steps": 1000000}"#
                    .write(to: run.appendingPathComponent("summary.json"), atomically: true, encoding: .utf8)
            }
        }
        try write("a", "Hopper-v5", seed: 0, finished: true)
        try write("b", "Hopper-v5", seed: 1, finished: true)
        try write("b", "Ant-v5", seed: 0, finished: false)
        let out = dir.appendingPathComponent("docs/table.md").path
        let r = try CLI.run(["report", dir.appendingPathComponent("a").path, dir.appendingPathComponent("b").path,
                             "--paper", "tows", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("| Hopper | 2 (0, 1) | 3000.5 ± 0.5 | 3000.5 | 1M | 3216.4 | 3338.5 | 93% | 90% | – |"), r.stdout)
        XCTAssertTrue(r.stdout.contains("| Ant | 0 | – | – | – | 3913.2 | 4535.3 | – | – | seed 0 at 1M of 1M, last eval. 3000.0 |"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Ant-v5 seed 0, **unfinished**"), r.stdout)
        let table = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(table.contains("| Hopper | 2 (0, 1) |"))
        XCTAssertTrue(table.contains("Written by `sparrow report \(dir.appendingPathComponent("a").path) \(dir.appendingPathComponent("b").path) --paper tows --out \(out)`."), table)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("docs/table-curves.svg").path))
        XCTAssertTrue(r.stdout.contains("wrote \(out)"), r.stdout)

        assertCleanFailure(try CLI.run(["report", dir.appendingPathComponent("a").path, "--paper", "nope"]), contains: "nope")
        assertCleanFailure(try CLI.run(["report", dir.appendingPathComponent("a").path, dir.appendingPathComponent("c").path,
                                        "--paper", "tows"]), contains: "no folder at")
    }
}
