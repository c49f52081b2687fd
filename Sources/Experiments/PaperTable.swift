import Foundation

/// A published results table that `sparrow report --paper NAME` puts our runs beside.
public enum PaperReference: String, CaseIterable, Sendable {
    /// Grooten et al., "Towards Implementing Truly Sparse Connections in Deep RL Agents": TowS-SAC at 90% sparsity
    /// and Dense-SAC, 1M steps on gym v3.
    case tows

    /// One robot's published numbers.
    public struct Scores: Equatable, Sendable {
        /// "Hopper", as our env ids start ("Hopper-v5").
        public var robot: String
        /// The method our runs reproduce (TowS-SAC 90%).
        public var method: Double
        /// The dense baseline of the same table (Dense-SAC).
        public var dense: Double
    }

    /// Rows in the order of the robots' difficulty as the issue lists them.
    public var scores: [Scores] {
        switch self {
        case .tows:
            return [Scores(robot: "Hopper", method: 3216.4, dense: 3338.5),
                    Scores(robot: "HalfCheetah", method: 8553.8, dense: 11719.6),
                    Scores(robot: "Walker2d", method: 3017.3, dense: 4596.2),
                    Scores(robot: "Ant", method: 3913.2, dense: 4535.3),
                    Scores(robot: "Humanoid", method: 5582.7, dense: 4587.8)]
        }
    }

    /// Which of our runs the table compares: algorithm, method and sparsity.
    public var algorithm: String { "sac" }
    public var method: String { "tows" }
    public var sparsity: Double { 0.9 }
    /// The number of environment steps the paper trained for.
    public var steps: Int { 1_000_000 }

    /// Sparrow's presets for the method and for its dense baseline of the same code base (ANF's SAC).
    public var sparsePreset: String { "tows-sac" }
    public var densePreset: String { "dense-sac" }

    public var methodLabel: String { "TowS-SAC 90%" }
    public var denseLabel: String { "Dense-SAC" }
    public var citation: String {
        "Grooten, Sokar, Mocanu, Dohare, Taylor, Pechenizkiy and Mocanu, \"Towards Implementing Truly Sparse "
            + "Connections in Deep RL Agents\", Main Result table (TowS-SAC 90% and Dense-SAC rows; 1M steps, gym v3); "
            + "transcribed in the project's seed file `../shared/seeds/001_cae61de6b57e79aa.txt`"
    }
}

/// Our runs of one method beside a paper's table: one row per robot with the final score (mean ± std over seeds),
/// best evaluation, steps reached, the paper's numbers and ours as a percentage of them. Unfinished runs are listed
/// and marked, never dropped; they do not enter the final-score numbers.
public struct PaperComparison: Sendable {
    public struct Row: Sendable {
        public var paper: PaperReference.Scores
        /// Finished runs (summary.json), by seed.
        public var finished: [RunResult]
        /// Runs still going (or stopped), by seed.
        public var unfinished: [RunResult]
        /// Mean and population std of the finished runs' final scores (mean of the last 10% of evaluations).
        public var mean: Double?
        public var std: Double?
        /// Mean over the finished runs of each run's highest evaluation.
        public var best: Double?
        /// 100 × mean / the paper's score of the method and of dense.
        public var percentOfMethod: Double?
        public var percentOfDense: Double?
        /// Our own dense runs of the same code base and budget (`dense-sac`), finished, by seed.
        public var dense: [RunResult] = []

        public var robot: String { paper.robot }
    }

