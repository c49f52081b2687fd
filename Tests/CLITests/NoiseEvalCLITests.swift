import Foundation
import XCTest

/// `sparrow eval --obs-noise` on a real (short) run and a policy file, and `sparrow report --noise` over it.
final class NoiseEvalCLITests: XCTestCase {
    func testNoiseLevelsFromTheSameStatesTheirFileAndTheReport() throws {
        let dir = try CLI.temporaryDirectory()
        let run = dir.appendingPathComponent("runs/run").path
        let t = try CLI.run(["train", "--preset", "set-dqn", "--env", "CartPole-v1", "--steps", "3000", "--start-steps", "1000",
                             "--eval-every", "3000", "--eval-episodes", "1", "--no-progress", "--run-dir", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        let clean = try CLI.run(["eval", run, "--episodes", "4"])
        let noisy = try CLI.run(["eval", run, "--episodes", "4", "--obs-noise", "0,0.5,2", "--noise-scale", "std"])
        XCTAssertEqual(noisy.status, 0, noisy.stderr)
        XCTAssertTrue(noisy.stdout.contains("σ        mean return   95% CI"), noisy.stdout)
        struct Clean: Decodable { let returns: [Double] }
        let cleanReturns = try JSONDecoder().decode(Clean.self, from: Data(clean.lines.last!.utf8)).returns
        let file = run + "/noise_robustness.json"
        struct Noise: Decodable { let sigmas: [Double]; let returns: [[Double]]; let scale: String; let mean_return: [Double] }
        let result = try JSONDecoder().decode(Noise.self, from: try Data(contentsOf: URL(fileURLWithPath: file)))
        XCTAssertEqual(result.sigmas, [0, 0.5, 2])
        XCTAssertEqual(result.scale, "std")
        XCTAssertEqual(result.returns[0], cleanReturns, "σ 0 is the clean evaluation, from the same start states")
        XCTAssertNotEqual(result.returns[2], cleanReturns, "strong noise changes the episodes")
        XCTAssertEqual(result.mean_return[0], cleanReturns.reduce(0, +) / 4, accuracy: 1e-9)
        let again = try CLI.run(["eval", run, "--episodes", "4", "--obs-noise", "0,0.5,2", "--noise-scale", "std"])
        XCTAssertEqual(again.lines.first { $0.hasPrefix("{") }, noisy.lines.first { $0.hasPrefix("{") }, "seeded: the same numbers again")
        XCTAssertEqual(noisy.lines.last, "wrote \(file)")

        let report = try CLI.run(["report", dir.appendingPathComponent("runs").path, "--noise", "--reps", "200",
                                  "--out", dir.appendingPathComponent("report").path])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report/return_vs_observation_noise.svg").path))
        XCTAssertTrue(report.stdout.contains("| 0.5 |"), report.stdout)
    }

    func testBadInputIsOneLine() throws {
        assertCleanFailure(try CLI.run(["eval", "hopper", "--obs-noise", "0,-1"]), contains: "--obs-noise takes comma-separated noise levels ≥ 0")
        assertCleanFailure(try CLI.run(["eval", "hopper", "--obs-noise", "0,x"]), contains: "got '0,x'")
        assertCleanFailure(try CLI.run(["eval", "hopper", "--episodes", "1", "--obs-noise", "0,1e308"]),
                           contains: "--obs-noise 1e+308: σ up to 1e+308 overflows the policy's float32 observations; levels must give σ ≤ 1e30")
        assertCleanFailure(try CLI.run(["eval", "hopper", "--obs-noise", "0.1", "--noise-scale", "relative"]),
                           contains: "--noise-scale must be one of absolute, std, got relative")
        assertCleanFailure(try CLI.run(["eval", "hopper", "--obs-noise", "0.1", "--noise-scale", "std", "--episodes", "1"]),
                           contains: "is a policy file without any")
        let dir = try CLI.temporaryDirectory()
        assertCleanFailure(try CLI.run(["report", dir.path, "--noise"]), contains: "no run")
    }
}
