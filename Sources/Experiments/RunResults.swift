import Agents
import Foundation
import SparrowCore
import Training

/// One run directory as the report reads it.
public struct RunResult: Sendable {
    public var name: String
    public var directory: String
    public var env: String
    public var preset: String
    public var algorithm: String
    public var method: String
    public var sparsity: Double
    public var seed: Int
    public var steps: Int
    /// Has summary.json (only finished runs enter the final-score statistics).
    public var finished: Bool
    public var evaluations: [EvaluationPoint]
    /// Mean of the last 10% of evaluations (summary.json's final_score).
    public var finalScore: Double?
    public var liveParameters: Double?
    /// Live weights of the trained networks without biases (Sokar et al.'s count): summary.json's `live_weights`,
    /// or counted from the checkpoint of a run made before that key.
    public var liveWeights: Double?
    public var trainingFLOPs: Double?
    /// FLOPs of one action of the deterministic policy: 2 × the actor's live weights (forward, batch 1).
    public var inferenceFLOPs: Double?
    /// The last environment step the run logged (metrics.csv, else evaluations.csv; `steps` once finished).
    public var stepsReached: Int
    /// Training wall time in seconds at `stepsReached` (metrics.csv's wall_time_s), if logged.
    public var wallTime: Double?
    /// False for a run a sweep planned (sweep.json) that has no run directory yet (`RunResults.planned`).
    public var started = true
    /// Sparrow's version and commit ("0.14.0 c3d0db98"; run.json), nil for runs from before run.json.
    public var sparrowBuild: String?
    /// The CPU the run trained on (config.json's `machine.cpu`), if recorded.
    public var cpu: String?
    /// `params-like` (a parameter-matched dense run) and `actor-critic-ratio`, when set.
    public var paramsLike: Double?
    public var actorCriticRatio: Double?
    /// `redo-every` when ReDo recycled neurons (nil: off).
    public var redoEvery: Int?
    /// `init` when the run drew its initial weights otherwise than its preset does (an ablation, e.g.
    /// `sweeps/graesser-dqn-cartpole-v0-init-*.yaml`); nil when it kept the preset's or the preset is unknown.
    public var initialization: String?
    /// `noise-features`: the fraction of the observation that was noise (0: none).
    public var noiseFeatures = 0.0
    /// `sparrow eval RUN --obs-noise`'s result, if the run has one (noise_robustness.json).
    public var noiseRobustness: NoiseRobustness?
    /// metrics.csv's input-layer connections per real and per noise feature over training (noise features only).
    public var inputConnections: [InputConnectionsPoint] = []
    /// metrics.csv's training returns: the step and `episode_return` of each row that has one (the mean return of the
    /// training episodes that ended in that row's logging interval).
    public var trainingReturns: [EvaluationPoint] = []
    /// config.json's `eval-every`: the default window of training-return curves (`trainingCurve(window:)`).
    public var evalEvery: Int?
    /// analysis.csv's whole-network measurements (gradient SNR, dormant fraction, recycled neurons) with their steps.
    public var analyses: [(step: Int, measurement: NetworkMeasurement)] = []
    /// Rows of evaluations.csv that could not be read (cut, not numbers, NaN or infinite returns): left out of
    /// every figure, counted so the report can say so.
    public var skippedEvaluationRows = 0

    public init(name: String, directory: String = "", env: String, preset: String = "", algorithm: String, method: String,
                sparsity: Double, seed: Int, steps: Int = 0, finished: Bool = true, evaluations: [EvaluationPoint] = [],
                finalScore: Double?, liveParameters: Double? = nil, trainingFLOPs: Double? = nil, inferenceFLOPs: Double? = nil,
                stepsReached: Int? = nil, wallTime: Double? = nil) {
        self.name = name; self.directory = directory; self.env = env; self.preset = preset; self.algorithm = algorithm
        self.method = method; self.sparsity = sparsity; self.seed = seed; self.steps = steps; self.finished = finished
        self.evaluations = evaluations; self.finalScore = finalScore; self.liveParameters = liveParameters
        self.trainingFLOPs = trainingFLOPs; self.inferenceFLOPs = inferenceFLOPs
        self.stepsReached = stepsReached ?? (finished ? steps : evaluations.last?.step ?? 0)
        self.wallTime = wallTime
    }

