import Experiments
import Training
import Foundation
import XCTest

final class ReportTests: XCTestCase {
    /// Two envs × (dense, TowS 80%, TowS 90%) × 5 seeds with known final scores and costs.
    func synthetic() -> [RunResult] {
        var runs: [RunResult] = []
        for (e, env) in ["Hopper-v5", "Walker2d-v5"].enumerated() {
            for (method, sparsity, level) in [("dense", 0.0, 1000.0), ("tows", 0.8, 900.0), ("tows", 0.9, 700.0)] {
                for seed in 0..<5 {
                    let score = level * Double(e + 1) + Double(seed * 10)
                    let evals = (1...10).map { EvaluationPoint(step: $0 * 1000, meanReturn: score * Double($0) / 10) }
                    runs.append(RunResult(name: "\(env)_\(method)\(sparsity)_\(seed)", env: env, algorithm: "sac", method: method,
                                          sparsity: sparsity, seed: seed, evaluations: evals, finalScore: score,
                                          liveParameters: 1000 * (1 - sparsity), trainingFLOPs: 1e9 * (1 - sparsity),
                                          inferenceFLOPs: 100 * (1 - sparsity)))
                }
            }
        }
        return runs
    }

    func testCellsAggregatesAndTables() throws {
        let report = try Report(runs: synthetic(), reps: 2000)
        XCTAssertEqual(report.envs, ["Hopper-v5", "Walker2d-v5"])
        XCTAssertEqual(report.keys.map(\.label), ["Dense-SAC", "TowS-SAC 80%", "TowS-SAC 90%"])
        let key = report.keys[2]
        let c = try XCTUnwrap(report.cell("Walker2d-v5", key))
        XCTAssertEqual(c.scores, [1400, 1410, 1420, 1430, 1440])
        XCTAssertEqual(c.mean, 1420)
        XCTAssertEqual(c.std, (200.0).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(c.iqm.estimate, 1420)
        let denseMean = 2020.0
        XCTAssertEqual(c.normalized!, c.scores.map { $0 / denseMean })
        XCTAssertEqual(c.parametersVsDense!, 0.1, accuracy: 1e-12)
        XCTAssertEqual(c.trainingFLOPsVsDense!, 0.1, accuracy: 1e-12)
        XCTAssertEqual(c.inferenceFLOPsVsDense!, 0.1, accuracy: 1e-12)
        // Across envs: IQM of the 10 normalised scores, stratified over the two envs.
        let agg = report.aggregates[2]
        let h = report.cell("Hopper-v5", key)!.normalized!, w = c.normalized!
        XCTAssertEqual(agg.normalizedIQM!.estimate, Statistics.iqm(h + w), accuracy: 1e-12)
        XCTAssertEqual(agg.normalizedIQM!, Statistics.stratifiedBootstrap([h, w], reps: 2000, seed: 0))

        let md = report.markdown()
        XCTAssertTrue(md.contains("| TowS-SAC | 90% | 720.0 ± 14.14 | 1420 ± 14.14 |"), md)
        let csv = report.csv().split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 6)
        XCTAssertTrue(csv.contains { $0.hasPrefix("Walker2d-v5,sac,tows,0.9,5,1420,14.1421,1420,") }, csv.joined(separator: "\n"))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-report-\(getpid())").path
        let files = try report.write(to: dir)
        for name in ["report.md", "results.csv", "learning_curves.svg", "iqm.svg", "return_vs_sparsity.svg"] {
            XCTAssertTrue(files.contains(dir + "/" + name), name)
        }
        let svg = try String(contentsOfFile: dir + "/learning_curves.svg", encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<polygon").count - 1, 6, "one band per env × group")
    }

    /// A sweep under way: its unfinished runs enter no number, but the learning curves draw each one that has
    /// evaluated, dashed and alone, in its env's panel (a panel of its own when no run of that env has finished),
    /// while a run without an evaluation draws nothing.
    func testLearningCurvesDrawUnfinishedRunsDashed() throws {
        var runs = synthetic()
        let evals = (1...4).map { EvaluationPoint(step: $0 * 1000, meanReturn: Double($0) * 7) }
        runs.append(RunResult(name: "hopper-rigl", env: "Hopper-v5", algorithm: "sac", method: "rigl", sparsity: 0.9, seed: 3,
                              finished: false, evaluations: evals, finalScore: nil, stepsReached: 4500))
        runs.append(RunResult(name: "ant-dense", env: "Ant-v5", algorithm: "sac", method: "dense", sparsity: 0, seed: 0,
                              finished: false, evaluations: Array(evals.prefix(2)), finalScore: nil))
        runs.append(RunResult(name: "ant-tows", env: "Ant-v5", algorithm: "sac", method: "tows", sparsity: 0.9, seed: 1,
                              finished: false, evaluations: [], finalScore: nil))
        let report = try Report(runs: runs, reps: 200)
        XCTAssertEqual(report.envs, ["Hopper-v5", "Walker2d-v5"], "unfinished runs make no cell")
        XCTAssertEqual(report.unfinished.count, 3)
        let figure = report.learningCurves(reps: 200)
        XCTAssertEqual(figure.panels.map(\.title), ["Ant-v5", "Hopper-v5", "Walker2d-v5"])
        let ant = figure.panels[0].series, hopper = figure.panels[1].series
        XCTAssertEqual(ant.map(\.label), ["Dense-SAC seed 0 (running, 2000 steps)"])
        XCTAssertEqual(hopper.map(\.label), ["Dense-SAC", "TowS-SAC 80%", "TowS-SAC 90%", "RigL-SAC 90% seed 3 (running, 4500 steps)"])
        XCTAssertEqual(hopper.map(\.dashed), [false, false, false, true])
        XCTAssertEqual(hopper[3].y, [7, 14, 21, 28])
        XCTAssertNil(hopper[3].low)
        XCTAssertEqual(ant[0].color, Figure.palette[0], "dense is black, finished or not")
        XCTAssertFalse(Set(hopper.prefix(3).map(\.color)).contains(hopper[3].color), "a running group gets a colour of its own")
        XCTAssertEqual(figure.panels[2].series.filter(\.dashed).count, 0)
        XCTAssertTrue(report.markdown().contains("(the learning curves draw each one evaluated so far alone, dashed)"))
    }

    /// A sweep just started: no run has finished, so there are no numbers and no tables, but the report still
    /// draws the runs evaluated so far (and only the learning curves); runs that have not evaluated are no report.
    func testASweepWithNoFinishedRunStillDrawsItsCurves() throws {
        let evals = (1...3).map { EvaluationPoint(step: $0 * 1000, meanReturn: Double($0)) }
        let running = [RunResult(name: "a", env: "Hopper-v5", algorithm: "sac", method: "tows", sparsity: 0.9, seed: 0,
                                 finished: false, evaluations: evals, finalScore: nil),
                       RunResult(name: "b", env: "Hopper-v5", algorithm: "sac", method: "dense", sparsity: 0, seed: 0,
                                 finished: false, evaluations: [], finalScore: nil)]
        let report = try Report(runs: running, reps: 200)
        XCTAssertTrue(report.cells.isEmpty && report.envs.isEmpty)
        XCTAssertEqual(report.learningCurves(reps: 200).panels.map { $0.series.map(\.label) }, [["TowS-SAC 90% seed 0 (running, 3000 steps)"]])
        let md = report.markdown()
        XCTAssertTrue(md.contains("No run has finished yet, so there are no numbers; learning_curves.svg draws each of the 1 run(s)"), md)
        XCTAssertTrue(md.contains("Not included (unfinished): 2 run(s): a, b"), md)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-report-running-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        let files = try report.write(to: dir).map { ($0 as NSString).lastPathComponent }
        XCTAssertEqual(Set(files).subtracting(["learning_curves.png"]), ["report.md", "learning_curves.svg"])
        XCTAssertThrowsError(try Report(runs: [running[1]], reps: 200)) { error in
            XCTAssertEqual("\(error)", "none of the 1 runs has finished (no summary.json) or evaluated yet")
        }
    }

    /// `--curves training`: metrics.csv's training returns, averaged per complete window and drawn at its middle
    /// step (as Dopamine reports an iteration), for finished and running runs; the numbers stay the evaluations'.
    func testTrainingCurvesAverageMetricsRowsPerCompleteWindow() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-train-curve-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #"{"env": "Hopper-v5", "preset": "tows-sac", "algorithm": "sac", "method": "tows", "sparsity": 0.9, "seed": 1, "steps": 10000, "eval-every": 2000}"#
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        // Rows every 1000 steps; no episode ended by 1000 (empty); the last row is being written (cut).
        try "step,wall_time_s,episode_return,td_loss\n1000,1.0,,0.5\n2000,2.0,10,0.4\n3000,3.0,20,0.3\n4000,4.0,40,0.2\n5000,5.0,100,0.1\n6000,6"
            .write(toFile: dir + "/metrics.csv", atomically: true, encoding: .utf8)
        let run = try RunResult(directory: dir)
        XCTAssertEqual(run.trainingReturns, [.init(step: 2000, meanReturn: 10), .init(step: 3000, meanReturn: 20),
                                             .init(step: 4000, meanReturn: 40), .init(step: 5000, meanReturn: 100)])
        XCTAssertEqual(run.evalEvery, 2000)
        // (0, 2000]: 10; (2000, 4000]: 30; (4000, 6000] not complete at 5000 steps: left out.
        XCTAssertEqual(run.trainingCurve(window: 2000), [.init(step: 1000, meanReturn: 10), .init(step: 3000, meanReturn: 30)])
        XCTAssertEqual(run.trainingCurve(window: 5000), [.init(step: 2500, meanReturn: 42.5)])

        var runs = synthetic()
        for i in runs.indices { runs[i].trainingReturns = (1...4).map { .init(step: $0 * 2500, meanReturn: Double($0 + runs[i].seed)) } }
        var running = run
        running.finished = false
        runs.append(running)
        var report = try Report(runs: runs, reps: 200)
        report.curves = .training
        report.trainingWindow = 5000
        let hopper = report.learningCurves(reps: 200).panels[0]
        XCTAssertEqual(hopper.yLabel, "training return")
        // Each finished run: (0, 5000] holds 1 + seed and 2 + seed, (5000, 10000] 3 + seed and 4 + seed; seeds 0…4.
        XCTAssertEqual(hopper.series[0].x, [2500, 7500])
        XCTAssertEqual(hopper.series[0].y, [3.5, 5.5])
        XCTAssertEqual(hopper.series.last?.label, "TowS-SAC 90% seed 1 (running, 5000 steps)")
        XCTAssertEqual(hopper.series.last?.y, [42.5])
        XCTAssertTrue(report.markdown().contains("learning_curves.svg draws training returns"))
        XCTAssertEqual(report.cells.map(\.scores), try Report(runs: runs, reps: 200).cells.map(\.scores), "the numbers stay the evaluations'")
    }

