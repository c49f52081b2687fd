@testable import Agents
import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Training

/// Same seed, same results across refactors of the sparse-training seam (issue 22): a short run of every method
/// family (dense, static, TowS, DS, SET, RigL, pruning; SAC, TD3, DQN, PPO) through its topology updates or pruning
/// steps, compared row for row (metrics, evaluations) and bit for bit (a digest of every weight and Adam moment)
/// with `Fixtures/method-runs.json`, recorded by the code before the change.
///
/// Float results depend on the dense-product kernels (OpenBLAS's kernel family) and the sparse kernels' ISA body,
/// so the fixture names the machine numerics it was recorded with and the comparison runs where they are the same;
/// elsewhere the test says so and skips. Record anew (only on purpose, with the code the fixture should hold) with
///   SPARROW_RECORD_FIXTURES=1 swift test -c release --filter MethodFixtureTests
final class MethodFixtureTests: XCTestCase {
    struct Case {
        let name: String, preset: String, env: String, flags: [String: Any]
    }

    /// Every case runs 1200 steps after 300 random ones, so each sees several topology updates or pruning steps.
    static let cases: [Case] = {
        let off: [String: Any] = ["steps": 1200, "start-steps": 300, "eval-every": 600, "eval-episodes": 1,
                                  "checkpoint-every": 600, "log-every": 200, "buffer-size": 10_000, "hidden": [32, 32]]
        func with(_ extra: [String: Any]) -> [String: Any] { off.merging(extra) { $1 } }
        let cartPole = with(["update-interval": 100, "target-update-interval": 50, "epsilon-final": 0.2])
        let ppo: [String: Any] = ["steps": 1024, "start-steps": 0, "rollout-steps": 256, "batch-size": 64,
                                  "epochs": 4, "update-interval": 10, "eval-every": 512, "eval-episodes": 1,
                                  "log-every": 256, "checkpoint-every": 512, "hidden": [32, 32],
                                  "prune-frequency": 8]
        return [
            Case(name: "dense-sac", preset: "dense-sac", env: "InvertedPendulum-v5", flags: off),
            Case(name: "ss-sac", preset: "ss-sac", env: "InvertedPendulum-v5", flags: off),
            Case(name: "tows-sac", preset: "tows-sac", env: "InvertedPendulum-v5", flags: with(["update-interval": 100])),
            Case(name: "tows-td3", preset: "tows-td3", env: "InvertedPendulum-v5", flags: with(["update-interval": 100])),
            Case(name: "ds-td3", preset: "ds-td3", env: "InvertedPendulum-v5", flags: with(["update-interval": 100])),
            Case(name: "ds-sac", preset: "ds-sac", env: "InvertedPendulum-v5", flags: with(["update-interval": 100])),
            Case(name: "set-sac", preset: "set-sac", env: "InvertedPendulum-v5", flags: with(["update-interval": 100])),
            Case(name: "rigl-sac", preset: "rigl-sac", env: "InvertedPendulum-v5", flags: with(["update-interval": 100])),
            Case(name: "prune-sac", preset: "prune-sac", env: "InvertedPendulum-v5", flags: with(["prune-frequency": 100])),
            Case(name: "dense-dqn", preset: "dense-dqn", env: "CartPole-v1", flags: cartPole),
            Case(name: "set-dqn", preset: "set-dqn", env: "CartPole-v1", flags: cartPole),
            Case(name: "rigl-dqn", preset: "rigl-dqn", env: "CartPole-v1", flags: cartPole),
            Case(name: "prune-dqn", preset: "prune-dqn", env: "CartPole-v1", flags: cartPole.merging(["prune-frequency": 100]) { $1 }),
            Case(name: "rigl-ppo", preset: "rigl-ppo", env: "InvertedPendulum-v5", flags: ppo),
            Case(name: "prune-ppo", preset: "prune-ppo", env: "InvertedPendulum-v5", flags: ppo),
        ] + laterCases
    }()