    /// The highest evaluation of the run (nil before its first).
    public var bestEvaluation: Double? { evaluations.map(\.meanReturn).max() }

    // Sokar et al.'s measures (DS-TD3/DS-SAC paper and code): the score is the mean of the last 10 evaluations (not
    // the last 10%), the learning curve's area says how fast a method learns, and "steps to reach the dense final
    // score" backs their 40-50%-fewer-steps claim.

    /// Mean return of the last `count` evaluations (Sokar's final score with 10); nil before the first.
    public func lastEvaluationsMean(_ count: Int = 10) -> Double? {
        evaluations.isEmpty ? nil : Statistics.mean(evaluations.suffix(count).map(\.meanReturn))
    }

    /// The area under the evaluation curve divided by its step span (trapezoids between evaluations): the mean
    /// return over training, comparable between runs of one length. Nil with fewer than two evaluations.
    public var curveArea: Double? {
        guard evaluations.count >= 2, let first = evaluations.first, let last = evaluations.last, last.step > first.step else { return nil }
        var area = 0.0
        for (a, b) in zip(evaluations, evaluations.dropFirst()) { area += 0.5 * (a.meanReturn + b.meanReturn) * Double(b.step - a.step) }
        return area / Double(last.step - first.step)
    }

    /// The first evaluation step at which the return reaches `score` (e.g. the dense run's final score); nil if it
    /// never does.
    public func stepsToReach(_ score: Double) -> Int? { evaluations.first { $0.meanReturn >= score }?.step }

