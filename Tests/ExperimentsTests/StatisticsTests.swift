import Experiments
import Foundation
import SparrowCore
import XCTest

/// IQM and stratified-bootstrap intervals against direct computations (and scipy/numpy where installed).
final class StatisticsTests: XCTestCase {
    /// 3 tasks × 5 runs with distinct values (ties would hide an off-by-one in the trimming).
    let scores: [[Double]] = [[12, 3, 45, 7, 30], [1.5, 2.25, 9, 4, 0.5], [100, 80, 95, 60, 70.5]]

    func testTrimmedMeanCutsFloorOfAQuarterFromEachEnd() {
        XCTAssertEqual(Statistics.iqm([5, 1, 4, 2, 3]), 3)                     // n=5: cut 1 each side → mean(2,3,4)
        XCTAssertEqual(Statistics.iqm([8, 1, 2, 7, 3, 6, 4, 5]), 4.5)          // n=8: cut 2 → mean(3,4,5,6)
        XCTAssertEqual(Statistics.iqm([10, 1, 2]), 13.0 / 3)                   // n=3: cut 0 → plain mean
        let flat = scores.flatMap { $0 }                                      // n=15: cut 3 each side
        let middle = flat.sorted()[3..<12]
        XCTAssertEqual(Statistics.iqm(flat), middle.reduce(0, +) / 9, accuracy: 1e-12)
    }

    func testPercentileInterpolatesLinearlyAsNumPy() {
        XCTAssertEqual(Statistics.percentile([1, 2, 3, 4], 50), 2.5)
        XCTAssertEqual(Statistics.percentile([1, 2, 3, 4], 2.5), 1.075, accuracy: 1e-12)
        XCTAssertEqual(Statistics.percentile([4, 1, 3, 2], 97.5), 3.925, accuracy: 1e-12)
    }

    /// The bootstrap resamples runs within each task: replay the same generator by hand and compare exactly.
    func testStratifiedBootstrapMatchesADirectComputation() {
        let reps = 2000
        let got = Statistics.stratifiedBootstrap(scores, reps: reps, seed: 7)
        var g = Generator(seed: 7)
        var estimates: [Double] = []
        for _ in 0..<reps {
            var pooled: [Double] = []
            for task in scores { for _ in task { pooled.append(task[g.nextInt(below: task.count)]) } }
            let sorted = pooled.sorted()
            let cut = pooled.count / 4
            estimates.append(sorted[cut..<(pooled.count - cut)].reduce(0, +) / Double(pooled.count - 2 * cut))
        }
        estimates.sort()
        func pct(_ q: Double) -> Double {
            let pos = q / 100 * Double(reps - 1), i = Int(pos)
            return estimates[i] + (estimates[i + 1] - estimates[i]) * (pos - Double(i))
        }
        XCTAssertEqual(got.estimate, Statistics.iqm(scores.flatMap { $0 }), accuracy: 1e-12)
        XCTAssertEqual(got.lower, pct(2.5), accuracy: 1e-12)
        XCTAssertEqual(got.upper, pct(97.5), accuracy: 1e-12)
        XCTAssertLessThan(got.lower, got.estimate)
        XCTAssertGreaterThan(got.upper, got.estimate)
        // Stratified: a task whose runs all agree contributes that value to every replicate.
        let constant = Statistics.stratifiedBootstrap([[5, 5, 5], [5, 5, 5]], reps: 500, seed: 1)
        XCTAssertEqual(constant, .init(estimate: 5, lower: 5, upper: 5))
    }

    /// The mean of the bootstrap distribution of the mean of one task is close to the sample mean and its 95%
    /// interval close to mean ± 1.96·σ/√n (a statistical property the resampling must have).
    func testBootstrapOfTheMeanIsNearTheNormalApproximation() {
        var g = Generator(seed: 3)
        let sample = (0..<400).map { _ in g.normal() * 2 + 10 }
        let i = Statistics.stratifiedBootstrap([sample], reps: 20_000, seed: 5, aggregate: Statistics.mean)
        let se = Statistics.standardDeviation(sample) / 20
        XCTAssertEqual(i.lower, i.estimate - 1.96 * se, accuracy: 0.15 * se * 1.96)
        XCTAssertEqual(i.upper, i.estimate + 1.96 * se, accuracy: 0.15 * se * 1.96)
    }

    /// Cross-check with scipy's trim_mean (rliable's IQM) and an independent NumPy stratified bootstrap with
    /// rliable's defaults (50 000 replicates, percentile interval); skipped where they are not installed.
    func testAgreesWithScipyAndNumPy() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin"
        guard let python = path.split(separator: ":").map({ "\($0)/python3" }).first(where: FileManager.default.isExecutableFile)
        else { throw XCTSkip("python3 not installed") }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: scores), as: UTF8.self)
        let script = """
            import json, sys
            try:
                import numpy as np
                from scipy.stats import trim_mean
            except ImportError:
                print("SKIP"); sys.exit(0)
            s = np.array(json.loads('\(json)')).T   # runs x tasks, as rliable stores them
            rng = np.random.default_rng(0)
            reps = 50000
            est = np.empty(reps)
            for r in range(reps):
                idx = rng.integers(0, s.shape[0], size=s.shape)
                est[r] = trim_mean(np.take_along_axis(s, idx, axis=0), 0.25, axis=None)
            lo, hi = np.percentile(est, [2.5, 97.5])
            print(json.dumps([trim_mean(s, 0.25, axis=None), lo, hi]))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text == "SKIP" { throw XCTSkip("scipy/numpy not importable") }
        let values = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Double], text)
        let ours = Statistics.stratifiedBootstrap(scores, reps: 50_000, seed: 0)
        XCTAssertEqual(ours.estimate, values[0], accuracy: 1e-12, "IQM differs from scipy.stats.trim_mean(…, 0.25)")
        // Different random streams: the interval ends agree to Monte-Carlo precision.
        let width = values[2] - values[1]
        XCTAssertEqual(ours.lower, values[1], accuracy: 0.03 * width)
        XCTAssertEqual(ours.upper, values[2], accuracy: 0.03 * width)
    }
}