    /// Recorded later from the runs of the pre-refactor binary (commit ca907fd, `sparrow train` with these flags;
    /// `SPARROW_RECORD_FROM_RUNS`): every other paper preset family, the Atari presets with both networks included.
    static let laterCases: [Case] = {
        let off: [String: Any] = ["steps": 1200, "start-steps": 300, "eval-every": 600, "eval-episodes": 1,
                                  "checkpoint-every": 600, "log-every": 200, "buffer-size": 10_000, "hidden": [32, 32]]
        let atari: [String: Any] = ["steps": 600, "start-steps": 300, "buffer-size": 600, "max-episode-frames": 800,
                                    "eval-every": 300, "eval-episodes": 1, "checkpoint-every": 300, "log-every": 100,
                                    "update-interval": 20, "target-update-interval": 25, "prune-frequency": 10]
        let impala: [String: Any] = atari.merging(["steps": 200, "start-steps": 120, "batch-size": 4, "eval-every": 100,
                                                   "checkpoint-every": 100, "log-every": 40, "update-interval": 5,
                                                   "prune-frequency": 5, "eval-episodes": 1]) { $1 }
        let ppo: [String: Any] = ["steps": 1024, "start-steps": 0, "rollout-steps": 256, "batch-size": 64,
                                  "epochs": 4, "update-interval": 10, "eval-every": 512, "eval-episodes": 1,
                                  "log-every": 256, "checkpoint-every": 512, "hidden": [32, 32]]
        return [
            Case(name: "dense-sac-graesser", preset: "dense-sac-graesser", env: "InvertedPendulum-v5", flags: off),
            Case(name: "dense-td3", preset: "dense-td3", env: "InvertedPendulum-v5", flags: off),
            Case(name: "ss-td3", preset: "ss-td3", env: "InvertedPendulum-v5", flags: off),
            Case(name: "static-dqn", preset: "static-dqn", env: "CartPole-v1", flags: off),
            Case(name: "set-ppo", preset: "set-ppo", env: "InvertedPendulum-v5", flags: ppo),
            Case(name: "dense-ppo", preset: "dense-ppo", env: "InvertedPendulum-v5", flags: ppo),
            Case(name: "rigl-dqn-atari", preset: "rigl-dqn-atari", env: "ALE/Pong-v5", flags: atari),
            Case(name: "prune-dqn-atari", preset: "prune-dqn-atari", env: "ALE/Breakout-v5", flags: atari),
            Case(name: "set-dqn-atari-impala", preset: "set-dqn-atari-impala", env: "ALE/Breakout-v5", flags: impala),
        ]
    }()

    /// `sparrow train` arguments for a case (what recorded the later cases with the old binary).
    static func arguments(_ c: Case) -> [String] {
        ["train", "--preset", c.preset, "--env", c.env] + c.flags.sorted { $0.key < $1.key }.flatMap { key, value -> [String] in
            let text = (value as? [Int]).map { $0.map(String.init).joined(separator: ",") } ?? "\(value)"
            return ["--\(key)", text]
        }
    }

    /// What one run leaves: metrics rows without wall-clock columns, evaluations.csv, and an FNV-1a digest of the
    /// bit patterns of every network's weights and both Adam moments, with each network's live connections.
    struct Outcome: Codable, Equatable {
        var metrics: [String]
        var evaluations: String
        var stateDigest: String
        var liveConnections: [Int]
    }

    struct Fixture: Codable {
        /// The machine numerics the outcomes were recorded with (`numerics`).
        var numerics: String
        var recordedWith: String
        var outcomes: [String: Outcome]
    }

    /// The float-relevant choices of this machine: OpenBLAS's kernel family and the sparse kernels' vector body.
    static var numerics: String {
        let cpu = CPUInfo.current
        return "blas=\(BLASCore.current.inUse) kernels=\(cpu.hasAVX512 ? "avx512" : cpu.hasAVX2FMA ? "avx2" : "portable")"
    }