    /// Reads config.json, evaluations.csv, summary.json and (for inference FLOPs) checkpoint.sparrow.
    public init(directory: String) throws {
        let file = { (name: String) in (directory as NSString).appendingPathComponent(name) }
        func object(_ name: String) -> [String: Any]? {
            FileManager.default.contents(atPath: file(name)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
        guard let config = object("config.json") else { throw SweepError("\(directory): no readable config.json") }
        func number(_ o: [String: Any]?, _ key: String) -> Double? { (o?[key] as? NSNumber)?.doubleValue }
        name = (directory as NSString).lastPathComponent
        self.directory = directory
        env = config["env"] as? String ?? "?"
        preset = config["preset"] as? String ?? "?"
        algorithm = config["algorithm"] as? String ?? "?"
        method = config["method"] as? String ?? "?"
        sparsity = number(config, "sparsity") ?? 0
        seed = Int(number(config, "seed") ?? 0)
        steps = Int(number(config, "steps") ?? 0)
        (evaluations, skippedEvaluationRows) = try Self.readEvaluations(file("evaluations.csv"))
        let summary = object("summary.json")
        finished = summary != nil
        // A final score that is not a finite number is recomputed from the rows that could be read.
        let stored = number(summary, "final_score").flatMap { $0.isFinite ? $0 : nil }
        finalScore = stored ?? (finished ? EvaluationPoint.finalScore(evaluations) : nil)
        liveParameters = number(summary, "live_params")
        liveWeights = number(summary, "live_weights")
        trainingFLOPs = number(summary, "training_flops")
        // metrics.csv is read once: its last row, and the columns the report draws.
        let metrics = (try? String(contentsOfFile: file("metrics.csv"), encoding: .utf8)).map(CSVLog.wholeLines)
        let logged = metrics.flatMap(Self.lastMetrics)
        if let run = object("run.json"), let v = run["sparrow_version"] as? String {
            sparrowBuild = v + " " + String((run["git_commit"] as? String ?? "unknown").prefix(8))
        }
        cpu = (config["machine"] as? [String: Any])?["cpu"] as? String
        paramsLike = number(config, "params-like")
        actorCriticRatio = number(config, "actor-critic-ratio")
        redoEvery = number(config, "redo-every").map { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        initialization = Self.initOverride(config["init"] as? String, of: try? Presets.config(named: preset, env: env))
        noiseFeatures = number(config, "noise-features") ?? 0
        noiseRobustness = NoiseRobustness.read(RunDirectory(directory).noiseRobustness)
        if noiseFeatures > 0, let metrics { inputConnections = Self.inputConnections(metrics) }
        if let metrics { trainingReturns = Self.trainingReturns(metrics) }
        evalEvery = number(config, "eval-every").map { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        analyses = AnalysisRow.read(RunDirectory(directory).analysis).filter { $0.measurement.layer == nil }
        stepsReached = finished ? Int(number(summary, "steps") ?? Double(steps))
            : max(logged?.step ?? 0, evaluations.last?.step ?? 0)
        wallTime = logged?.wallTime
        inferenceFLOPs = number(summary, "inference_flops")
        // Runs finished before summary.json held inference_flops: from the final checkpoint, where it is kept.
        if finished, inferenceFLOPs == nil || liveWeights == nil, FileManager.default.fileExists(atPath: file("checkpoint.sparrow")),
           let (_, agent) = try? TrainingCheckpoint.loadAgent(checkpoint: file("checkpoint.sparrow")) {
            if inferenceFLOPs == nil { inferenceFLOPs = agent.inferenceFLOPs }
            if liveWeights == nil { liveWeights = Double(agent.liveWeights) }
        }
        if liveWeights == nil, let config = Self.weightsKeptFromStart(directory) { liveWeights = config }
    }

    /// `used` (an `init` spelling) when it differs from the initialisation of `preset` (an init ablation), else nil:
    /// nil also when the run does not say or its preset is unknown.
    static func initOverride(_ used: String?, of preset: TrainConfig?) -> String? {
        guard let used, let preset, preset.agent.initialization.spelling != used else { return nil }
        return used
    }

    /// Live weights of a run made before summary.json had `live_weights` and kept without its checkpoint, from its
    /// config alone: the agent it describes, built again, has the count the run kept throughout — for every method
    /// whose topology updates keep the count (not pruning, not a final drop without regrowth); nil otherwise.
    static func weightsKeptFromStart(_ directory: String) -> Double? {
        let path = (directory as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: path),
              let config = try? JSONDecoder().decode(TrainConfig.self, from: data),
              config.agent.method.declaration.keepsLiveCount, !config.agent.finalDrop,
              let env = try? config.makeEnvironment(),
              let agent = try? AgentFactory.makeAgent(config: config, env: env) else { return nil }
        return Double(agent.liveWeights)
    }

    /// Step and wall_time_s of metrics.csv's last row (its first two columns), from its whole lines (a row being
    /// written may be cut short: `CSVLog.wholeLines` leaves it out).
    static func lastMetrics(_ complete: Substring) -> (step: Int, wallTime: Double?)? {
        guard let line = complete.split(separator: "\n").last else { return nil }
        let f = line.split(separator: ",", omittingEmptySubsequences: false)
        guard let step = Int(f[0]) else { return nil }
        return (step, f.count > 1 ? Double(f[1]) : nil)
    }

    /// metrics.csv's rows (its whole lines) by column name: each row's step and the values of `columns` (nil where a
    /// column is missing or a cell is empty or not a number); rows of the wrong width or without a step are left out.
    static func metricsColumns(_ complete: Substring, _ columns: [String]) -> [(step: Int, values: [Double?])] {
        let lines = complete.split(separator: "\n")
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init),
              let stepColumn = header.firstIndex(of: "step") else { return [] }
        let index = columns.map { header.firstIndex(of: $0) }
        return lines.dropFirst().compactMap { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == header.count, let step = Int(f[stepColumn]) else { return nil }
            return (step, index.map { $0.flatMap { Double(f[$0]) } })
        }
    }

    /// metrics.csv's actor_input_real, actor_input_noise, critic_input_real, critic_input_noise columns by name.
    static func inputConnections(_ complete: Substring) -> [InputConnectionsPoint] {
        metricsColumns(complete, ["actor_input_real", "actor_input_noise", "critic_input_real", "critic_input_noise"]).map { row in
            InputConnectionsPoint(step: row.step, actorReal: row.values[0], actorNoise: row.values[1], criticReal: row.values[2],
                                  criticNoise: row.values[3])
        }
    }

    /// metrics.csv's `episode_return` column, for the rows that have a finite training return (none before the
    /// first episode ends).
    static func trainingReturns(_ complete: Substring) -> [EvaluationPoint] {
        metricsColumns(complete, ["episode_return"]).compactMap { row in
            row.values[0].flatMap { $0.isFinite ? EvaluationPoint(step: row.step, meanReturn: $0) : nil }
        }
    }

    /// Training returns averaged over windows of `window` steps, (0, w], (w, 2w], …, as Dopamine reports an
    /// iteration's training episodes: one point per window the run has completed (its end ≤ the last logged step)
    /// that holds a row, at the window's middle step (0.5·w, 1.5·w, …). Each row counts once.
    public func trainingCurve(window: Int) -> [EvaluationPoint] {
        precondition(window > 0)
        guard let last = trainingReturns.map(\.step).max() else { return [] }
        let reached = max(last, stepsReached)
        var sums: [Int: (Double, Int)] = [:]
        for p in trainingReturns where p.step > 0 {
            let k = (p.step - 1) / window
            guard (k + 1) * window <= reached else { continue }
            let (s, n) = sums[k] ?? (0, 0)
            sums[k] = (s + p.meanReturn, n + 1)
        }
        return sums.keys.sorted().map { k in EvaluationPoint(step: k * window + window / 2, meanReturn: sums[k]!.0 / Double(sums[k]!.1)) }
    }

    /// The readable rows of evaluations.csv (by its header's `step` and `mean_return` columns) and how many were
    /// not; a file without those columns is not this run's evaluations (thrown, so the run is skipped by name).
    static func readEvaluations(_ path: String) throws -> (rows: [EvaluationPoint], skipped: Int) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return ([], 0) }
        let lines = text.split(separator: "\n")
        guard let header = lines.first else { return ([], 0) }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let stepColumn = columns.firstIndex(of: "step"), let meanColumn = columns.firstIndex(of: "mean_return") else {
            throw SweepError("\(path): no step and mean_return columns (header '\(NearMiss.shown(String(header)))')")
        }
        var rows: [EvaluationPoint] = [], skipped = 0
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == columns.count, let step = Int(f[stepColumn]), let mean = Double(f[meanColumn]), mean.isFinite else {
                skipped += 1
                continue
            }
            rows.append(EvaluationPoint(step: step, meanReturn: mean))
        }
        return (rows, skipped)
    }
}

