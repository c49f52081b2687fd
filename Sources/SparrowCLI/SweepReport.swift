import ArgumentParser
import Experiments
import Foundation
import Training
import Yams

/// `sparrow sweep`: a grid of training runs, locally or as a SLURM job array; `sparrow sweep status ROOT`.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a grid of training runs locally or on SLURM; `sparrow sweep status ROOT` shows where they stand.",
        subcommands: [SweepRun.self, SweepStatusCommand.self],
        defaultSubcommand: SweepRun.self)
}

struct SweepRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the grid of a sweep spec (`sparrow sweep SPEC.yaml …` is short for `sparrow sweep run SPEC.yaml …`).",
        discussion: """
            SPEC.yaml: `root:` (output folder), `grid:` (every `sparrow train` flag by name; a list sweeps, a scalar is \
            fixed), optional `set:` (fixed flags), `name:` and `resources:` (time, cpus-per-task, mem, partition, \
            account, signal-before, max-parallel). Example:
              root: runs/hopper
              grid: {env: [Hopper-v5], preset: [dense-sac, tows-sac], sparsity: [0.8, 0.9], seed: [0, 1, 2, 3, 4]}
              resources: {time: "24:00:00", mem: 4G, partition: cpu}
            Each run goes to ROOT/ENV_PRESET_sSPARSITY[_KEYVALUE…]_seedN; finished runs (summary.json) are skipped and \
            interrupted ones resume from their checkpoint. local: at most --jobs runs at a time with a compact progress \
            view. slurm: writes ROOT/sweep.sbatch (one array task per unfinished run, --requeue, USR1 before the time \
            limit so runs checkpoint and their tasks requeue and resume) and submits it with sbatch.
            """)

    @Argument(help: "Sweep spec (YAML or JSON).") var spec: String
    @Option(help: "local or slurm.") var backend: String = "local"
    @Flag(name: .customLong("dry-run"), help: "Print the plan (local) or the sbatch script (slurm) and start nothing.")
    var dryRun = false
    @Option(name: [.customShort("j"), .long], help: "Local backend: runs at a time (default: number of cores).")
    var jobs: Int?
    @Option(name: .customLong("max-runs"), help: "Refuse a grid of more runs than this (a typo in a grid can multiply it).")
    var maxRuns: Int = SweepSpec.defaultMaximumRuns

    func validate() throws {
        guard ["local", "slurm"].contains(backend) else { throw ValidationError("--backend must be local or slurm, got '\(backend)'") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be positive, got \(jobs)") }
        guard maxRuns >= 1 else { throw ValidationError("--max-runs must be positive, got \(maxRuns)") }
    }

    func run() throws {
        let sweep: SweepSpec
        let plans: [RunPlan]
        do {
            sweep = try SweepSpec(object: try Self.readSpec(spec), baseDirectory: FileManager.default.currentDirectoryPath)
            plans = try sweep.runs(maximum: maxRuns)
        } catch let e as CLIError { throw e } catch { throw CLIError(error) }
        let todo = plans.filter { !$0.isFinished }
        let executable = Self.executable()

        if backend == "local" {
            if dryRun {
                print("sweep \(sweep.name): \(plans.count) runs in \(sweep.root), \(plans.count - todo.count) finished")
                for p in plans {
                    let state = p.isFinished ? "skip (finished)" : p.hasCheckpoint ? "resume" : "start"
                    print("\(state.padding(toLength: 15, withPad: " ", startingAt: 0)) \(p.name)")
                    print("  sparrow " + p.trainArguments.joined(separator: " "))
                }
                return
            }
            do {
                try SweepManifest(name: sweep.name, backend: "local", plans: plans,
                                  slurmJobs: SweepManifest.load(root: sweep.root)?.slurmJobs ?? []).write(root: sweep.root)
            } catch { throw CLIError("cannot write \(SweepManifest.path(root: sweep.root)): \(error)") }
            let local = LocalSweep(plans: plans, executable: executable,
                                   maxParallel: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                                   interactive: isatty(STDOUT_FILENO) != 0)
            let outcome: LocalSweep.Outcome
            do { outcome = try local.run() } catch { throw CLIError(error) }
            if !outcome.failed.isEmpty {
                throw CLIError("\(outcome.failed.count) of \(plans.count) runs failed (\(outcome.failed.prefix(3).joined(separator: ", "))); see: sparrow sweep status \(sweep.root)")
            }
            if outcome.interrupted > 0 { print("re-run the same command to resume the \(outcome.interrupted) stopped runs") }
            return
        }

        // SLURM.
        guard !todo.isEmpty else {
            print("sweep \(sweep.name): all \(plans.count) runs have finished; nothing to submit")
            return
        }
        let script = SlurmSweep.script(name: sweep.name, root: sweep.root, plans: todo, executable: executable,
                                       resources: sweep.resources)
        if dryRun { print(script, terminator: ""); return }
        do {
            var manifest = SweepManifest(name: sweep.name, backend: "slurm", plans: plans,
                                         slurmJobs: SweepManifest.load(root: sweep.root)?.slurmJobs ?? [])
            try manifest.write(root: sweep.root)
            let id = try SlurmSweep.submit(scriptText: script, root: sweep.root)
            manifest.slurmJobs.append(id)
            try manifest.write(root: sweep.root)
            print("submitted job array \(id): \(todo.count) runs (\(plans.count - todo.count) already finished); "
                  + "script \(SlurmSweep.scriptPath(root: sweep.root)); follow with: sparrow sweep status \(sweep.root)")
        } catch let e as CLIError { throw e } catch { throw CLIError(error) }
    }

    static func readSpec(_ path: String) throws -> Any {
        guard let object = try SettingsFile.load(path, what: "sweep spec") else { throw CLIError("sweep spec \(path) is empty") }
        return object
    }

    /// This very binary (the runs are `sparrow train` processes of the same build).
    static func executable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        let arg0 = CommandLine.arguments[0]
        return arg0.hasPrefix("/") ? arg0 : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(arg0)
    }
}