    /// `--reference`: a published curve is drawn, with its band, in the panel of its env only, after the runs'
    /// series; it changes no number, and report.md names it and its file.
    func testReferenceCurvesAreDrawnBesideTheRunsOfTheirEnv() throws {
        let csv = """
            env,label,step,value,low,high
            Hopper-v5,Published SAC,2000,300,250,350
            Hopper-v5,Published SAC,1000,100,90,110
            Ant-v5,Published SAC,1000,5,,
            Walker2d-v5,Another,1000,7,,
            Walker2d-v5,Another,3000,9,,
            """
        let refs = try ReferenceCurve.parse(csv, source: "/data/published.csv")
        XCTAssertEqual(refs.map(\.env), ["Hopper-v5", "Ant-v5", "Walker2d-v5"])
        XCTAssertEqual(refs[0].points.map(\.step), [1000, 2000], "sorted by step")
        var report = try Report(runs: synthetic(), reps: 200)
        let before = report.cells.map(\.scores)
        report.references = refs
        XCTAssertEqual(report.cells.map(\.scores), before)
        let figure = report.learningCurves(reps: 200)
        XCTAssertEqual(figure.panels.map(\.title), ["Hopper-v5", "Walker2d-v5"], "no panel for a reference alone")
        let hopper = try XCTUnwrap(figure.panels[0].series.last), walker = try XCTUnwrap(figure.panels[1].series.last)
        XCTAssertEqual(hopper.label, "Published SAC")
        XCTAssertEqual(hopper.y, [100, 300])
        XCTAssertEqual(hopper.low, [90, 250])
        XCTAssertEqual(hopper.high, [110, 350])
        XCTAssertEqual(walker.label, "Another")
        XCTAssertNil(walker.low, "no band without low and high")
        XCTAssertNotEqual(hopper.color, walker.color)
        XCTAssertFalse(figure.panels[0].series.dropLast().map(\.color).contains(hopper.color), "a reference never takes a run's colour")
        let md = report.markdown()
        XCTAssertTrue(md.contains("- Published SAC on Hopper-v5, from published.csv"), md)
        XCTAssertFalse(md.contains("on Ant-v5"), md)
    }