/// Live input-layer connections per real and per noise feature at one metrics row (Grooten et al.'s ANF picture).
public struct InputConnectionsPoint: Equatable, Sendable {
    public var step: Int
    public var actorReal: Double?, actorNoise: Double?, criticReal: Double?, criticNoise: Double?

    public init(step: Int, actorReal: Double?, actorNoise: Double?, criticReal: Double?, criticNoise: Double?) {
        self.step = step; self.actorReal = actorReal; self.actorNoise = actorNoise
        self.criticReal = criticReal; self.criticNoise = criticNoise
    }
}

public enum RunResults {
    /// Directories under `root` (up to three levels down) that hold a run's config.json, sorted by path.
    public static func runDirectories(root: String) -> [String] {
        var found: [String] = []
        func visit(_ dir: String, depth: Int) {
            if FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("config.json")) {
                found.append(dir); return
            }
            guard depth < 3, let items = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
            for item in items.sorted() {
                var isDir: ObjCBool = false
                let path = (dir as NSString).appendingPathComponent(item)
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { visit(path, depth: depth + 1) }
            }
        }
        visit(root, depth: 0)
        return found
    }

    public static func load(root: String) throws -> [RunResult] {
        try runDirectories(root: root).map { try RunResult(directory: $0) }
    }

    /// What `load(roots:skipped:)` left out: a run directory it could not read, and why.
    public struct Skipped: Equatable, Sendable {
        public var directory: String
        public var reason: String
    }

    /// The runs under several roots, leaving out (and listing) those that cannot be read instead of failing.
    public static func load(roots: [String], skipped: inout [Skipped]) -> [RunResult] {
        var runs: [RunResult] = []
        for root in roots {
            for directory in runDirectories(root: root) {
                do { runs.append(try RunResult(directory: directory)) } catch {
                    skipped.append(Skipped(directory: directory, reason: "\(error)"))
                }
            }
        }
        return runs
    }

    /// The warning lines a report prints for what it left out; empty when it read everything.
    public static func warnings(runs: [RunResult], skipped: [Skipped]) -> [String] {
        var lines = skipped.map { "warning: skipped run \($0.directory): \($0.reason)" }
        let partial = runs.filter { $0.skippedEvaluationRows > 0 }
        if !partial.isEmpty {
            let rows = partial.reduce(0) { $0 + $1.skippedEvaluationRows }
            lines.append("warning: skipped \(rows) unreadable evaluations.csv row\(rows == 1 ? "" : "s") (cut, not numbers, NaN or infinite) in "
                         + "\(partial.count) run\(partial.count == 1 ? "" : "s"): " + partial.map(\.name).joined(separator: ", "))
        }
        return lines
    }

    /// The runs the sweep at `root` planned (its sweep.json) that have not started: no config.json in their
    /// directory yet. Their settings are their preset's with the sweep's flags for env, seed, steps, sparsity and init.
    public static func planned(root: String) -> [RunResult] {
        guard let manifest = SweepManifest.load(root: root) else { return [] }
        return manifest.runs.compactMap { run -> RunResult? in
            let directory = (root as NSString).appendingPathComponent(run.name)
            let exists = { (dir: String) in FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("config.json")) }
            guard !exists(directory), !exists(run.directory) else { return nil }
            func flag(_ name: String) -> String? {
                run.arguments.firstIndex(of: "--" + name).flatMap { $0 + 1 < run.arguments.count ? run.arguments[$0 + 1] : nil }
            }
            guard let env = flag("env"), let preset = flag("preset"),
                  let config = try? Presets.config(named: preset, env: env) else { return nil }
            var r = RunResult(name: run.name, directory: directory, env: env, preset: preset,
                              algorithm: config.agent.algorithm.rawValue, method: config.agent.method.rawValue,
                              sparsity: flag("sparsity").flatMap(Double.init) ?? config.agent.sparsity,
                              seed: flag("seed").flatMap(Int.init) ?? Int(config.seed),
                              steps: flag("steps").flatMap(Int.init) ?? config.steps, finished: false, finalScore: nil)
            r.started = false
            r.initialization = RunResult.initOverride(flag("init"), of: config)
            return r
        }
    }

    /// One run per run-directory name (the same run copied under two roots, e.g. docs/results and runs/; a sweep's
    /// names spell every setting it varies; an `init` ablation's do not, so a run that overrides its preset's init
    /// is never a copy of one that does not): the finished copy, else the one further along, else the first. Returns
    /// the runs kept, in their first order, and the directories of the copies left out.
    public static func deduplicated(_ runs: [RunResult]) -> (runs: [RunResult], duplicates: [String]) {
        var kept: [String: RunResult] = [:], order: [String] = [], dropped: [String] = []
        for r in runs {
            let key = "\(r.name)|\(r.env)|\(r.seed)|\(r.preset)|\(r.sparsity)|\(r.steps)|\(r.initialization ?? "")"
            guard let old = kept[key] else { kept[key] = r; order.append(key); continue }
            let better = (r.finished && !old.finished) || (r.finished == old.finished && r.stepsReached > old.stepsReached)
            dropped.append(better ? old.directory : r.directory)
            if better { kept[key] = r }
        }
        return (order.map { kept[$0]! }, dropped)
    }

    /// The runs under several roots, in the order given (each root sorted by path).
    public static func load(roots: [String]) throws -> [RunResult] {
        try roots.flatMap { try load(root: $0) }
    }
}

/// One row of evaluations.csv: the step and the mean return of its evaluation episodes.
public struct EvaluationPoint: Equatable, Sendable {
    public var step: Int
    public var meanReturn: Double
    public init(step: Int, meanReturn: Double) { self.step = step; self.meanReturn = meanReturn }

    /// The papers' final score, as `Training.Evaluation.finalScore`: the mean of the last 10% of evaluations
    /// (at least one).
    public static func finalScore(_ evaluations: [EvaluationPoint]) -> Double? {
        guard !evaluations.isEmpty else { return nil }
        let n = max(1, Int((Double(evaluations.count) * 0.1).rounded(.up)))
        let tail = evaluations.suffix(n)
        return tail.reduce(0) { $0 + $1.meanReturn } / Double(tail.count)
    }
}
