import Experiments
import Foundation
import XCTest

/// `sparrow report --paper tows`: our TowS-SAC 90% runs beside the paper's table, from run directories on disk
/// (metrics and summaries only, no checkpoints) under several roots.
final class PaperTableTests: XCTestCase {
    /// Evaluation k (1…20, every 50k steps) of a run: a rising curve with a wiggle, offset per seed.
    static func evaluation(_ k: Int, level: Double, seed: Int) -> Double {
        level * Double(k) / 20 + Double((k * 7 + seed * 3) % 11) * 13.5 + Double(seed) * 40
    }

    /// Writes one run directory as `sparrow train` leaves it: config.json, evaluations.csv, metrics.csv and, when
    /// finished, summary.json (with the final score unless `omitFinalScore`). Returns the evaluations written.
    @discardableResult
    static func writeRun(root: URL, env: String, preset: String = "tows-sac", method: String = "tows", sparsity: Double = 0.9,
                         seed: Int, level: Double, evaluations count: Int = 20, finished: Bool = true,
                         omitFinalScore: Bool = false, name: String? = nil) throws -> [Double] {
        let dir = root.appendingPathComponent(name ?? "\(env)_\(preset)_s\(sparsity)_seed\(seed)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config: [String: Any] = ["env": env, "preset": preset, "algorithm": "sac", "method": method, "sparsity": sparsity,
                                     "seed": seed, "steps": 1_000_000, "machine": ["cpu": "Test CPU", "threads": 1]]
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: dir.appendingPathComponent("config.json"))
        let values = (1...count).map { evaluation($0, level: level, seed: seed) }
        var csv = "step,mean_return,std_return,episodes\n"
        var metrics = "step,wall_time_s,steps_per_s,episode_return\n"
        for (i, v) in values.enumerated() {
            csv += "\((i + 1) * 50_000),\(v),1.5,5\n"
            metrics += "\((i + 1) * 50_000),\(Double(i + 1) * 60.5),800,\(v)\n"
        }
        if !finished { metrics += "\(count * 50_000 + 3000),\(Double(count) * 60.5 + 4),800,1.0\n" }
        try csv.write(to: dir.appendingPathComponent("evaluations.csv"), atomically: true, encoding: .utf8)
        try metrics.write(to: dir.appendingPathComponent("metrics.csv"), atomically: true, encoding: .utf8)
        if finished {
            var summary: [String: Any] = ["env": env, "steps": 1_000_000, "seed": seed, "evaluations": count]
            if !omitFinalScore { summary["final_score"] = finalScore(values) }
            try JSONSerialization.data(withJSONObject: summary).write(to: dir.appendingPathComponent("summary.json"))
        }
        return values
    }

    /// The paper's final score computed directly: the mean of the last 10% of the evaluations (at least one).
    static func finalScore(_ values: [Double]) -> Double {
        let n = max(1, Int((Double(values.count) / 10).rounded(.up)))
        return values.suffix(n).reduce(0, +) / Double(n)
    }

    static func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
    static func populationStd(_ v: [Double]) -> Double {
        let m = mean(v)
        return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot()
    }

    func testTableNumbersMatchADirectComputationAcrossRootsAndUnfinishedRunsAreListed() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-paper-\(getpid())")
        try? FileManager.default.removeItem(at: base)
        defer { try? FileManager.default.removeItem(at: base) }
        let a = base.appendingPathComponent("results"), b = base.appendingPathComponent("runs")
        let hopper0 = try Self.writeRun(root: a, env: "Hopper-v5", seed: 0, level: 3300)
        let cheetah0 = try Self.writeRun(root: a, env: "HalfCheetah-v5", seed: 0, level: 7000)
        let hopper1 = try Self.writeRun(root: b, env: "Hopper-v5", seed: 1, level: 3100, omitFinalScore: true)
        // The same Hopper seed-0 run again under the other root, not yet finished there: the finished copy counts.
        try Self.writeRun(root: b, env: "Hopper-v5", seed: 0, level: 3300, evaluations: 5, finished: false)
        let walker = try Self.writeRun(root: b, env: "Walker2d-v5", seed: 0, level: 2500, evaluations: 7, finished: false)
        let ant0 = try Self.writeRun(root: b.appendingPathComponent("nested"), env: "Ant-v5", seed: 0, level: 2000)
        try Self.writeRun(root: b, env: "Hopper-v5", preset: "dense-sac", method: "dense", sparsity: 0, seed: 0, level: 3400)

        // The sweep of root b also planned Humanoid, which has not started: no directory yet, still listed.
        let manifest: [String: Any] = ["name": "rest", "backend": "local", "slurm_jobs": [], "runs": [
            ["index": 0, "name": "Walker2d-v5_tows-sac_s0.9_seed0", "directory": b.appendingPathComponent("Walker2d-v5_tows-sac_s0.9_seed0").path,
             "arguments": ["train", "--run-dir", "x", "--env", "Walker2d-v5", "--preset", "tows-sac", "--seed", "0"]],
            ["index": 1, "name": "Humanoid-v5_tows-sac_s0.9_seed0", "directory": b.appendingPathComponent("Humanoid-v5_tows-sac_s0.9_seed0").path,
             "arguments": ["train", "--run-dir", "x", "--resume", "--env", "Humanoid-v5", "--preset", "tows-sac", "--seed", "0"]]]]
        try JSONSerialization.data(withJSONObject: manifest).write(to: b.appendingPathComponent("sweep.json"))

        let runs = try RunResults.load(roots: [a.path, b.path])
        XCTAssertEqual(runs.count, 7)
        let planned = RunResults.planned(root: b.path)
        XCTAssertEqual(planned.map(\.env), ["Humanoid-v5"])
        XCTAssertEqual(planned.first.map { [$0.method, $0.algorithm, "\($0.sparsity)", "\($0.steps)", "\($0.started)"] },
                       ["tows", "sac", "0.9", "1000000", "false"])
        let table = PaperComparison(runs: runs + planned, paper: .tows)
        XCTAssertEqual(table.rows.map(\.robot), ["Hopper", "HalfCheetah", "Walker2d", "Ant", "Humanoid"])

        // Hopper: two seeds from two roots; seed 1's summary has no final score, so it is computed from its evaluations.
        let hopper = try XCTUnwrap(table.row("hopper"))
        let finals = [Self.finalScore(hopper0), Self.finalScore(hopper1)]
        XCTAssertEqual(hopper.finished.map(\.seed), [0, 1])
        XCTAssertEqual(hopper.mean!, Self.mean(finals), accuracy: 1e-9)
        XCTAssertEqual(hopper.std!, Self.populationStd(finals), accuracy: 1e-9)
        XCTAssertEqual(hopper.best!, Self.mean([hopper0.max()!, hopper1.max()!]), accuracy: 1e-9)
        XCTAssertEqual(hopper.percentOfMethod!, 100 * Self.mean(finals) / 3216.4, accuracy: 1e-9)
        XCTAssertEqual(hopper.percentOfDense!, 100 * Self.mean(finals) / 3338.5, accuracy: 1e-9)
        XCTAssertTrue(hopper.unfinished.isEmpty)
        XCTAssertEqual(table.duplicates, [b.appendingPathComponent("Hopper-v5_tows-sac_s0.9_seed0").path])
        XCTAssertEqual(table.others.map(\.preset), [], "our dense-sac run is part of the comparison now")
        XCTAssertEqual(table.row("Hopper")?.dense.map(\.preset), ["dense-sac"])

        let cheetah = try XCTUnwrap(table.row("HalfCheetah"))
        XCTAssertEqual(cheetah.mean!, Self.finalScore(cheetah0), accuracy: 1e-9)
        XCTAssertEqual(cheetah.std!, 0)
        let ant = try XCTUnwrap(table.row("Ant"))
        XCTAssertEqual(ant.mean!, Self.finalScore(ant0), accuracy: 1e-9)
        XCTAssertEqual(ant.percentOfMethod!, 100 * Self.finalScore(ant0) / 3913.2, accuracy: 1e-9)

        // Walker2d: only an unfinished run; it is listed with its progress and enters no number.
        let w = try XCTUnwrap(table.row("Walker2d"))
        XCTAssertNil(w.mean)
        XCTAssertEqual(w.unfinished.map(\.stepsReached), [7 * 50_000 + 3000])
        let humanoid = try XCTUnwrap(table.row("Humanoid"))
        XCTAssertTrue(humanoid.finished.isEmpty)
        XCTAssertEqual(humanoid.unfinished.map(\.started), [false])

        let md = table.markdown()
        func f(_ x: Double) -> String { String(format: "%.1f", x) }
        func p(_ x: Double) -> String { String(format: "%.0f%%", x) }
        let hopperRow = "| Hopper | 2 (0, 1) | \(f(Self.mean(finals))) ± \(f(Self.populationStd(finals))) | "
            + "\(f(Self.mean([hopper0.max()!, hopper1.max()!]))) | 1M | 3216.4 | 3338.5 | \(p(100 * Self.mean(finals) / 3216.4)) | "
            + "\(p(100 * Self.mean(finals) / 3338.5)) | – |"
        XCTAssertTrue(md.contains(hopperRow), "\(hopperRow)\nnot in\n\(md)")
        XCTAssertTrue(md.contains("| HalfCheetah | 1 (0) | \(f(Self.finalScore(cheetah0))) | \(f(cheetah0.max()!)) | 1M | 8553.8 | 11719.6 |"), md)
        XCTAssertTrue(md.contains("| Walker2d | 0 | – | – | – | 3017.3 | 4596.2 | – | – | seed 0 at 353k of 1M, last eval. \(f(walker.last!)) |"), md)
        XCTAssertTrue(md.contains("| Ant | 1 (0) | \(f(Self.finalScore(ant0))) |"), md)
        XCTAssertTrue(md.contains("| Humanoid | 0 | – | – | – | 5582.7 | 4587.8 | – | – | seed 0 not started |"), md)
        XCTAssertTrue(md.contains("Humanoid-v5 seed 0, **not started**"), md)
        XCTAssertTrue(md.contains("Walker2d-v5 seed 0, **unfinished**"), md)
        XCTAssertTrue(md.contains("001_cae61de6b57e79aa.txt"), "the paper's numbers cite their source")
        XCTAssertTrue(md.contains("gym v3") && md.contains("cfrc_ext"), "the note on v3 against v5")
        XCTAssertTrue(md.contains("Found twice") && md.contains("## Ours against ours"), md)

        // Written: the Markdown and the learning curves beside it, one panel per robot, two dashed paper lines each.
        let out = base.appendingPathComponent("docs/tows.md").path
        let files = try table.write(markdownTo: out)
        let svgPath = base.appendingPathComponent("docs/tows-curves.svg").path
        XCTAssertEqual(Array(files.prefix(2)), [out, svgPath])
        let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
        for title in ["Hopper-v5", "HalfCheetah-v5", "Walker2d-v5 (unfinished: seed 0 at 353k)", "Ant-v5", "Humanoid-v5 (unfinished: seed 0 not started)"] {
            XCTAssertTrue(svg.contains(">\(title)</text>"), title)
        }
        XCTAssertEqual(svg.components(separatedBy: "stroke-dasharray=\"6,4\"").count - 1, 10)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 10 + 5 + 1, "paper lines, one curve per run, our dense run")
        let written = try String(contentsOfFile: out, encoding: .utf8)
        if files.count == 3 {
            XCTAssertEqual(files[2], base.appendingPathComponent("docs/tows-curves.png").path)
            XCTAssertTrue(FileManager.default.contents(atPath: files[2])!.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            XCTAssertTrue(written.contains("](tows-curves.png)"), written)
        } else {
            XCTAssertTrue(written.contains("](tows-curves.svg)"), written)
        }
    }

    /// Issue 24: our own dense-sac beside our tows-sac per robot, numbers held to direct computations: IQM over seeds
    /// (3 seeds: the median), the ratio of means, Sokar's last-10 score, curve area and steps to reach dense.
    func testOursAgainstOursTable() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-paper-own-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        defer { try? FileManager.default.removeItem(at: root) }
        var sparse: [[Double]] = [], dense: [[Double]] = []
        for seed in 0..<3 {
            sparse.append(try Self.writeRun(root: root, env: "Humanoid-v5", seed: seed, level: 5000 + Double(seed) * 300))
            dense.append(try Self.writeRun(root: root, env: "Humanoid-v5", preset: "dense-sac", method: "dense", sparsity: 0,
                                           seed: seed, level: 4000 + Double(seed) * 100))
        }
        // A parameter-matched dense run is not the dense baseline.
        try Self.writeRun(root: root, env: "Humanoid-v5", preset: "dense-sac@0.9", method: "dense", sparsity: 0, seed: 0, level: 100,
                          name: "Humanoid-v5_dense-sac-0.9_seed0")
        var runs = try RunResults.load(roots: [root.path])
        for i in runs.indices where runs[i].preset == "dense-sac@0.9" { runs[i].paramsLike = 0.9 }
        for i in runs.indices { runs[i].liveWeights = Double((runs[i].preset == "tows-sac" ? 100 : 1000) + 10 * runs[i].seed) }
        let table = PaperComparison(runs: runs, paper: .tows)
        let c = try XCTUnwrap(table.ownComparisons(reps: 500).first { $0.robot == "Humanoid" })
        let sparseFinal = sparse.map(Self.finalScore), denseFinal = dense.map(Self.finalScore)
        XCTAssertEqual(c.sparseIQM?.estimate ?? .nan, Statistics.iqm(sparseFinal), accuracy: 1e-9)
        XCTAssertEqual(c.denseIQM?.estimate ?? .nan, Statistics.iqm(denseFinal), accuracy: 1e-9)
        XCTAssertLessThanOrEqual(c.sparseIQM!.lower, c.sparseIQM!.estimate)
        XCTAssertEqual(c.ratio ?? .nan, Self.mean(sparseFinal) / Self.mean(denseFinal), accuracy: 1e-12)
        XCTAssertEqual(c.sparseLast10 ?? .nan, Self.mean(sparse.map { Self.mean(Array($0.suffix(10))) }), accuracy: 1e-9)
        // Evaluations every 50k steps from 50k: area / span = mean of the trapezoids.
        func area(_ v: [Double]) -> Double { zip(v, v.dropFirst()).map { 0.5 * ($0 + $1) }.reduce(0, +) / Double(v.count - 1) }
        XCTAssertEqual(c.denseArea ?? .nan, Self.mean(dense.map(area)), accuracy: 1e-9)
        let target = Self.mean(denseFinal)
        let reached = sparse.compactMap { v in v.firstIndex { $0 >= target }.map { Double(($0 + 1) * 50_000) } }
        XCTAssertEqual(c.reachedDense, reached.count)
        XCTAssertEqual(c.stepsToDense ?? .nan, Self.mean(reached), accuracy: 1e-9)
        XCTAssertEqual(c.sparseWeights ?? .nan, 110, accuracy: 1e-9)
        XCTAssertEqual(c.denseWeights ?? .nan, 1010, accuracy: 1e-9)
        XCTAssertEqual(table.row("Humanoid")?.dense.count, 3, "the params-matched run is left out")
        let md = table.markdown()
        XCTAssertTrue(md.contains("## Ours against ours"), md)
        XCTAssertTrue(md.contains("| Humanoid | 3, 3 |"), md)
        XCTAssertTrue(md.contains("| 1010, 110 |"), md)
    }
}
