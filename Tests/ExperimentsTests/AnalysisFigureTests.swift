import Experiments
import Foundation
import Training
import XCTest

/// The report's analysis figures from runs with known numbers: parameter-matched dense runs are their own groups
/// (and never the dense reference), the actor:critic runs get their figure, noise results their curve and table,
/// noise-feature runs their connection picture; each figure's points are the numbers computed directly.
final class AnalysisFigureTests: XCTestCase {
    func run(_ method: String, _ sparsity: Double, seed: Int, score: Double, params: Double, paramsLike: Double? = nil,
             ratio: Double? = nil) -> RunResult {
        var r = RunResult(name: "\(method)\(sparsity)\(paramsLike ?? 0)\(ratio ?? 0)_\(seed)", env: "CartPole-v1", algorithm: "dqn",
                          method: method, sparsity: sparsity, seed: seed,
                          evaluations: [EvaluationPoint(step: 1000, meanReturn: score)], finalScore: score, liveParameters: params)
        r.paramsLike = paramsLike; r.actorCriticRatio = ratio
        return r
    }

    func runs() -> [RunResult] {
        var all: [RunResult] = []
        for seed in 0..<3 {
            let s = Double(seed)
            all.append(run("dense", 0, seed: seed, score: 500 - s, params: 270_000))
            all.append(run("dense", 0, seed: seed, score: 300 + s, params: 27_000, paramsLike: 0.9))
            all.append(run("dense", 0, seed: seed, score: 200 + s, params: 13_500, paramsLike: 0.95))
            all.append(run("set", 0.9, seed: seed, score: 450 + s, params: 27_000))
            all.append(run("set", 0.95, seed: seed, score: 400 + s, params: 13_500))
            all.append(run("set", 0.9, seed: seed, score: 350 + s, params: 27_000, ratio: 0.5))
            all.append(run("set", 0.9, seed: seed, score: 420 + s, params: 27_000, ratio: 2))
        }
        return all
    }

    func testParameterMatchedDenseIsItsOwnGroupAndNeverTheReference() throws {
        let report = try Report(runs: runs(), reps: 500)
        XCTAssertEqual(report.keys.map(\.label), ["Dense-DQN", "Dense-DQN params of 90%", "Dense-DQN params of 95%", "SET-DQN 90%",
                                                  "SET-DQN 90% a:c 0.5", "SET-DQN 90% a:c 2", "SET-DQN 95%"])
        let matched = try XCTUnwrap(report.cell("CartPole-v1", report.keys[1]))
        XCTAssertEqual(matched.normalized!, [300, 301, 302].map { $0 / 499 }, "normalised by the full dense mean (499)")
        XCTAssertTrue(report.markdown().contains("| Dense-DQN params of 90% | 0% |"), report.markdown())
    }

    /// Runs with and without ReDo are two groups: their dormant fractions are drawn apart, never averaged.
    func testReDoRunsAreTheirOwnGroup() throws {
        let plain = run("set", 0.9, seed: 0, score: 10, params: 100)
        var redo = run("set", 0.9, seed: 0, score: 20, params: 100)
        redo.redoEvery = 1000; redo.name += "redo"
        let report = try Report(runs: [plain, redo], reps: 200)
        XCTAssertEqual(report.keys.map(\.label), ["SET-DQN 90%", "SET-DQN 90% ReDo/1000"])
    }

