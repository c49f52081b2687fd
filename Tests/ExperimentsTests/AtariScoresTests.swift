import Environments
import Experiments
import Foundation
import Training
import XCTest

/// The Atari reference table and the human-normalised score (HNS): spelled as `AtariGame` spells games, random → 0,
/// human → 1, nothing for other envs.
final class AtariScoresTests: XCTestCase {
    func testTableCoversAtari57WithAtariGameSpellings() throws {
        let games = AtariScores.table.map(\.game)
        XCTAssertEqual(games.count, 57)
        XCTAssertEqual(Set(games).count, 57, "one row per game")
        for entry in AtariScores.table {
            // The exact spelling of Gymnasium's id, not a loose match.
            XCTAssertEqual(AtariGame.find("ALE/\(entry.game)-v5")?.gameName, entry.game)
            XCTAssertLessThan(entry.random, entry.human, entry.game)
        }
        // Graesser et al.'s 15 games.
        let paper = ["MsPacman", "Pong", "Qbert", "Assault", "Asterix", "BeamRider", "Boxing", "Breakout", "CrazyClimber",
                     "DemonAttack", "Enduro", "FishingDerby", "SpaceInvaders", "Tutankham", "VideoPinball"]
        XCTAssertTrue(Set(games).isSuperset(of: paper), "\(Set(paper).subtracting(games))")
        // A few rows against DQN Zoo's atari_data.py, typed here by hand.
        let rows = Dictionary(uniqueKeysWithValues: AtariScores.table.map { ($0.game, ($0.random, $0.human)) })
        XCTAssertTrue(rows["Pong"]! == (-20.7, 14.6))
        XCTAssertTrue(rows["MsPacman"]! == (307.3, 6951.6))
        XCTAssertTrue(rows["VideoPinball"]! == (16256.9, 17667.9))
        XCTAssertTrue(rows["Skiing"]! == (-17098.1, -4336.9))
        XCTAssertTrue(rows["Zaxxon"]! == (32.5, 9173.3))
    }

    func testRandomScoresZeroHumanScoresOne() throws {
        XCTAssertEqual(AtariScores.humanNormalized(-20.7, env: "ALE/Pong-v5"), 0)
        XCTAssertEqual(try XCTUnwrap(AtariScores.humanNormalized(14.6, env: "ALE/Pong-v5")), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(AtariScores.humanNormalized(21, env: "ALE/Pong-v5")), 41.7 / 35.3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(AtariScores.humanNormalized(-17098.1, env: "ALE/Skiing-v5")), 0, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(AtariScores.humanNormalized(-4336.9, env: "ALE/Skiing-v5")), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(AtariScores.humanNormalized(16.1, env: "ALE/Breakout-v5")), 0.5, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(AtariScores.humanNormalized(0, env: "ALE/Boxing-v5")), -0.1 / 12, accuracy: 1e-12)
        // Other envs, an Atari name without the ALE/ prefix, a game outside the table, a game that does not exist.
        for env in ["Hopper-v5", "CartPole-v1", "Pong-v5", "ALE/Tetris-v5", "ALE/Pongg-v5"] {
            XCTAssertNil(AtariScores.humanNormalized(10, env: env), env)
        }
    }
}

