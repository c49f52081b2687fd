import Experiments
import Foundation
import XCTest

final class SweepSpecTests: XCTestCase {
    func testGridExpandsWithStableNamesAndArguments() throws {
        let spec = try SweepSpec(object: [
            "root": "/tmp/sweep-root",
            "grid": ["env": "InvertedPendulum-v5", "preset": ["dense-sac", "tows-sac"], "seed": [0, 1],
                     "steps": 400, "start-steps": 200, "hidden": [32, 32], "drop-fraction": [0.05, 0.1]],
            "resources": ["time": "01:00:00", "mem": "2G", "partition": "debug"],
        ] as [String: Any])
        let runs = try spec.runs()
        XCTAssertEqual(runs.count, 8)
        XCTAssertEqual(runs[0].name, "InvertedPendulum-v5_dense-sac_s0.0_drop-fraction0.05_seed0")
        XCTAssertEqual(runs[1].name, "InvertedPendulum-v5_dense-sac_s0.0_drop-fraction0.05_seed1")
        XCTAssertEqual(runs[7].name, "InvertedPendulum-v5_tows-sac_s0.9_drop-fraction0.1_seed1")
        XCTAssertEqual(Set(runs.map(\.name)).count, 8)
        XCTAssertEqual(runs[7].config.agent.hidden, [32, 32])
        XCTAssertEqual(runs[7].config.steps, 400)
        XCTAssertEqual(runs[7].directory, "/tmp/sweep-root/" + runs[7].name)
        XCTAssertEqual(runs[7].trainArguments, ["train", "--run-dir", runs[7].directory, "--resume", "--no-progress",
                                                "--drop-fraction", "0.1", "--env", "InvertedPendulum-v5", "--hidden", "32,32",
                                                "--preset", "tows-sac", "--seed", "1", "--start-steps", "200", "--steps", "400"])
        let script = SlurmSweep.script(name: "t", root: spec.root, plans: Array(runs[2...3]), executable: "/x/sparrow",
                                       resources: spec.resources)
        for line in ["#SBATCH --array=2,3", "#SBATCH --time=01:00:00", "#SBATCH --mem=2G", "#SBATCH --partition=debug",
                     "#SBATCH --requeue", "#SBATCH --signal=B:USR1@300", "  2) DIR=\(runs[2].directory); ARGS=(train"] {
            XCTAssertTrue(script.contains(line), "missing \(line) in:\n\(script)")
        }
    }

    /// A job's cpus-per-task becomes the run's `--threads` (same directory name: threads change no result).
    func testCPUsPerTaskBecomeThreads() throws {
        func spec(_ cpus: Int) throws -> [RunPlan] {
            try SweepSpec(object: ["root": "/tmp/sweep-threads", "grid": ["env": "Hopper-v5", "preset": "tows-sac", "seed": [0]],
                                   "resources": ["cpus-per-task": cpus]] as [String: Any]).runs()
        }
        let one = try spec(1), two = try spec(2)
        XCTAssertFalse(one[0].trainArguments.contains("--threads"))
        XCTAssertEqual(Array(two[0].trainArguments[5...6]), ["--threads", "2"])
        XCTAssertEqual(one[0].directory, two[0].directory)
    }

    func testBadSpecsFailWithTheKeyNamed() {
        func message(_ o: [String: Any]) -> String {
            do { _ = try SweepSpec(object: o).runs(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(["grid": ["seed": [0]]]).contains("root"))
        XCTAssertTrue(message(["root": "/tmp/x", "grid": ["sede": [0]]]).contains("'sede'"))
        XCTAssertTrue(message(["root": "/tmp/x", "grid": ["preset": ["nope"]]]).contains("unknown preset 'nope'"))
        XCTAssertTrue(message(["root": "/tmp/x", "grid": ["seed": [0]], "resources": ["gpus": 1]]).contains("'gpus'"))
    }
}