struct SweepStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per run: pending, running, done or failed (with the failing line).",
        discussion: "Reads ROOT/sweep.json and the run directories, and asks squeue/sacct about SLURM sweeps where they answer. "
            + "The last line is a count per state, the line before it the run time still needed while runs are left (running "
            + "runs at their speed, pending ones at the median training time of finished runs that differ only in seed); "
            + "with --json, one JSON object instead.")

    @Argument(help: "The sweep's root folder.") var root: String
    @Flag(help: "Print JSON: {\"runs\": [{name, directory, state, detail, step, slurm_state, steps_per_second, seconds_left}], \"counts\": {…}, \"time_left\": {seconds, running, priced_pending, unpriced}}; steps_per_second and seconds_left for running runs (median speed of the last 5 metrics rows); time_left sums the running runs' and each pending run's expected time (the median training time of finished runs that differ from it only in seed).")
    var json = false

    func run() throws {
        let statuses: [RunStatus]
        do { statuses = try RunStatus.survey(root: Self.absolute(root)) } catch { throw CLIError(error) }
        var counts: [String: Int] = [:]
        for s in statuses { counts[s.state.rawValue, default: 0] += 1 }
        if json {
            var runs: [[String: Any]] = []
            for s in statuses {
                var o: [String: Any] = ["name": s.name, "directory": s.directory, "state": s.state.rawValue, "detail": s.detail]
                if let step = s.step { o["step"] = step }
                if let st = s.slurmState { o["slurm_state"] = st }
                if let v = s.stepsPerSecond { o["steps_per_second"] = v }
                if let v = s.secondsLeft { o["seconds_left"] = v }
                runs.append(o)
            }
            let all = RunStatus.State.allCases.reduce(into: [String: Int]()) { $0[$1.rawValue] = counts[$1.rawValue] ?? 0 }
            let e = RunStatus.estimate(statuses)
            let left: [String: Any] = ["seconds": e.seconds, "running": e.running, "priced_pending": e.pricedPending,
                                       "unpriced": e.unpriced]
            let data = try JSONSerialization.data(withJSONObject: ["runs": runs, "counts": all, "time_left": left],
                                                  options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let width = statuses.map(\.name.count).max() ?? 0
        for s in statuses {
            print(s.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) + s.name.padding(toLength: width, withPad: " ", startingAt: 0)
                  + "  " + s.detail)
        }
        if let line = Self.timeLeftLine(RunStatus.estimate(statuses)) { print(line) }
        print(RunStatus.State.allCases.map { "\(counts[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", "))
    }

    /// "time left: about 4.7 h of run time, one run after another: 1 running at the current speed, 4 pending at the
    /// median time of their finished seeds; 3 not priced (no speed yet, or no finished seed)"; nil when nothing is left.
    static func timeLeftLine(_ e: RunStatus.Estimate) -> String? {
        guard e.running + e.pricedPending + e.unpriced > 0 else { return nil }
        var priced: [String] = []
        if e.running > 0 { priced.append("\(e.running) running at the current speed") }
        if e.pricedPending > 0 { priced.append("\(e.pricedPending) pending at the median time of their finished seeds") }
        var line = "time left: " + (priced.isEmpty ? "unknown" : "about \(RunLog.duration(e.seconds)) of run time, one run after another: "
                                    + priced.joined(separator: ", "))
        if e.unpriced > 0 { line += (priced.isEmpty ? ", " : "; ") + "\(e.unpriced) not priced (no speed yet, or no finished seed)" }
        return line
    }

    static func absolute(_ path: String) -> String {
        let p = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (p as NSString).standardizingPath
    }
}

/// `sparrow report`: the papers' tables and plots from folders of runs.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tables and plots from folders of runs: final return, IQM with bootstrap intervals, cost vs dense.",
        discussion: """
            Per env × method × sparsity: the final return (mean of the last 10% of evaluations) as mean ± std over runs \
            and IQM with a 95% stratified-bootstrap percentile interval (rliable's method), scores normalised by the \
            dense runs of the same env and algorithm, live parameters and training/inference FLOPs relative to dense. \
            Writes report.md, results.csv, learning_curves.svg, iqm.svg, return_vs_sparsity.svg, and where the runs \
            support them iqm_vs_sparsity.svg (normalised IQM per method), return_vs_parameters.svg (with \
            parameter-matched dense runs, --params-like), return_vs_actor_critic_ratio.svg (runs differing in \
            --actor-critic-ratio), noise_feature_connections.svg (runs with --noise-features) and, with --noise, \
            return_vs_observation_noise.svg (and PNGs where rsvg-convert or ImageMagick is installed). Only finished \
            runs (summary.json) enter the numbers; learning_curves.svg also draws each unfinished run alone, dashed, \
            with the steps it has reached (with no run finished yet, report.md and that figure are all it writes); \
            --reference FILE.csv draws published curves beside them (e.g. Dopamine's dense DQN per Atari game), and \
            --curves training draws training returns averaged per window (as Dopamine reports its iterations) instead \
            of evaluations. Several ROOTs are read as one set of runs. Runs on Atari games (ALE/<Game>-v5) also get \
            the human-normalised score (score − random) / (human − random), with DQN Zoo's Atari-57 random \
            and human scores: per cell beside the raw return and as the IQM over runs × games with a \
            stratified-bootstrap interval (report.md's Atari section, results.csv's last four columns, \
            hns_iqm_vs_sparsity.svg).
            --paper tows instead prints our TowS-SAC 90% runs beside the paper's table (Grooten et al.: TowS-SAC 90% \
            and Dense-SAC on Hopper, HalfCheetah, Walker2d, Ant, Humanoid; gym v3): per robot the final score (mean \
            ± std over seeds), best evaluation, steps reached, the paper's two numbers and ours as a percentage of \
            them, a note on gym v3 against Gymnasium v5, and every run read (unfinished ones, and runs a ROOT/sweep.json \
            planned that have not started, marked, never dropped). \
            With --out FILE.md it writes FILE.md and the learning curves beside it (FILE-curves.svg and .png); with \
            --out FOLDER (default ROOT/report), FOLDER/paper-tows.md and FOLDER/paper-tows-curves.svg/.png. Run \
            directories need only config.json, evaluations.csv and (once finished) summary.json; e.g. `sparrow report \
            docs/results/tows-sac-v5 runs/tows-sac-v5-rest runs/tows-sac-v5-seed1 --paper tows --out \
            docs/results/tows-sac-v5.md`.
            """)

    /// The published tables `--paper` knows (parsed in `validate()`, so a bad name is a one-line error).
    enum Paper: String, CaseIterable {
        case tows
        var reference: PaperReference {
            switch self { case .tows: return .tows }
        }
    }

    @Argument(help: "Folders holding run directories (each searched three levels deep).") var roots: [String]
    @Option(help: "Output folder (default FIRST-ROOT/report); with --paper also FILE.md.") var out: String?
    @Option(help: "Bootstrap replicates.") var reps: Int = 50_000
    @Option(help: "Seed of the bootstrap.") var seed: UInt64 = 0
    @Option(name: .customLong("paper"), help: ArgumentHelp("Print our runs beside a paper's table instead.",
                                                          valueName: Paper.allCases.map(\.rawValue).joined(separator: "|")))
    var paperName: String?
    @Flag(help: "Also the return under observation noise per method, from the runs' noise_robustness.json (sparrow eval RUN --obs-noise …).")
    var noise = false
    @Option(name: .customLong("reference"), help: ArgumentHelp(
        "Published learning curves to draw beside the runs' (repeatable): CSV with header env,label,step,value,low,high, e.g. docs/results/atari-dqn-evidence/dopamine-dqn-nature-cnn.csv.",
        valueName: "file.csv"))
    var references: [String] = []
    @Option(name: .customLong("curves"), help: ArgumentHelp(
        "What the learning curves draw: evaluation returns (default), or training returns averaged per window, as Dopamine reports its iterations (the numbers always come from evaluations).",
        valueName: Experiments.Report.CurveSource.allCases.map(\.rawValue).joined(separator: "|")))
    var curvesName = Experiments.Report.CurveSource.evaluation.rawValue
    @Option(name: .customLong("train-window"), help: "With --curves training: the window in environment steps (default: each run's --eval-every).")
    var trainWindow: Int?

    var paper: Paper? { paperName.flatMap(Paper.init(rawValue:)) }

    func validate() throws {
        guard !roots.isEmpty else { throw ValidationError("give at least one folder of runs") }
        if let paperName, Paper(rawValue: paperName) == nil {
            throw ValidationError("--paper takes one of \(Paper.allCases.map(\.rawValue).joined(separator: ", ")), got '\(paperName)'")
        }
        guard reps >= 100 else { throw ValidationError("--reps must be at least 100, got \(reps)") }
        guard Experiments.Report.CurveSource(rawValue: curvesName) != nil else {
            throw ValidationError("--curves takes one of \(Experiments.Report.CurveSource.allCases.map(\.rawValue).joined(separator: ", ")), got '\(curvesName)'")
        }
        if let trainWindow {
            guard trainWindow > 0 else { throw ValidationError("--train-window must be a positive number of steps, got \(trainWindow)") }
            guard curvesName == Experiments.Report.CurveSource.training.rawValue else {
                throw ValidationError("--train-window sets the window of --curves training; add --curves training")
            }
        }
        if paperName != nil && curvesName != Experiments.Report.CurveSource.evaluation.rawValue {
            throw ValidationError("--curves chooses the learning curves of a report; --paper draws its own")
        }
        if paperName != nil && !references.isEmpty {
            throw ValidationError("--reference draws beside a report's own learning curves; --paper has its reference built in")
        }
    }

    func run() throws {
        let roots = self.roots.map { ($0 as NSString).standardizingPath }
        for root in roots {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
                throw CLIError("no folder at \(root)")
            }
        }
        let folder = out ?? (roots[0] as NSString).appendingPathComponent("report")
        var isFolder: ObjCBool = false
        if paper == nil || !folder.lowercased().hasSuffix(".md") {
            if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), !isFolder.boolValue {
                throw CLIError("--out \(folder) is a file; the report needs a folder (with --paper, a FILE.md)")
            }
        } else {
            do { try RunDirectory.checkOutput(folder, flag: "--out") } catch { throw CLIError(error) }
        }
        do {
            var skipped: [RunResults.Skipped] = []
            let runs = RunResults.load(roots: roots, skipped: &skipped)
            // Said first and on stderr, so a reader of the tables knows what they leave out.
            for line in RunResults.warnings(runs: runs, skipped: skipped) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            if let paper {
                // Runs a sweep planned but has not started count as unfinished: listed, never dropped.
                let all = runs + roots.flatMap(RunResults.planned(root:))
                guard !all.isEmpty else { throw CLIError("no runs (run directories or sweep.json) under \(roots.joined(separator: ", "))") }
                let comparison = PaperComparison(runs: all, paper: paper.reference)
                let file = folder.lowercased().hasSuffix(".md") ? folder
                    : (folder as NSString).appendingPathComponent("paper-\(paper.rawValue).md")
                let command = (["sparrow", "report"] + self.roots + ["--paper", paper.rawValue, "--out", file]).joined(separator: " ")
                let files = try comparison.write(markdownTo: file, command: command)
                print(try String(contentsOfFile: file, encoding: .utf8))
                print("wrote " + files.joined(separator: ", "))
                return
            }
            // The same run under two roots counts once.
            let (unique, duplicates) = RunResults.deduplicated(runs)
            var report = try Experiments.Report(runs: unique, reps: reps, seed: seed)
            if noise {
                guard unique.contains(where: { $0.noiseRobustness != nil }) else {
                    throw CLIError("--noise: no run under \(roots.joined(separator: ", ")) has noise_robustness.json; make them with sparrow eval RUN --obs-noise 0,0.1,0.2,0.5,1")
                }
                report.includeNoise = true
            }
            report.references = try references.flatMap(ReferenceCurve.load)
            report.curves = Experiments.Report.CurveSource(rawValue: curvesName)!
            report.trainingWindow = trainWindow
            let files = try report.write(to: folder)
            print(report.markdown())
            if !duplicates.isEmpty { print("found twice, counted once: " + duplicates.joined(separator: ", ")) }
            print("wrote " + files.joined(separator: ", "))
        } catch let e as CLIError { throw e } catch { throw CLIError(error) }
    }
}