/// `sparrow report` over an Atari sweep read from run directories: per cell the HNS beside the raw return, per method
/// the IQM of HNS over runs × games, in report.md, results.csv and a figure; a game outside the table and a
/// non-Atari env stay out of the HNS; a MuJoCo sweep's report has none of it.
final class AtariReportTests: XCTestCase {
    /// A finished run directory as `sparrow train` leaves it: config.json, evaluations.csv, summary.json.
    static func writeRun(root: URL, env: String, preset: String, method: String, sparsity: Double, seed: Int,
                         finalScore: Double) throws {
        let dir = root.appendingPathComponent("\(env.replacingOccurrences(of: "/", with: "-"))_\(preset)_s\(sparsity)_seed\(seed)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config: [String: Any] = ["env": env, "preset": preset, "algorithm": "dqn", "method": method, "sparsity": sparsity,
                                     "seed": seed, "steps": 100_000]
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: dir.appendingPathComponent("config.json"))
        var csv = "step,mean_return,std_return,episodes\n"
        for i in 1...10 { csv += "\(i * 10_000),\(finalScore * Double(i) / 10),1.0,5\n" }
        try csv.write(to: dir.appendingPathComponent("evaluations.csv"), atomically: true, encoding: .utf8)
        let summary: [String: Any] = ["env": env, "steps": 100_000, "seed": seed, "final_score": finalScore,
                                      "live_params": 1000 * (1 - sparsity), "live_weights": 900 * (1 - sparsity)]
        try JSONSerialization.data(withJSONObject: summary).write(to: dir.appendingPathComponent("summary.json"))
    }

    /// Random and human scores typed from DQN Zoo's table, not read from `AtariScores`.
    static let reference = ["ALE/Pong-v5": (-20.7, 14.6), "ALE/Breakout-v5": (1.7, 30.5), "ALE/Qbert-v5": (163.9, 13455.0)]

    /// The interquartile mean written out: drop ⌊n/4⌋ from each end of the sorted values, average the rest.
    static func interquartileMean(_ values: [Double]) -> Double {
        let sorted = values.sorted(), cut = values.count / 4
        let kept = sorted[cut..<(sorted.count - cut)]
        return kept.reduce(0, +) / Double(kept.count)
    }

    func testAtariSweepReportsHumanNormalisedScoresPerCellAndIQMOverGames() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sparrow-atari-report-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        defer { try? FileManager.default.removeItem(at: root) }
        // Three games × (dense, SET 90%) × 3 seeds; the scores spread so the IQM drops some runs of each method.
        let levels: [String: (dense: Double, set: Double)] = ["ALE/Pong-v5": (5, -3), "ALE/Breakout-v5": (41, 20),
                                                              "ALE/Qbert-v5": (9000, 4000)]
        var raw: [String: [String: [Double]]] = [:]   // env → method → final scores by seed
        for (env, level) in levels {
            for seed in 0..<3 {
                let spread = Double(seed) * abs(level.dense) / 10
                try Self.writeRun(root: root, env: env, preset: "dense-dqn-atari", method: "dense", sparsity: 0, seed: seed,
                                  finalScore: level.dense + spread)
                try Self.writeRun(root: root, env: env, preset: "set-dqn-atari", method: "set", sparsity: 0.9, seed: seed,
                                  finalScore: level.set - spread)
                raw[env, default: [:]]["dense", default: []].append(level.dense + spread)
                raw[env, default: [:]]["set", default: []].append(level.set - spread)
            }
        }
        // SET also ran on a game outside the table and on a non-Atari env: neither enters the HNS. (The same preset
        // name for CartPole keeps it in the same method × sparsity group as the Atari runs.)
        try Self.writeRun(root: root, env: "ALE/Tetris-v5", preset: "set-dqn-atari", method: "set", sparsity: 0.9, seed: 0, finalScore: 7)
        try Self.writeRun(root: root, env: "CartPole-v1", preset: "set-dqn-atari", method: "set", sparsity: 0.9, seed: 0, finalScore: 200)

        var skipped: [RunResults.Skipped] = []
        let runs = RunResults.load(roots: [root.path], skipped: &skipped)
        XCTAssertEqual(runs.count, 20)
        XCTAssertTrue(skipped.isEmpty)
        let report = try Report(runs: runs, reps: 2000)
        XCTAssertTrue(report.hasHumanNormalizedScores)
        XCTAssertEqual(report.humanNormalizedEnvs, ["ALE/Breakout-v5", "ALE/Pong-v5", "ALE/Qbert-v5"])

        func hns(_ env: String, _ method: String) -> [Double] {
            let (random, human) = Self.reference[env]!
            return raw[env]![method]!.map { ($0 - random) / (human - random) }
        }
        XCTAssertEqual(report.keys.map(\.label), ["Dense-DQN", "SET-DQN 90%"])
        let dense = try XCTUnwrap(report.keys.first { $0.method == "dense" })
        let set = try XCTUnwrap(report.keys.first { $0.method == "set" })
        for env in Self.reference.keys.sorted() {
            for (key, method) in [(dense, "dense"), (set, "set")] {
                let c = try XCTUnwrap(report.cell(env, key))
                let got = try XCTUnwrap(c.humanNormalized, "\(env) \(method)")
                for (g, e) in zip(got, hns(env, method)) { XCTAssertEqual(g, e, accuracy: 1e-12, "\(env) \(method)") }
                XCTAssertEqual(c.humanNormalizedIQM!.estimate, Self.interquartileMean(hns(env, method)), accuracy: 1e-12)
            }
        }
        XCTAssertNil(report.cell("ALE/Tetris-v5", set)?.humanNormalized)
        XCTAssertNil(report.cell("CartPole-v1", set)?.humanNormalized)
        XCTAssertNotNil(report.cell("CartPole-v1", set), "the CartPole run is still reported, only not normalised by humans")

        // Across games: 9 runs × games per method; ⌊9/4⌋ = 2 dropped from each end.
        let games = Self.reference.keys.sorted()
        for (key, method) in [(dense, "dense"), (set, "set")] {
            let agg = try XCTUnwrap(report.aggregates.first { $0.key == key })
            let iqm = try XCTUnwrap(agg.humanNormalizedIQM)
            let all = games.flatMap { hns($0, method) }
            XCTAssertEqual(iqm.estimate, Self.interquartileMean(all), accuracy: 1e-12, method)
            XCTAssertNotEqual(iqm.estimate, Statistics.mean(all), "the trimming matters for these scores")
            XCTAssertLessThanOrEqual(iqm.lower, iqm.estimate)
            XCTAssertGreaterThanOrEqual(iqm.upper, iqm.estimate)
            XCTAssertLessThan(iqm.lower, iqm.upper)
            // Stratified: each game's runs resampled within the game (the report sorts its games by name).
            XCTAssertEqual(iqm, Statistics.stratifiedBootstrap(games.map { hns($0, method) }, reps: 2000, seed: 0))
        }

        let md = report.markdown()
        XCTAssertTrue(md.contains("## Human-normalised score (Atari)"), md)
        XCTAssertTrue(md.contains("No reference scores for ALE/Tetris-v5: left out of the HNS."), md)
        XCTAssertTrue(md.contains("| Method | Sparsity | ALE/Breakout-v5 | ALE/Pong-v5 | ALE/Qbert-v5 | IQM (HNS) [95% CI] | Games |"), md)
        // Breakout's dense runs: 41, 45.1, 49.2 → 45.1 ± 3.348, HNS (45.1 − 1.7) / 28.8 = 1.507; Pong's: 5, 5.5, 6 →
        // 5.5 ± 0.408, HNS (5.5 + 20.7) / 35.3 = 0.742.
        let denseRow = try XCTUnwrap(md.split(separator: "\n").first { $0.hasPrefix("| Dense-DQN | 0% | 45.10 ± 3.348 (1.507) | 5.500 ± 0.408 (0.742) |") }, md)
        XCTAssertTrue(denseRow.hasSuffix(" | 3 |"), String(denseRow))
        XCTAssertTrue(md.contains("![IQM of human-normalised scores against sparsity](hns_iqm_vs_sparsity.png)"), md)

        let csv = report.csv().split(separator: "\n").map(String.init)
        XCTAssertTrue(csv[0].hasSuffix(",actor_critic_ratio,human_normalized_mean,human_normalized_iqm,human_normalized_iqm_low,human_normalized_iqm_high"), csv[0])
        let pong = try XCTUnwrap(csv.first { $0.hasPrefix("ALE/Pong-v5,dqn,dense,") })
        let fields = pong.split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(fields.count, csv[0].split(separator: ",").count)
        XCTAssertEqual(try XCTUnwrap(Double(fields[fields.count - 4])), 26.2 / 35.3, accuracy: 1e-5)
        let cartPole = try XCTUnwrap(csv.first { $0.hasPrefix("CartPole-v1,") })
        XCTAssertTrue(cartPole.hasSuffix(",,,,"), cartPole)

        let out = root.appendingPathComponent("report").path
        let files = try report.write(to: out)
        XCTAssertTrue(files.contains(out + "/hns_iqm_vs_sparsity.svg"), "\(files)")
        let svg = try String(contentsOfFile: out + "/hns_iqm_vs_sparsity.svg", encoding: .utf8)
        XCTAssertTrue(svg.contains("SET-DQN") && svg.contains("Dense-DQN"), svg)
    }

    /// A MuJoCo sweep's report has no HNS: no section, no columns, no figure, nothing in the cells.
    func testNonAtariSweepHasNoHumanNormalisedScores() throws {
        var runs: [RunResult] = []
        for env in ["Hopper-v5", "Walker2d-v5"] {
            for (method, sparsity, score) in [("dense", 0.0, 3000.0), ("tows", 0.9, 2500.0)] {
                for seed in 0..<3 {
                    runs.append(RunResult(name: "\(env)_\(method)_\(seed)", env: env, algorithm: "sac", method: method,
                                          sparsity: sparsity, seed: seed, finalScore: score + Double(seed)))
                }
            }
        }
        let report = try Report(runs: runs, reps: 200)
        XCTAssertFalse(report.hasHumanNormalizedScores)
        XCTAssertTrue(report.cells.allSatisfy { $0.humanNormalized == nil && $0.humanNormalizedIQM == nil })
        XCTAssertTrue(report.aggregates.allSatisfy { $0.humanNormalizedIQM == nil })
        XCTAssertNil(report.humanNormalizedIQMVersusSparsity())
        let md = report.markdown()
        XCTAssertFalse(md.contains("Human-normalised") || md.contains("HNS"), md)
        XCTAssertEqual(report.csv().split(separator: "\n").first.map(String.init),
                       "env,algorithm,method,sparsity,runs,mean,std,iqm,iqm_low,iqm_high,normalized_mean,normalized_iqm,"
                       + "normalized_iqm_low,normalized_iqm_high,live_params,params_vs_dense,training_flops,"
                       + "training_flops_vs_dense,inference_flops,inference_flops_vs_dense,params_like,actor_critic_ratio")
    }
}
