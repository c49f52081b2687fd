import Foundation
import Training

/// The numbers of a sweep's report: per env × method × sparsity, and per method × sparsity across envs.
///
/// - Final return of a run: the mean of its last 10% of evaluations (finished runs only).
/// - Per cell: mean ± std (population, over runs) and the IQM with a 95% percentile interval from a bootstrap over
///   runs; normalised scores divide by the mean final return of the dense run(s) of the same env and algorithm.
/// - Across envs: rliable's IQM of normalised scores over runs × envs with a stratified bootstrap (runs resampled
///   within each env), as Agarwal et al. recommend.
/// - Live parameters and training/inference FLOPs are shown relative to the dense cell of the same env and algorithm.
/// - Atari envs ("ALE/Pong-v5"): also the human-normalised score per cell and its IQM across games (`AtariScores`).
public struct Report: Sendable {
    /// The group a run belongs to in the tables and plots.
    public struct Key: Hashable, Comparable, Sendable {
        public var algorithm: String
        public var method: String
        public var sparsity: Double
        /// A parameter-matched dense run's `params-like` sparsity.
        public var paramsLike: Double? = nil
        /// Graesser's actor:critic split, when the runs set it.
        public var actorCriticRatio: Double? = nil
        /// ReDo's interval, when the runs recycled dormant neurons.
        public var redoEvery: Int? = nil
        /// The code base of the runs' preset (`Presets.Family`): a sparse method is normalised by the dense run of its
        /// own family, so ANF's SAC and rigl/rl's SAC never share a reference. "" when the preset is unknown.
        public var family: String = ""
        /// The initialisation, when the runs overrode their preset's (`RunResult.initialization`).
        public var initialization: String? = nil

        public init(algorithm: String, method: String, sparsity: Double, paramsLike: Double? = nil, actorCriticRatio: Double? = nil,
                    redoEvery: Int? = nil, family: String = "", initialization: String? = nil) {
            self.algorithm = algorithm; self.method = method; self.sparsity = sparsity
            self.paramsLike = paramsLike; self.actorCriticRatio = actorCriticRatio; self.redoEvery = redoEvery
            self.family = family; self.initialization = initialization
        }

        /// The group of a run.
        public init(_ r: RunResult) {
            self.init(algorithm: r.algorithm, method: r.method, sparsity: r.method == "dense" ? 0 : r.sparsity,
                      paramsLike: r.paramsLike, actorCriticRatio: r.actorCriticRatio, redoEvery: r.redoEvery,
                      family: Presets.family(ofPreset: r.preset)?.rawValue ?? "", initialization: r.initialization)
        }

        /// The full-size dense network: the reference scores are normalised by.
        public var isDenseReference: Bool {
            method == "dense" && paramsLike == nil && actorCriticRatio == nil && redoEvery == nil && initialization == nil
        }

        /// "TowS-SAC", "Dense-TD3", "Dense-SAC (rigl/rl)" (the dense SAC of Graesser's presets, beside ANF's) …
        public var methodLabel: String {
            let names = ["dense": "Dense", "static": "SS", "ds": "DS", "tows": "TowS", "set": "SET", "rigl": "RigL",
                         "prune": "Pruning"]
            let tag = method == "dense" && family == Presets.Family.graesser.rawValue && algorithm == "sac" ? " (rigl/rl)" : ""
            return "\(names[method] ?? method)-\(algorithm.uppercased())" + tag
        }
        /// "TowS-SAC 90%" (dense: no sparsity), "Dense-SAC params of 90%", "SET-SAC 90% a:c 0.5".
        public var label: String { (method == "dense" ? methodLabel : "\(methodLabel) \(Report.percent(sparsity))") + variant }
        /// The method column of the tables: "Dense-SAC params of 90%", "SET-SAC a:c 0.5".
        public var methodColumn: String { methodLabel + variant }
        var variant: String {
            (paramsLike.map { " params of \(Report.percent($0))" } ?? "") + (actorCriticRatio.map { " a:c \(Figure.compact($0))" } ?? "")
                + (redoEvery.map { " ReDo/\($0)" } ?? "") + (initialization.map { " init \($0)" } ?? "")
        }

        /// Where a method sorts in tables and figures: dense first, then the sparse methods as the papers list them.
        static func order(_ method: String) -> Int {
            let order = ["dense", "static", "ds", "set", "rigl", "prune", "tows"]
            return order.firstIndex(of: method) ?? order.count
        }