    /// Ours against ours, per robot: the sparse method and Sparrow's own dense run of the same family (same code,
    /// same budget), with IQMs and bootstrap intervals over seeds, their ratio, Sokar's measures and the cost.
    public struct OwnComparison: Sendable {
        public var robot: String
        public var sparseIQM: Statistics.Interval?
        public var denseIQM: Statistics.Interval?
        /// Mean sparse final score over mean dense final score.
        public var ratio: Double?
        /// Mean of the last 10 evaluations (Sokar), sparse and dense.
        public var sparseLast10: Double?
        public var denseLast10: Double?
        /// Mean curve area (mean return over training), sparse and dense.
        public var sparseArea: Double?
        public var denseArea: Double?
        /// Mean over sparse runs of the first step reaching the dense runs' mean final score, and how many did.
        public var stepsToDense: Double?
        public var reachedDense: Int = 0
        public var sparseFLOPs: Double?
        /// Live weights without biases (Sokar et al.'s parameter count), mean over seeds.
        public var sparseWeights: Double?
        public var denseWeights: Double?
        public var denseFLOPs: Double?
        public var sparseWall: Double?
        public var denseWall: Double?
    }

    public var paper: PaperReference
    public var rows: [Row]
    /// Runs in the roots that are not this method on these robots (another preset, sparsity or env).
    public var others: [RunResult]
    /// Directories of runs found twice (the same run directory under two roots): the one with more
    /// progress is used, these are not.
    public var duplicates: [String]

    public init(runs: [RunResult], paper: PaperReference) {
        self.paper = paper
        let robots = paper.scores.map { $0.robot.lowercased() }
        func robot(_ r: RunResult) -> String { (r.env.split(separator: "-").first.map(String.init) ?? r.env).lowercased() }
        let mine = runs.filter {
            $0.algorithm == paper.algorithm && $0.method == paper.method && abs($0.sparsity - paper.sparsity) < 1e-9
                && robots.contains(robot($0))
        }
        let ownDense = runs.filter {
            $0.preset == paper.densePreset && $0.paramsLike == nil && robots.contains(robot($0))
        }
        others = runs.filter { r in !(mine + ownDense).contains { $0.directory == r.directory && $0.name == r.name } }
        let denseRuns = RunResults.deduplicated(ownDense).runs.filter { $0.finished && $0.finalScore != nil }
        let (unique, dropped) = RunResults.deduplicated(mine)
        duplicates = dropped
        rows = paper.scores.map { scores in
            let runs = unique.filter { robot($0) == scores.robot.lowercased() }.sorted { ($0.seed, $0.name) < ($1.seed, $1.name) }
            let done = runs.filter { $0.finished && $0.finalScore != nil }
            var row = Row(paper: scores, finished: done, unfinished: runs.filter { !($0.finished && $0.finalScore != nil) })
            if !done.isEmpty {
                let finals = done.map { $0.finalScore! }
                row.mean = Statistics.mean(finals)
                row.std = Statistics.standardDeviation(finals)
                let bests = done.compactMap(\.bestEvaluation)
                row.best = bests.isEmpty ? nil : Statistics.mean(bests)
                row.percentOfMethod = 100 * row.mean! / scores.method
                row.percentOfDense = 100 * row.mean! / scores.dense
            }
            row.dense = denseRuns.filter { robot($0) == scores.robot.lowercased() }.sorted { ($0.seed, $0.name) < ($1.seed, $1.name) }
            return row
        }
    }