    func testFiguresHoldTheDirectNumbers() throws {
        let report = try Report(runs: runs(), reps: 500)
        // Figure 2: x = log10(parameters), y = the mean final return, per method line.
        let f2 = try XCTUnwrap(report.returnVersusParameters())
        let set = try XCTUnwrap(f2.panels[0].series.first { $0.label == "SET-DQN" })
        XCTAssertEqual(set.x, [log10(13_500), log10(27_000)])
        XCTAssertEqual(set.y, [401, 451])
        let dense = try XCTUnwrap(f2.panels[0].series.first { $0.label.hasPrefix("Dense-DQN") })
        XCTAssertEqual(dense.x, [log10(13_500), log10(27_000), log10(270_000)], "params-matched and full dense: one line")
        XCTAssertEqual(dense.y, [201, 301, 499])
        XCTAssertFalse(f2.panels[0].series.contains { $0.label.contains("a:c") }, "ratio runs are not a sparsity level")
        // Figure 1: normalised IQM at each sparsity (3 runs: the IQM is the middle one).
        let f1 = try XCTUnwrap(report.normalizedIQMVersusSparsity())
        let setLine = try XCTUnwrap(f1.panels[0].series.first { $0.label == "SET-DQN" })
        XCTAssertEqual(setLine.x, [0.9, 0.95])
        XCTAssertEqual(setLine.y[0], Statistics.iqm([450, 451, 452].map { $0 / 499 }), accuracy: 1e-12)
        XCTAssertEqual(f1.panels[0].series.first { $0.label.contains("params-matched") }?.x, [0.9, 0.95])
        // Figure 3: one line per method and sparsity over log2 of the ratio.
        let f3 = try XCTUnwrap(report.returnVersusActorCriticRatio())
        XCTAssertEqual(f3.panels[0].series.map(\.x), [[-1, 1]])
        XCTAssertEqual(f3.panels[0].series.map(\.y), [[351, 421]])
        XCTAssertNil(report.noiseFeatureConnections())
        XCTAssertNil(report.returnVersusObservationNoise())
    }

    func testNoiseCurvesTableAndNoiseFeaturePicture() throws {
        var all = runs().filter { $0.actorCriticRatio == nil && $0.paramsLike == nil }
        for i in all.indices {
            let base = all[i].finalScore!
            all[i].noiseRobustness = NoiseRobustness(env: "CartPole-v1", preset: "p", scale: "std", episodes: 2, seed: 1,
                                                     sigmas: [0, 0.5, 1], meanReturn: [base, base / 2, base / 4],
                                                     ciLow: [base, base / 2, base / 4], ciHigh: [base, base / 2, base / 4],
                                                     returns: [[base, base], [base / 2, base / 2], [base / 4, base / 4]])
            all[i].noiseFeatures = 0.9
            all[i].inputConnections = [InputConnectionsPoint(step: 1000, actorReal: nil, actorNoise: nil, criticReal: 30, criticNoise: 20),
                                       InputConnectionsPoint(step: 2000, actorReal: nil, actorNoise: nil, criticReal: 40 + Double(all[i].seed), criticNoise: 10)]
        }
        var report = try Report(runs: all, reps: 500)
        report.includeNoise = true
        let f = try XCTUnwrap(report.returnVersusObservationNoise())
        XCTAssertEqual(f.panels[0].xLabel, "noise σ (× feature std)")
        let dense = try XCTUnwrap(f.panels[0].series.first { $0.label == "Dense-DQN" })
        XCTAssertEqual(dense.x, [0, 0.5, 1])
        XCTAssertEqual(dense.y, [499, 249.5, 124.75])
        let md = report.markdown()
        XCTAssertTrue(md.contains("| 0.5 | 249.5 |"), md)
        XCTAssertTrue(md.contains("return_vs_observation_noise.png"), md)
        // Normalised by each policy's own clean return (finding 7): every run here keeps 1/2 at σ 0.5 and 1/4 at 1.
        let g = try XCTUnwrap(report.returnVersusObservationNoise(normalised: true))
        XCTAssertEqual(g.panels[0].yLabel, "return / clean return")
        XCTAssertEqual(try XCTUnwrap(g.panels[0].series.first { $0.label == "Dense-DQN" }).y, [1, 0.5, 0.25])
        XCTAssertTrue(md.contains("As a fraction of each policy's clean return"), md)
        XCTAssertTrue(md.contains("| 0.5 | 0.50 |"), md)
        XCTAssertTrue(md.contains("return_vs_observation_noise_normalised.png"), md)
        let pic = try XCTUnwrap(report.noiseFeatureConnections())
        XCTAssertEqual(pic.panels.count, 3, "critic panels only (no actor numbers), one per group")
        XCTAssertEqual(pic.panels[0].series.map(\.y), [[30, 41], [20, 10]], "mean over the three runs")
    }
}