        public static func < (a: Key, b: Key) -> Bool {
            let ia = order(a.method), ib = order(b.method)
            if (a.algorithm, ia, a.method, a.sparsity) != (b.algorithm, ib, b.method, b.sparsity) {
                return (a.algorithm, ia, a.method, a.sparsity) < (b.algorithm, ib, b.method, b.sparsity)
            }
            return (a.paramsLike ?? -1, a.actorCriticRatio ?? 0, a.redoEvery ?? 0, a.family, a.initialization ?? "")
                < (b.paramsLike ?? -1, b.actorCriticRatio ?? 0, b.redoEvery ?? 0, b.family, b.initialization ?? "")
        }
    }

    /// One env × method × sparsity.
    public struct Cell: Sendable {
        public var env: String
        public var key: Key
        public var runs: [RunResult]
        public var scores: [Double]
        public var mean: Double
        public var std: Double
        public var iqm: Statistics.Interval
        /// Scores divided by the dense mean of the same env and algorithm (nil without a dense cell or if its mean ≤ 0).
        public var normalized: [Double]?
        /// The dense group the normalised numbers divide by: the same algorithm and preset family, else (runs of
        /// another family only) the same algorithm, said in the report.
        public var reference: Key?
        public var normalizedIQM: Statistics.Interval?
        public var liveParameters: Double?
        public var trainingFLOPs: Double?
        public var inferenceFLOPs: Double?
        public var parametersVsDense: Double?
        public var trainingFLOPsVsDense: Double?
        public var inferenceFLOPsVsDense: Double?
        /// Atari only: (score − random) / (human − random) per run (nil for other envs and games outside `AtariScores`).
        public var humanNormalized: [Double]?
        public var humanNormalizedIQM: Statistics.Interval?
    }

    /// One method × sparsity across every env it ran on.
    public struct Aggregate: Sendable {
        public var key: Key
        public var envs: [String]
        /// IQM of normalised scores over runs × envs, stratified bootstrap (nil if some env has no dense reference).
        public var normalizedIQM: Statistics.Interval?
        public var parametersVsDense: Double?
        public var trainingFLOPsVsDense: Double?
        public var inferenceFLOPsVsDense: Double?
        /// IQM of human-normalised scores over runs × the Atari games among `envs`, stratified bootstrap (nil
        /// without one; envs that are not Atari games do not enter it).
        public var humanNormalizedIQM: Statistics.Interval?
    }

    public var envs: [String]
    public var keys: [Key]
    public var cells: [Cell]
    public var aggregates: [Aggregate]
    public var runs: [RunResult]
    public var unfinished: [String]
    public var reps: Int
    /// `sparrow report --noise`: also the return under observation noise (figure and table).
    public var includeNoise = false
    /// `sparrow report --reference FILE.csv`: published curves drawn in the learning curves (no number uses them).
    public var references: [ReferenceCurve] = []
    /// What the learning curves draw (`sparrow report --curves`); the numbers always come from evaluations.
    public var curves: CurveSource = .evaluation
    /// `--train-window`: the window of training-return curves (default: each run's evaluation interval).
    public var trainingWindow: Int?

    /// What a learning curve shows.
    public enum CurveSource: String, CaseIterable, Sendable {
        /// evaluations.csv: the greedy policy's return at each evaluation (the default).
        case evaluation
        /// metrics.csv's training returns, averaged per window as Dopamine reports its iterations, so curves
        /// compare with published training curves (`--reference`) like for like.
        case training
    }

    /// The points a run's learning curve draws.
    func curve(_ r: RunResult) -> [EvaluationPoint] {
        switch curves {
        case .evaluation: return r.evaluations
        case .training: return r.trainingCurve(window: trainingWindow ?? r.evalEvery ?? max(1, r.steps / 20))
        }
    }