    /// Ours against ours for each robot with finished runs of both (`reps` bootstrap replicates, fixed seed).
    public func ownComparisons(reps: Int = 20_000) -> [OwnComparison] {
        rows.compactMap { row in
            guard !row.finished.isEmpty || !row.dense.isEmpty else { return nil }
            func mean(_ runs: [RunResult], _ f: (RunResult) -> Double?) -> Double? {
                let v = runs.compactMap(f)
                return v.isEmpty || v.count != runs.count ? nil : Statistics.mean(v)
            }
            var c = OwnComparison(robot: row.robot)
            let sparse = row.finished.map { $0.finalScore! }, dense = row.dense.map { $0.finalScore! }
            if !sparse.isEmpty { c.sparseIQM = Statistics.stratifiedBootstrap([sparse], reps: reps, seed: 0) }
            if !dense.isEmpty { c.denseIQM = Statistics.stratifiedBootstrap([dense], reps: reps, seed: 0) }
            if !sparse.isEmpty, !dense.isEmpty, Statistics.mean(dense) > 0 { c.ratio = Statistics.mean(sparse) / Statistics.mean(dense) }
            c.sparseLast10 = mean(row.finished) { $0.lastEvaluationsMean(10) }
            c.denseLast10 = mean(row.dense) { $0.lastEvaluationsMean(10) }
            c.sparseArea = mean(row.finished, \.curveArea)
            c.denseArea = mean(row.dense, \.curveArea)
            if !dense.isEmpty {
                let target = Statistics.mean(dense)
                let reached = row.finished.compactMap { $0.stepsToReach(target) }
                c.reachedDense = reached.count
                c.stepsToDense = reached.isEmpty ? nil : Statistics.mean(reached.map(Double.init))
            }
            c.sparseFLOPs = mean(row.finished, \.trainingFLOPs)
            c.sparseWeights = mean(row.finished, \.liveWeights)
            c.denseWeights = mean(row.dense, \.liveWeights)
            c.denseFLOPs = mean(row.dense, \.trainingFLOPs)
            c.sparseWall = mean(row.finished, \.wallTime)
            c.denseWall = mean(row.dense, \.wallTime)
            return c
        }
    }

    /// The ours-against-ours table (empty when no robot has our own dense runs).
    public func ownComparisonMarkdown() -> String {
        let comparisons = ownComparisons().filter { !$0.robot.isEmpty }
        guard rows.contains(where: { !$0.dense.isEmpty }) else { return "" }
        var out = "## Ours against ours: \(paper.methodLabel) and Sparrow's own \(paper.denseLabel), same code, same budget\n\n"
        out += "`\(paper.densePreset)` and `\(paper.sparsePreset)` on the same Gymnasium v5 tasks for \(Self.steps(paper.steps)) steps. "
        out += "IQM of the final scores over seeds with a 95% bootstrap interval; "
        out += "**Sparse / dense**: mean final score over mean final score. Sokar et al.'s measures: **Last 10**: the mean "
        out += "of a run's last 10 evaluations (their score); **Curve area**: the mean return over training (area under the "
        out += "evaluation curve / steps); **Steps to dense**: the first evaluation step at which a sparse run reaches the "
        out += "dense runs' mean final score (how many runs did). **Weights**: live weights of the trained networks without biases, "
        out += "as Sokar et al. count parameters. **Train FLOPs** and **wall time**: per run, mean over seeds.\n\n"
        let header = ["Robot", "Seeds (dense, sparse)", "Ours \(paper.denseLabel) IQM [95% CI]", "Ours \(paper.methodLabel) IQM [95% CI]",
                      "Sparse / dense", "Last 10 (dense, sparse)", "Curve area (dense, sparse)", "Steps to dense",
                      "Weights (dense, sparse)", "Train FLOPs (dense, sparse)", "Wall time (dense, sparse)", "Paper \(paper.denseLabel), \(paper.methodLabel) (v3)"]
        var tableRows: [[String]] = []
        for c in comparisons {
            let row = self.row(c.robot)!
            func pair(_ a: Double?, _ b: Double?, _ f: (Double) -> String) -> String { "\(a.map(f) ?? "–"), \(b.map(f) ?? "–")" }
            let flops: (Double) -> String = { String(format: "%.2g", $0) }
            let seeds: String = "\(row.dense.count), \(row.finished.count)"
            let denseIQM: String = c.denseIQM.map(Report.interval) ?? "–"
            let sparseIQM: String = c.sparseIQM.map(Report.interval) ?? "–"
            let ratio: String = c.ratio.map { String(format: "%.2f", $0) } ?? "–"
            let never: String = row.dense.isEmpty ? "–" : "never (0 of \(row.finished.count))"
            let toDense: String = c.stepsToDense.map { Self.steps(Int($0)) + " (\(c.reachedDense) of \(row.finished.count))" } ?? never
            let paperScores: String = "\(Self.one(row.paper.dense)), \(Self.one(row.paper.method))"
            var cells: [String] = [c.robot, seeds, denseIQM, sparseIQM, ratio]
            cells.append(pair(c.denseLast10, c.sparseLast10, Self.one))
            cells.append(pair(c.denseArea, c.sparseArea, Self.one))
            cells.append(toDense)
            cells.append(pair(c.denseWeights, c.sparseWeights, { String(format: "%.0f", $0) }))
            cells.append(pair(c.denseFLOPs, c.sparseFLOPs, flops))
            cells.append(pair(c.denseWall, c.sparseWall, RunLog.duration))
            cells.append(paperScores)
            tableRows.append(cells)
        }
        return out + Report.markdownTable(header, tableRows) + "\n"
    }