    /// A reference file's mistakes are one line naming the file, the line and the value.
    func testReferenceFileErrorsNameTheLine() {
        let header = "env,label,step,value,low,high\n"
        let cases: [(String, String)] = [
            ("env,label,step,value\nHopper-v5,A,1,2\n", "r.csv: the first line must be env,label,step,value,low,high, got 'env,label,step,value'"),
            (header + "Hopper-v5,A,1,2\n", "r.csv line 2: 4 fields, expected 6"),
            (header + "Hopper-v5,A,1,x,,\n", "r.csv line 2: value 'x' is not a finite number"),
            (header + "Hopper-v5,A,1,nan,,\n", "r.csv line 2: value 'nan' is not a finite number"),
            (header + "Hopper-v5,A,,2,,\n", "r.csv line 2: step '' is not a finite number"),
            (header + "Hopper-v5,A,1,2,1,\n", "r.csv line 2: give both low and high, or neither"),
            (header + "Hopper-v5,A,1,2,3,4\n", "r.csv line 2: the band 3…4 does not hold the value 2"),
            (header + ",A,1,2,,\n", "r.csv line 2: env and label must not be empty"),
            (header + "Hopper-v5,A,1,2,,\nHopper-v5,A,1,3,,\n", "r.csv line 3: step 1 of 'A' on Hopper-v5 given twice"),
            (header, "r.csv: no rows after the header"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try ReferenceCurve.parse(text, source: "/tmp/r.csv"), message) { error in
                XCTAssertTrue("\(error)".hasPrefix(message), "\(error) — expected \(message)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}

/// `sparrow report` says when a table mixes Sparrow builds or CPU models, and says nothing when it does not.
final class ReportProvenanceTests: XCTestCase {
    func testANoteNamesMixedVersionsAndCPUs() throws {
        func run(_ seed: Int, _ build: String?, _ cpu: String?) -> RunResult {
            var r = RunResult(name: "r\(seed)", env: "Hopper-v5", algorithm: "sac", method: "dense", sparsity: 0, seed: seed,
                              finalScore: Double(seed))
            r.sparrowBuild = build; r.cpu = cpu
            return r
        }
        let same = try Report(runs: [run(0, "0.14.0 aaaa", "EPYC"), run(1, "0.14.0 aaaa", "EPYC")], reps: 100)
        XCTAssertFalse(same.markdown().contains("**Note:**"))
        let mixed = try Report(runs: [run(0, "0.14.0 aaaa", "EPYC"), run(1, "0.14.0 bbbb", "Xeon")], reps: 100)
        let text = mixed.markdown()
        XCTAssertTrue(text.contains("2 Sparrow versions: 0.14.0 aaaa, 0.14.0 bbbb"), text)
        XCTAssertTrue(text.contains("2 CPU models: EPYC, Xeon"), text)
        // The paper comparison (`--paper tows`) says so too, about its own runs.
        func tows(_ seed: Int, _ cpu: String) -> RunResult {
            var r = RunResult(name: "t\(seed)", env: "Hopper-v5", algorithm: "sac", method: "tows", sparsity: 0.9, seed: seed,
                              finalScore: 3000)
            r.finished = true; r.cpu = cpu
            return r
        }
        XCTAssertFalse(PaperComparison(runs: [tows(0, "EPYC"), tows(1, "EPYC")], paper: .tows).markdown().contains("**Note:**"))
        let paper = PaperComparison(runs: [tows(0, "EPYC"), tows(1, "Xeon")], paper: .tows).markdown()
        XCTAssertTrue(paper.contains("2 CPU models: EPYC, Xeon"), paper)
    }
}

/// A sweep with both SAC code bases: every sparse method is normalised by the dense run of its own preset family
/// (rigl/rl's SAC for set-sac, ANF's for tows-sac), the two dense runs stay apart, and the report says which.
final class ReportReferenceFamilyTests: XCTestCase {
    func testEachMethodIsNormalisedByItsOwnFamilysDenseRun() throws {
        var runs: [RunResult] = []
        for (preset, method, sparsity, score) in [("dense-sac", "dense", 0.0, 1000.0), ("dense-sac-graesser", "dense", 0.0, 2000.0),
                                                  ("tows-sac", "tows", 0.9, 900.0), ("set-sac", "set", 0.9, 1500.0)] {
            for seed in 0..<3 {
                let evals = (1...10).map { EvaluationPoint(step: $0 * 1000, meanReturn: score) }
                runs.append(RunResult(name: "\(preset)_\(seed)", env: "Hopper-v5", preset: preset, algorithm: "sac", method: method,
                                      sparsity: sparsity, seed: seed, evaluations: evals, finalScore: score,
                                      liveParameters: 1000 * (1 - sparsity), trainingFLOPs: 1e9, inferenceFLOPs: 100))
            }
        }
        let report = try Report(runs: runs, reps: 200)
        XCTAssertEqual(report.keys.filter(\.isDenseReference).count, 2, "two dense groups, not one pooled")
        func normalised(_ method: String) throws -> Double {
            let c = try XCTUnwrap(report.cells.first { $0.key.method == method })
            return try XCTUnwrap(c.normalized?.first)
        }
        XCTAssertEqual(try normalised("tows"), 0.9, accuracy: 1e-12)
        XCTAssertEqual(try normalised("set"), 0.75, accuracy: 1e-12)
        let md = report.markdown()
        XCTAssertTrue(md.contains("SET-SAC 90% by Dense-SAC (rigl/rl) (dense-sac-graesser)"), md)
        XCTAssertTrue(md.contains("TowS-SAC 90% by Dense-SAC (dense-sac)"), md)
    }
}

/// `sparrow report` over runs it cannot fully read: rows that are cut, not numbers or NaN are left out and counted;
/// a run whose evaluations.csv lacks the columns, or whose config.json is garbage, is left out by name; the rest is
/// reported from what could be read.
final class ReportSkipsUnreadableInputTests: XCTestCase {
    func testUnreadableRowsAndRunsAreSkippedAndCounted() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sparrow-skips-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        defer { try? FileManager.default.removeItem(at: root) }
        let good = try PaperTableTests.writeRun(root: root, env: "Hopper-v5", seed: 0, level: 3000)
        let partial = try PaperTableTests.writeRun(root: root, env: "Hopper-v5", seed: 1, level: 3100, omitFinalScore: true)
        let partialCSV = root.appendingPathComponent("Hopper-v5_tows-sac_s0.9_seed1/evaluations.csv")
        var text = try String(contentsOf: partialCSV, encoding: .utf8)
        text += "1050000,nan,1.5,5\n1100000,inf,1.5,5\n1150000,abc,1.5,5\n1200000,31"  // NaN, infinite, not a number, cut
        try text.write(to: partialCSV, atomically: true, encoding: .utf8)
        try PaperTableTests.writeRun(root: root, env: "Hopper-v5", seed: 2, level: 3200)
        try "foo,bar\n1,2\n".write(to: root.appendingPathComponent("Hopper-v5_tows-sac_s0.9_seed2/evaluations.csv"), atomically: true, encoding: .utf8)
        try PaperTableTests.writeRun(root: root, env: "Hopper-v5", seed: 3, level: 3300)
        try "{not json".write(to: root.appendingPathComponent("Hopper-v5_tows-sac_s0.9_seed3/config.json"), atomically: true, encoding: .utf8)

        var skipped: [RunResults.Skipped] = []
        let runs = RunResults.load(roots: [root.path], skipped: &skipped)
        XCTAssertEqual(runs.map(\.seed), [0, 1])
        XCTAssertEqual(runs[1].skippedEvaluationRows, 4)
        XCTAssertEqual(runs[1].evaluations.count, partial.count, "the readable rows are all kept")
        XCTAssertEqual(runs[1].finalScore!, PaperTableTests.finalScore(partial), accuracy: 1e-9)
        XCTAssertEqual(runs[0].finalScore!, PaperTableTests.finalScore(good), accuracy: 1e-9)
        XCTAssertEqual(skipped.map { ($0.directory as NSString).lastPathComponent },
                       ["Hopper-v5_tows-sac_s0.9_seed2", "Hopper-v5_tows-sac_s0.9_seed3"])
        XCTAssertTrue(skipped[0].reason.contains("no step and mean_return columns (header 'foo,bar')"), skipped[0].reason)
        XCTAssertTrue(skipped[1].reason.contains("no readable config.json"), skipped[1].reason)
        let warnings = RunResults.warnings(runs: runs, skipped: skipped)
        XCTAssertEqual(warnings.count, 3)
        XCTAssertEqual(warnings.last, "warning: skipped 4 unreadable evaluations.csv rows (cut, not numbers, NaN or infinite) in 1 run: Hopper-v5_tows-sac_s0.9_seed1")
        XCTAssertTrue(RunResults.warnings(runs: [runs[0]], skipped: []).isEmpty)
    }
}

/// Weights-only counts for runs kept without their checkpoint from before summary.json had `live_weights`: rebuilt
/// from config.json for methods that keep their count, and left unknown for pruning.
final class WeightsFromConfigTests: XCTestCase {
    func testWeightsOfAnOldRunAreRebuiltFromItsConfigUnlessItPrunes() throws {
        for (preset, rebuilt) in [("tows-sac", true), ("prune-sac", false)] {
            let dir = NSTemporaryDirectory() + "sparrow-weights-\(getpid())-\(preset)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let config = try TrainConfig.resolve(preset: preset, env: "InvertedPendulum-v5", file: nil,
                                                 flags: ["steps": 1200, "start-steps": 500, "eval-every": 600, "eval-episodes": 1])
            try OffPolicyTrainer(config: config, runDirectory: dir, resume: false).run()
            let summaryPath = dir + "/summary.json"
            var summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: summaryPath))) as! [String: Any]
            let weights = try XCTUnwrap(summary["live_weights"] as? Int)
            XCTAssertEqual(try RunResult(directory: dir).liveWeights, Double(weights), "\(preset): from summary.json")
            summary["live_weights"] = nil  // as written before the key existed
            try JSONSerialization.data(withJSONObject: summary).write(to: URL(fileURLWithPath: summaryPath))
            XCTAssertEqual(try RunResult(directory: dir).liveWeights, Double(weights), "\(preset): from the checkpoint")
            try FileManager.default.removeItem(atPath: dir + "/checkpoint.sparrow")
            XCTAssertEqual(try RunResult(directory: dir).liveWeights, rebuilt ? Double(weights) : nil, "\(preset): from config.json")
        }
    }
}