    public init(runs all: [RunResult], reps: Int = 50_000, seed: UInt64 = 0) throws {
        runs = all
        self.reps = reps
        unfinished = all.filter { $0.finalScore == nil || !$0.finished }.map(\.name)
        let done = all.filter { $0.finished && $0.finalScore != nil }
        // With no finished run there are no numbers, but a sweep under way still gets its learning curves.
        guard !done.isEmpty || all.contains(where: { !$0.evaluations.isEmpty }) else {
            throw SweepError(all.isEmpty ? "no run directories found"
                             : "none of the \(all.count) runs has finished (no summary.json) or evaluated yet")
        }
        envs = Array(Set(done.map(\.env))).sorted()
        var byCell: [String: [Key: [RunResult]]] = [:]
        for r in done {
            byCell[r.env, default: [:]][Key(r), default: []].append(r)
        }
        keys = Array(Set(byCell.values.flatMap(\.keys))).sorted()
        var cells: [Cell] = []
        for env in envs {
            let groups = byCell[env] ?? [:]
            for key in keys {
                guard let rs = groups[key] else { continue }
                let sorted = rs.sorted { $0.seed < $1.seed }
                let scores = sorted.map { $0.finalScore! }
                let candidates = groups.filter { $0.key.algorithm == key.algorithm && $0.key.isDenseReference }
                    .sorted { $0.key < $1.key }
                let reference = candidates.first { $0.key.family == key.family } ?? candidates.first
                let dense = reference?.value
                let denseMean = dense.map { Statistics.mean($0.map { $0.finalScore! }) }
                func meanOf(_ f: (RunResult) -> Double?, _ runs: [RunResult]) -> Double? {
                    let v = runs.compactMap(f)
                    return v.count == runs.count && !v.isEmpty ? Statistics.mean(v) : nil
                }
                func ratio(_ f: @escaping (RunResult) -> Double?) -> Double? {
                    guard let dense, let d = meanOf(f, dense), d > 0, let m = meanOf(f, sorted) else { return nil }
                    return m / d
                }
                var cell = Cell(env: env, key: key, runs: sorted, scores: scores, mean: Statistics.mean(scores),
                                std: Statistics.standardDeviation(scores),
                                iqm: Statistics.stratifiedBootstrap([scores], reps: reps, seed: seed))
                cell.reference = reference?.key
                if let denseMean, denseMean > 0 {
                    let n = scores.map { $0 / denseMean }
                    cell.normalized = n
                    cell.normalizedIQM = Statistics.stratifiedBootstrap([n], reps: reps, seed: seed)
                }
                cell.liveParameters = meanOf(\.liveParameters, sorted)
                cell.trainingFLOPs = meanOf(\.trainingFLOPs, sorted)
                cell.inferenceFLOPs = meanOf(\.inferenceFLOPs, sorted)
                cell.parametersVsDense = ratio(\.liveParameters)
                cell.trainingFLOPsVsDense = ratio(\.trainingFLOPs)
                cell.inferenceFLOPsVsDense = ratio(\.inferenceFLOPs)
                if let reference = AtariScores.entry(env: env) {
                    let h = scores.map(reference.normalize)
                    cell.humanNormalized = h
                    cell.humanNormalizedIQM = Statistics.stratifiedBootstrap([h], reps: reps, seed: seed)
                }
                cells.append(cell)
            }
        }
        self.cells = cells
        aggregates = keys.map { key in
            let mine = cells.filter { $0.key == key }
            let normalized = mine.compactMap(\.normalized)
            let humanNormalized = mine.compactMap(\.humanNormalized)
            func meanRatio(_ f: (Cell) -> Double?) -> Double? {
                let v = mine.compactMap(f)
                return v.count == mine.count ? Statistics.mean(v) : nil
            }
            return Aggregate(key: key, envs: mine.map(\.env),
                             normalizedIQM: normalized.count == mine.count ? Statistics.stratifiedBootstrap(normalized, reps: reps, seed: seed) : nil,
                             parametersVsDense: meanRatio(\.parametersVsDense),
                             trainingFLOPsVsDense: meanRatio(\.trainingFLOPsVsDense),
                             inferenceFLOPsVsDense: meanRatio(\.inferenceFLOPsVsDense),
                             humanNormalizedIQM: humanNormalized.isEmpty ? nil
                                : Statistics.stratifiedBootstrap(humanNormalized, reps: reps, seed: seed))
        }
    }

    public func cell(_ env: String, _ key: Key) -> Cell? { cells.first { $0.env == env && $0.key == key } }

    // MARK: tables