    public func row(_ robot: String) -> Row? { rows.first { $0.robot.lowercased() == robot.lowercased() } }

    // MARK: Markdown

    /// The table, what its columns mean, the note on gym v3 against Gymnasium v5, and every run it read.
    public func markdown(curvesImage: String? = nil, command: String? = nil) -> String {
        var out = "# \(paper.methodLabel) on Gymnasium v5, beside the paper\n\n"
        if let command { out += "Written by `\(command)`.\n\n" }
        out += "Ours: Sparrow's `tows-sac` preset (SAC with truly sparse actor and critics at 90% sparsity), Gymnasium v5 "
        out += "tasks. Paper: \(paper.citation).\n\n"
        out += "- **Final score**: the mean of the last 10% of a run's evaluations (deterministic policy), as the paper "
        out += "reports; mean ± std (population) over the finished seeds.\n"
        out += "- **Best eval.**: a run's highest evaluation, mean over the finished seeds.\n"
        out += "- **Steps**: environment steps reached (the paper trained for \(Self.steps(paper.steps))).\n"
        out += "- **% of paper**: our final score over the paper's \(paper.methodLabel) (and \(paper.denseLabel)) score.\n"
        out += "- Unfinished runs are listed in their row and below, and do not enter the numbers.\n\n"
        let header = ["Robot", "Seeds", "Final score (ours, v5)", "Best eval.", "Steps", "Paper \(paper.methodLabel) (v3)",
                      "Paper \(paper.denseLabel) (v3)", "% of paper \(paper.methodLabel)", "% of paper \(paper.denseLabel)",
                      "Unfinished"]
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "| --- | --- |" + String(repeating: " ---: |", count: header.count - 3) + " --- |"]
        for row in rows {
            let seeds = row.finished.isEmpty ? "0" : "\(row.finished.count) (\(row.finished.map { String($0.seed) }.joined(separator: ", ")))"
            let score = row.mean.map { m in row.finished.count > 1 ? Self.one(m) + " ± " + Self.one(row.std!) : Self.one(m) } ?? "–"
            let steps = row.finished.isEmpty ? "–" : Self.join(row.finished.map { Self.steps($0.stepsReached) })
            let cells = [row.robot, seeds, score, row.best.map(Self.one) ?? "–", steps, Self.one(row.paper.method),
                         Self.one(row.paper.dense), row.percentOfMethod.map(Self.percent) ?? "–",
                         row.percentOfDense.map(Self.percent) ?? "–",
                         row.unfinished.isEmpty ? "–" : row.unfinished.map(Self.progress).joined(separator: "; ")]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        out += lines.joined(separator: "\n") + "\n\n"
        out += Report.provenanceNote(rows.flatMap { $0.finished + $0.unfinished + $0.dense })
        out += ownComparisonMarkdown()
        if let curvesImage {
            out += "![Learning curves: evaluation return against environment steps per robot, the paper's "
            out += "\(paper.methodLabel) score dashed](\(curvesImage))\n\n"
        }
        out += Self.versionNote
        out += "\n## Runs\n\n"
        let all = rows.flatMap { $0.finished + $0.unfinished }
        if all.isEmpty { out += "No \(paper.methodLabel) runs found.\n" }
        for r in all {
            let state: String
            if r.finished, let f = r.finalScore {
                state = "finished, \(Self.steps(r.stepsReached)) steps, final score \(Self.one(f)), best eval. "
                    + (r.bestEvaluation.map(Self.one) ?? "–") + (r.wallTime.map { ", \(RunLog.duration($0)) of training" } ?? "")
            } else if !r.started {
                state = "**not started** (planned in `\((r.directory as NSString).deletingLastPathComponent)/sweep.json`)"
            } else {
                state = "**unfinished** (\(Self.progress(r)))"
            }
            out += "- `\(r.directory)`: \(r.env) seed \(r.seed), \(state)\n"
        }
        if !duplicates.isEmpty {
            out += "\nFound twice, the copy above used instead: " + duplicates.map { "`\($0)`" }.joined(separator: ", ") + "\n"
        }
        if !others.isEmpty {
            out += "\nNot part of this comparison (another method, sparsity or env): "
                + others.map { "`\($0.name)`" }.joined(separator: ", ") + "\n"
        }
        return out
    }