    static var fixtureURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/method-runs.json")
    }

    func run(_ c: Case) throws -> Outcome {
        let config = try TrainConfig.resolve(preset: c.preset, env: c.env, file: nil, flags: c.flags)
        let dir = temporaryRunDirectory("fixture-\(c.name)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let summary = try makeTrainer(config: config, runDirectory: dir, resume: false).run()
        XCTAssertEqual(summary.outcome, .finished, c.name)
        return try outcome(ofRun: dir)
    }

    /// What a finished run directory holds, as an `Outcome`.
    func outcome(ofRun dir: String) throws -> Outcome {
        let (_, agent) = try TrainingCheckpoint.loadAgent(checkpoint: dir + "/checkpoint.sparrow")
        var hash: UInt64 = 0xcbf29ce484222325
        var live: [Int] = []
        for n in agent.namedNetworks {
            live.append(n.network.layers.reduce(0) { $0 + $1.liveConnections })
            for p in n.network.parameters {
                for v in p.values + p.firstMoment + p.secondMoment {
                    hash = (hash ^ UInt64(v.bitPattern)) &* 0x100000001b3
                }
            }
        }
        return Outcome(metrics: try deterministicMetrics(dir), evaluations: try file(dir, "evaluations.csv"),
                       stateDigest: String(hash, radix: 16), liveConnections: live)
    }

    func testEveryMethodFamilyRunsAsRecordedBeforeTheRefactor() throws {
        if let runs = ProcessInfo.processInfo.environment["SPARROW_RECORD_FROM_RUNS"] {
            // Adds the outcomes of finished run directories `runs/<case name>` (made by an older binary with
            // `arguments(case) + ["--run-dir", …]`) to the fixture, keeping what it holds.
            var fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixtureURL))
            XCTAssertEqual(fixture.numerics, Self.numerics)
            for c in Self.laterCases where FileManager.default.fileExists(atPath: runs + "/" + c.name + "/checkpoint.sparrow") {
                fixture.outcomes[c.name] = try outcome(ofRun: runs + "/" + c.name)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(fixture).write(to: Self.fixtureURL)
            throw XCTSkip("recorded the later cases from \(runs)")
        }
        if ProcessInfo.processInfo.environment["SPARROW_PRINT_FIXTURE_ARGUMENTS"] == "1" {
            for c in Self.laterCases { print("FIXTURE \(c.name) " + Self.arguments(c).joined(separator: " ")) }
            throw XCTSkip("printed")
        }
        if ProcessInfo.processInfo.environment["SPARROW_RECORD_FIXTURES"] == "1" {
            var outcomes: [String: Outcome] = [:]
            for c in Self.cases { outcomes[c.name] = try run(c) }
            let fixture = Fixture(numerics: Self.numerics, recordedWith: CPUInfo.current.summary, outcomes: outcomes)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(fixture).write(to: Self.fixtureURL)
            throw XCTSkip("recorded \(outcomes.count) runs into \(Self.fixtureURL.path)")
        }
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/method-runs.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(Set(fixture.outcomes.keys), Set(Self.cases.map(\.name)), "every case has a recorded outcome")
        guard fixture.numerics == Self.numerics else {
            throw XCTSkip("the fixture was recorded with \(fixture.numerics) (\(fixture.recordedWith)); this machine has \(Self.numerics)")
        }
        for c in Self.cases {
            guard let expected = fixture.outcomes[c.name] else { continue }
            let got = try run(c)
            XCTAssertEqual(got.liveConnections, expected.liveConnections, "\(c.name): live connections")
            XCTAssertEqual(got.evaluations, expected.evaluations, "\(c.name): evaluations")
            XCTAssertEqual(got.metrics.count, expected.metrics.count, "\(c.name): metrics rows")
            if let i = zip(got.metrics, expected.metrics).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                XCTFail("\(c.name) metrics differ at row \(i):\n  \(got.metrics[i])\n  \(expected.metrics[i])")
            }
            XCTAssertEqual(got.stateDigest, expected.stateDigest, "\(c.name): weights and moments")
        }
    }
}