    /// The paper-style table: one row per method × sparsity; per env the final return (mean ± std over runs);
    /// then the IQM of normalised scores across envs with its 95% interval, and cost relative to dense. A second
    /// table gives every cell's IQM and interval.
    /// A note when the runs came from different Sparrow builds (run.json) or CPUs (config.json's machine), else "".
    public static func provenanceNote(_ runs: [RunResult]) -> String {
        var out = ""
        let builds = Set(runs.compactMap(\.sparrowBuild)), cpus = Set(runs.compactMap(\.cpu))
        if builds.count > 1 {
            out += "**Note:** these runs came from \(builds.count) Sparrow versions: \(builds.sorted().joined(separator: ", ")).\n\n"
        }
        if cpus.count > 1 {
            out += "**Note:** these runs trained on \(cpus.count) CPU models: \(cpus.sorted().joined(separator: ", ")).\n\n"
        }
        return out
    }

    public func markdown() -> String {
        var out = "# Results\n\n"
        if cells.isEmpty {
            out += "No run has finished yet, so there are no numbers; learning_curves.svg draws each of the "
            out += "\(runningCurves.count) run(s) evaluated so far, dashed.\n\n"
            out += Self.provenanceNote(runs)
            return out + notesMarkdown()
        }
        let counts = Set(cells.map(\.runs.count))
        let seedsText = counts.count == 1 ? "\(counts.first!) runs" : "\(counts.min()!)–\(counts.max()!) runs"
        out += "Final return: the mean of the last 10% of evaluations of each run; mean ± std over \(seedsText) per cell. "
        out += "IQM: interquartile mean of dense-normalised final returns over runs × environments, with a 95% "
        out += "stratified-bootstrap percentile interval (\(reps) replicates). Params and FLOPs relative to dense "
        out += "(live weights and biases of actor and critics; training FLOPs of all updates; inference FLOPs of one action).\n\n"
        out += Self.provenanceNote(runs)
        out += referenceNote()
        var header = ["Method", "Sparsity"] + envs + ["IQM (norm.) [95% CI]", "Params", "Train FLOPs", "Inf. FLOPs"]
        var rows: [[String]] = []
        for agg in aggregates {
            var row = [agg.key.methodColumn, Self.percent(agg.key.sparsity)]
            for env in envs {
                row.append(cell(env, agg.key).map { Self.format($0.mean) + " ± " + Self.format($0.std) } ?? "–")
            }
            row.append(agg.normalizedIQM.map(Self.interval) ?? "–")
            row += [agg.parametersVsDense, agg.trainingFLOPsVsDense, agg.inferenceFLOPsVsDense].map { $0.map(Self.ratio) ?? "–" }
            rows.append(row)
        }
        out += Self.markdownTable(header, rows)
        out += humanNormalizedMarkdown()
        out += "\n## IQM of the final return per environment\n\nIQM [95% bootstrap CI over runs] of the raw final return; "
        out += "in parentheses the same for the dense-normalised score.\n\n"
        header = ["Method", "Sparsity"] + envs
        rows = keys.map { key in
            [key.methodColumn, Self.percent(key.sparsity)] + envs.map { env in
                guard let c = cell(env, key) else { return "–" }
                return Self.interval(c.iqm) + (c.normalizedIQM.map { " (" + Self.interval($0) + ")" } ?? "")
            }
        }
        out += Self.markdownTable(header, rows)
        out += analysisMarkdown()
        return out + notesMarkdown()
    }

    /// What the numbers leave out (unfinished runs) and what the learning curves draw besides the finished runs'
    /// evaluations: running runs, training returns (`--curves training`), reference curves.
    func notesMarkdown() -> String {
        var out = ""
        if !unfinished.isEmpty {
            out += "\nNot included (unfinished): \(unfinished.count) run(s): \(unfinished.prefix(10).joined(separator: ", "))"
            out += unfinished.count > 10 ? ", …" : ""
            out += runningCurves.isEmpty ? "\n" : " (the learning curves draw each one evaluated so far alone, dashed)\n"
        }
        if curves == .training {
            let window = trainingWindow.map { "\($0)-step" } ?? "evaluation-interval"
            out += "\nlearning_curves.svg draws training returns (metrics.csv's episode_return, ε-greedy where the "
            out += "algorithm explores) averaged per \(window) window, at each window's middle step.\n"
        }
        let panelEnvs = Set(envs + runningCurves.map(\.env))
        let drawn = references.filter { panelEnvs.contains($0.env) }
        if !drawn.isEmpty {
            out += "\nReference curves in the learning curves (they enter no number):\n"
            for c in drawn { out += "- \(c.label) on \(c.env), from \((c.source as NSString).lastPathComponent)\n" }
        }
        return out
    }