    /// Why v5 numbers need not match the paper's v3 numbers, Ant and Humanoid above all.
    public static let versionNote = """
        ## gym v3 (the paper) against Gymnasium v5 (ours)

        The paper trained on gym's v3 tasks, simulated through mujoco-py. With mujoco-py 2.x (MuJoCo 2.0), the usual \
        install by then, the external contact forces `cfrc_ext` are never computed and read as zeros (openai/gym#1541; \
        Gymnasium's Ant and Humanoid documentation repeat the warning for v3 and earlier): Ant-v3's 84 and \
        Humanoid-v3's 84 contact-force observations were constant zeros, and the contact-cost term of both rewards was \
        always 0. Gymnasium v5 runs on the `mujoco` bindings, where the contact forces are real, so both the \
        observation and the reward differ:

        - **Ant-v5** includes the contact forces in the observation by default (`include_cfrc_ext_in_observation=True`: \
        105 values, the 13 non-world bodies × 6, clipped to [−1, 1]) and subtracts a contact cost of \
        5·10⁻⁴·‖clip(cfrc_ext)‖² from the reward. (Ant-v4 left both out by default, `use_contact_forces=False`; v5 \
        put them back.)
        - **Humanoid-v5** includes `cfrc_ext` of its 13 non-world bodies (78 of its 348 observations; the world body's \
        always-zero rows are dropped) and restores the contact cost that v4 had removed: 5·10⁻⁷·‖cfrc_ext‖², capped \
        at 10. v5 also pays the healthy reward only while the humanoid is healthy (v3/v4 paid it on the terminating \
        step too: one step per episode).
        - Hopper, HalfCheetah and Walker2d have no contact forces in observation or reward in any version. Hopper \
        and HalfCheetah keep their models in v5, so their numbers compare most directly; Walker2d-v5 changes its \
        model: both feet have friction 1.9 (v2–v4: the left foot 1.9, the right 0.9; Gymnasium issue #477).

        """

    // MARK: Figure