/// An initialisation ablation (`sweeps/graesser-dqn-cartpole-v0-init-*.yaml`): runs that override their preset's
/// `init` form cells of their own, named for it, and a dense run with another init is never the dense reference.
final class ReportInitAblationTests: XCTestCase {
    func testRunsWithAnotherInitFormTheirOwnCell() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sparrow-init-ablation-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        // dense-dqn's own init is he-truncated-normal, static-dqn's sparsity-aware.
        for (preset, method, sparsity, initialization, level) in [("dense-dqn", "dense", 0.0, "he-truncated-normal", 100.0),
                                                                    ("dense-dqn", "dense", 0.0, "sparsity-aware", 150.0),
                                                                    ("static-dqn", "static", 0.9, "sparsity-aware", 190.0),
                                                                    ("static-dqn", "static", 0.9, "he-truncated-normal", 120.0)] {
            // Named as the sweeps name them (the name does not spell the init), in a root per init.
            let dir = root.appendingPathComponent(initialization).appendingPathComponent("CartPole-v0_\(preset)_seed0")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let config: [String: Any] = ["env": "CartPole-v0", "preset": preset, "algorithm": "dqn", "method": method,
                                         "sparsity": sparsity, "seed": 0, "steps": 101_000, "init": initialization]
            try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
            try "step,mean_return,std_return,episodes\n2000,\(level),1,20\n4000,\(level),1,20\n"
                .write(to: dir.appendingPathComponent("evaluations.csv"), atomically: true, encoding: .utf8)
            try JSONSerialization.data(withJSONObject: ["final_score": level, "steps": 101_000])
                .write(to: dir.appendingPathComponent("summary.json"))
        }
        let all = try RunResults.load(roots: [root.appendingPathComponent("he-truncated-normal").path,
                                              root.appendingPathComponent("sparsity-aware").path])
        let (runs, duplicates) = RunResults.deduplicated(all)
        XCTAssertEqual(runs.count, 4, "same names, other init: not copies (\(duplicates))")
        XCTAssertEqual(Set(runs.map(\.initialization)), [nil, "sparsity-aware", "he-truncated-normal"])
        let report = try Report(runs: runs, reps: 100)
        XCTAssertEqual(report.keys.count, 4, "\(report.keys.map(\.label))")
        XCTAssertEqual(report.keys.filter(\.isDenseReference).map(\.label), ["Dense-DQN"])
        XCTAssertTrue(report.keys.map(\.label).contains("Dense-DQN init sparsity-aware"), "\(report.keys.map(\.label))")
        XCTAssertTrue(report.keys.map(\.label).contains("SS-DQN 90% init he-truncated-normal"), "\(report.keys.map(\.label))")
        // Every cell is normalised by the preset's own dense run (100), not by the ablation's.
        for c in report.cells { XCTAssertEqual(try XCTUnwrap(c.normalized?.first), c.scores[0] / 100, accuracy: 1e-12) }
    }
}