    /// Which dense runs the normalised numbers divide by, per method, when that is not obvious: more than one dense
    /// group of an algorithm, or a method normalised by a dense run of another preset family.
    func referenceNote() -> String {
        var lines: [String] = []
        for key in keys where !key.isDenseReference {
            // The first by sort order, so the note reads the same every time (envs may differ only without a dense run
            // of the method's own family in some of them).
            guard let ref = Set(cells.filter { $0.key == key }.compactMap(\.reference)).sorted().first else { continue }
            let denseGroups = Set(cells.map(\.key).filter { $0.algorithm == key.algorithm && $0.isDenseReference })
            if denseGroups.count > 1 || ref.family != key.family {
                let runs = Set(cells.filter { $0.key == ref }.flatMap(\.runs).map(\.preset)).sorted().joined(separator: ", ")
                lines.append("\(key.label) by \(ref.methodLabel) (\(runs))"
                             + (ref.family != key.family ? " — another preset family: no dense run of its own family" : ""))
            }
        }
        return lines.isEmpty ? "" : "Normalised by: " + lines.joined(separator: "; ") + ".\n\n"
    }

    /// One row per env × method × sparsity with every number (machine-readable).
    public func csv() -> String {
        var lines = ["env,algorithm,method,sparsity,runs,mean,std,iqm,iqm_low,iqm_high,normalized_mean,normalized_iqm,"
                     + "normalized_iqm_low,normalized_iqm_high,live_params,params_vs_dense,training_flops,"
                     + "training_flops_vs_dense,inference_flops,inference_flops_vs_dense,params_like,actor_critic_ratio"]
        // Atari runs add their human-normalised columns at the end; other sweeps keep the columns they always had.
        let atari = hasHumanNormalizedScores
        if atari { lines[0] += "," + Self.humanNormalizedCSVColumns }
        func f(_ x: Double?) -> String { x.map { String(format: "%.6g", $0) } ?? "" }
        for key in keys {
            for env in envs {
                guard let c = cell(env, key) else { continue }
                let fields: [String] = [env, key.algorithm, key.method, f(key.sparsity), String(c.runs.count),
                                        f(c.mean), f(c.std), f(c.iqm.estimate), f(c.iqm.lower), f(c.iqm.upper),
                                        f(c.normalized.map(Statistics.mean)), f(c.normalizedIQM?.estimate),
                                        f(c.normalizedIQM?.lower), f(c.normalizedIQM?.upper), f(c.liveParameters),
                                        f(c.parametersVsDense), f(c.trainingFLOPs), f(c.trainingFLOPsVsDense),
                                        f(c.inferenceFLOPs), f(c.inferenceFLOPsVsDense), f(key.paramsLike), f(key.actorCriticRatio)]
                lines.append((fields + (atari ? humanNormalizedCSVFields(c).map(f) : [])).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
        var s = "| " + header.joined(separator: " | ") + " |\n"
        s += "|" + header.enumerated().map { $0.offset < 2 ? " --- |" : " ---: |" }.joined() + "\n"
        for r in rows { s += "| " + r.joined(separator: " | ") + " |\n" }
        return s
    }

    static func percent(_ s: Double) -> String {
        let p = s * 100
        return abs(p - p.rounded()) < 1e-6 ? "\(Int(p.rounded()))%" : String(format: "%.1f%%", p)
    }

    /// Returns with 4 significant digits at most one decimal for big values ("3012", "45.3", "0.912").
    static func format(_ x: Double) -> String {
        let a = abs(x)
        if a >= 1000 { return String(format: "%.0f", x) }
        if a >= 100 { return String(format: "%.1f", x) }
        if a >= 10 { return String(format: "%.2f", x) }
        return String(format: "%.3f", x)
    }

    static func interval(_ i: Statistics.Interval) -> String { "\(format(i.estimate)) [\(format(i.lower)), \(format(i.upper))]" }
    static func ratio(_ x: Double) -> String { String(format: x >= 0.1 ? "%.2f×" : "%.3f×", x) }
}