    /// One panel per robot: each run's evaluation return against environment steps (a colour per seed; unfinished
    /// runs named in the panel's title), the paper's method score as a black dashed line, its dense score grey dashed.
    public func learningCurves() -> Figure {
        let colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
        let seeds = Array(Set(rows.flatMap { ($0.finished + $0.unfinished).map(\.seed) })).sorted()
        let panels = rows.map { row -> Figure.Panel in
            let runs = (row.finished + row.unfinished).sorted { $0.seed < $1.seed }
            let title = runs.isEmpty ? "\(row.robot) (no run yet)"
                : "\(runs[0].env)" + (row.unfinished.isEmpty ? "" : " (unfinished: "
                    + row.unfinished.map { $0.started ? "seed \($0.seed) at \(Self.steps($0.stepsReached))" : "seed \($0.seed) not started" }
                        .joined(separator: ", ") + ")")
            var panel = Figure.Panel(title: title, xLabel: "environment steps", yLabel: "evaluation return")
            let xMax = Double(max(paper.steps, runs.map(\.stepsReached).max() ?? 0))
            panel.series.append(.init(label: "paper \(paper.denseLabel)", color: "#9a9a9a", x: [0, xMax],
                                      y: [row.paper.dense, row.paper.dense], dashed: true))
            panel.series.append(.init(label: "paper \(paper.methodLabel)", color: "#000000", x: [0, xMax],
                                      y: [row.paper.method, row.paper.method], dashed: true))
            // Our own dense runs (same code, same budget) in greys under the sparse ones.
            let greys = ["#6f6f6f", "#a8a8a8", "#8a8a8a", "#c4c4c4"]
            for (i, r) in row.dense.enumerated() where !r.evaluations.isEmpty {
                panel.series.append(.init(label: "ours \(paper.denseLabel), seed \(r.seed)", color: greys[i % greys.count],
                                          x: r.evaluations.map { Double($0.step) }, y: r.evaluations.map(\.meanReturn)))
            }
            for r in runs where !r.evaluations.isEmpty {
                let i = seeds.firstIndex(of: r.seed) ?? 0
                panel.series.append(.init(label: "ours, seed \(r.seed)",
                                          color: colors[i % colors.count], x: r.evaluations.map { Double($0.step) },
                                          y: r.evaluations.map(\.meanReturn)))
            }
            return panel
        }
        var f = Figure(title: "\(paper.methodLabel) on Gymnasium v5: evaluation return (ours; our \(paper.denseLabel) in grey) and the paper's final score (dashed)",
                       panels: panels)
        f.columns = 3
        f.panelWidth = 420
        f.panelHeight = 290
        return f
    }

    /// Writes the Markdown to `path` (…/NAME.md; `command`, the command line that wrote it, goes at its top) and the
    /// learning curves beside it as NAME-curves.svg and, where a converter is installed, NAME-curves.png (linked from
    /// the Markdown); returns the files written.
    public func write(markdownTo path: String, command: String? = nil) throws -> [String] {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension + "-curves"
        let svg = (dir as NSString).appendingPathComponent(stem + ".svg")
        let png = (dir as NSString).appendingPathComponent(stem + ".png")
        try learningCurves().svg().write(toFile: svg, atomically: true, encoding: .utf8)
        var files = [path, svg]
        let image: String
        if SVGConverter.convert(svg: svg, png: png) { files.append(png); image = stem + ".png" } else { image = stem + ".svg" }
        try markdown(curvesImage: image, command: command).write(toFile: path, atomically: true, encoding: .utf8)
        return files
    }

    // MARK: formatting

    static func one(_ x: Double) -> String { String(format: "%.1f", x) }
    static func percent(_ x: Double) -> String { String(format: "%.0f%%", x) }
    static func join(_ values: [String]) -> String { Set(values).count == 1 ? values[0] : values.joined(separator: ", ") }

    /// 1M, 300k, 94k, 1.5M.
    static func steps(_ n: Int) -> String {
        if n >= 1_000_000 { return Figure.compact(Double(n) / 1e6) + "M" }
        if n >= 1000 { return Figure.compact((Double(n) / 100).rounded() / 10) + "k" }
        return "\(n)"
    }

    /// "seed 1 at 94k of 1M, last eval. 316.0"; "seed 0 not started".
    static func progress(_ r: RunResult) -> String {
        if !r.started { return "seed \(r.seed) not started" }
        return "seed \(r.seed) at \(steps(r.stepsReached)) of \(steps(r.steps))"
            + (r.evaluations.last.map { ", last eval. \(one($0.meanReturn))" } ?? ", no evaluation yet")
    }
}
