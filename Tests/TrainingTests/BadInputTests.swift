import Foundation
import Agents
import SparrowCore
import XCTest
@testable import Training

final class BadInputTests: XCTestCase {
    func assertConfigError(_ body: @autoclosure () throws -> Any, _ fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(fragment), "'\(fragment)' not in: \(text)", line: line)
            XCTAssertFalse(text.contains("\n"), "one line expected: \(text)", line: line)
        }
    }

    func testConfigResolutionErrorsNameTheProblem() throws {
        assertConfigError(try TrainConfig.resolve(preset: "tows-sax", env: nil, file: nil, flags: [:]),
                          "unknown preset 'tows-sax'; valid: dense-sac, dense-sac-graesser, dense-td3")
        assertConfigError(try TrainConfig.resolve(preset: nil, env: "Hoper-v5", file: nil, flags: [:]),
                          "unknown environment 'Hoper-v5'; valid: Hopper-v5")
        assertConfigError(try TrainConfig.resolve(preset: nil, env: "Hoper-v5", file: nil, flags: [:]), "; did you mean Hopper-v5?")
        assertConfigError(try TrainConfig.resolve(preset: nil, env: "walker", file: nil, flags: [:]), "; did you mean Walker2d-v5?")
        assertConfigError(try TrainConfig.resolve(preset: "tows-sax", env: nil, file: nil, flags: [:]), "; did you mean tows-sac?")
        let huge = String(repeating: "x", count: 100_000)
        assertConfigError(try TrainConfig.resolve(preset: nil, env: huge, file: nil, flags: [:]), "unknown environment 'xxxxxxxx")
        XCTAssertThrowsError(try TrainConfig.resolve(preset: nil, env: huge, file: nil, flags: [:])) {
            XCTAssertLessThan("\($0)".count, 1000, "a long value is not echoed whole")
        }
        assertConfigError(try smallConfig("tows-sac", ["sparsity": 1.0]), "sparsity must be in [0, 1), got 1.0")
        assertConfigError(try smallConfig("tows-sac", ["sparsity": -0.1]), "sparsity must be in [0, 1)")
        assertConfigError(try smallConfig("tows-sac", ["steps": 0]), "steps must be positive, got 0")
        assertConfigError(try smallConfig("tows-sac", ["steps": 400]), "start-steps (500) must be below steps (400)")
        assertConfigError(try smallConfig("tows-sac", ["method": "magic"]),
                          "config key 'method' has an invalid value; valid: dense, static, ds, tows, set, rigl, prune")
        assertConfigError(try smallConfig("tows-sac", ["batch-size": "big"]), "config key 'batch-size' has the wrong type")
        assertConfigError(try TrainConfig.resolve(preset: nil, env: nil, file: ["stepz": 3], flags: [:]),
                          "unknown key 'stepz' in the config file (did you mean 'steps'?); valid keys: env, preset, steps")
        // Programmatic settings (a sweep's grid, the bench's flags) are held to the same keys: a misspelt one is refused.
        assertConfigError(try smallConfig("tows-sac", ["critic-l": 1e-3]),
                          "unknown key 'critic-l' in the settings (did you mean 'critic-lr'?); valid keys: env, preset, steps")
        assertConfigError(try smallConfig("tows-sac", ["zzzzzzzz": 1]), "unknown key 'zzzzzzzz' in the settings; valid keys: env")
        assertConfigError(try smallConfig("dense-sac", ["sparsity": 0.5]), "method dense takes no sparsity")
        // A flag combination may not turn one method into another under its name.
        assertConfigError(try smallConfig("set-sac", ["grow": "gradient"]), "method set grows connections at random; gradient growth is method rigl")
        assertConfigError(try smallConfig("rigl-sac", ["grow": "random"]), "method rigl grows connections by gradient; random growth is method set")
        XCTAssertEqual(try smallConfig("tows-sac", ["grow": "gradient"]).agent.grow, .gradient, "TowS with RigL's growth stays an ablation")
        assertConfigError(try smallConfig("tows-sac", ["actor-lr": Double.nan]), "actor-lr must be finite, got nan")
        assertConfigError(try smallConfig("tows-sac", ["tau": Double.infinity]), "tau must be finite, got inf")
        assertConfigError(try smallConfig("tows-sac", ["er-epsilon": [1.0, -Double.infinity]]), "er-epsilon must be finite, got -inf")
    }

    /// An algorithm that does not fit the env's actions is one line naming what fits, from the preset or from an
    /// `--algorithm` override, before any run directory is made.
    func testAlgorithmAndActionSpaceMismatchesNameWhatFits() throws {
        assertConfigError(try smallConfig("tows-sac", env: "CartPole-v1"),
                          "preset tows-sac: CartPole-v1 has discrete actions and algorithm sac needs continuous ones; presets for CartPole-v1: dense-dqn, static-dqn, set-dqn, rigl-dqn, prune-dqn")
        assertConfigError(try smallConfig("dense-dqn", env: "Hopper-v5"),
                          "preset dense-dqn: Hopper-v5 has continuous (box) actions and algorithm dqn needs discrete ones; presets for Hopper-v5: dense-sac")
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sacOnCartPole = try smallConfig("dense-dqn", env: "CartPole-v1", ["algorithm": "sac"])
        assertConfigError(try OffPolicyTrainer(config: sacOnCartPole, runDirectory: dir, resume: false),
                          "CartPole-v1 has discrete actions and algorithm sac needs continuous ones")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "nothing was written")
        assertConfigError(try smallConfig("set-ppo", env: "CartPole-v1", ["start-steps": 0]),
                          "preset set-ppo: CartPole-v1 has discrete actions and algorithm ppo needs continuous ones")
    }

    /// PPO's own rules: no random start steps, a rollout that fits in the run and splits into minibatches.
    func testPPOSettingsErrorsNameTheValue() throws {
        assertConfigError(try smallConfig("dense-ppo", ["start-steps": 1000]),
                          "start-steps (1000) is for off-policy algorithms; ppo acts with its policy from the first step: use 0")
        assertConfigError(try smallConfig("dense-ppo", ["start-steps": 0, "steps": 1000]),
                          "rollout-steps (2048) must not exceed steps (1000)")
        assertConfigError(try smallConfig("dense-ppo", ["start-steps": 0, "batch-size": 100]),
                          "rollout-steps (2048) must be a multiple of batch-size (100)")
    }

    func testConfigFileAndFlagsOverrideThePresetInOrder() throws {
        let c = try TrainConfig.resolve(preset: nil, env: nil, file: ["preset": "ds-td3", "env": "ant", "batch-size": 64, "steps": 50000],
                                        flags: ["batch-size": 32])
        XCTAssertEqual(c.preset, "ds-td3")
        XCTAssertEqual(c.env, "ant")
        XCTAssertEqual(c.agent.batchSize, 32)          // flag beats file
        XCTAssertEqual(c.steps, 50000)                 // file beats preset
        XCTAssertEqual(c.agent.erEpsilon, [40, 64])    // preset's per-env λ for Ant
        XCTAssertEqual(c.agent.algorithm, .td3)
        // The resolved config round-trips through its own JSON.
        let back = try JSONDecoder().decode(TrainConfig.self, from: Data(try c.json().utf8))
        XCTAssertEqual(back, c)
    }

    func testEveryPresetResolvesAndBuildsItsAgent() throws {
        for name in Presets.names {
            let algorithm = Presets.algorithm(ofPreset: name)
            let discrete = algorithm?.actsDiscretely ?? false, onPolicy = algorithm?.isOnPolicy ?? false
            // PPO: two rollouts of 256 steps, no random start steps.
            // Atari presets: a short Breakout run (the Nature CNN on frames, a small frame memory); the Impala network,
            // 13× the Nature CNN's work per sample, for ten updates at batch 4.
            let impala = name.hasSuffix("-atari-impala"), atari = name.hasSuffix("-atari") || impala
            let flags: [String: Any] = onPolicy ? ["steps": 512, "start-steps": 0, "rollout-steps": 256]
                : impala ? ["steps": 160, "start-steps": 120, "buffer-size": 200, "max-episode-frames": 400, "batch-size": 4]
                : atari ? ["steps": 600, "start-steps": 300, "buffer-size": 600, "max-episode-frames": 800] : ["steps": 600]
            let c = try smallConfig(name, env: atari ? "ALE/Breakout-v5" : discrete ? "CartPole-v1" : "Hopper-v5", flags)
            let dir = temporaryRunDirectory("preset\(name)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let t = try makeTrainer(config: c, runDirectory: dir, resume: false)
            XCTAssertEqual(try t.run().outcome, .finished, name)
            // Pruning methods start dense and have not begun pruning after 600 steps.
            let sparsity = c.agent.method.declaration.start != .sparse ? 0.0 : c.agent.sparsity
            if c.agent.method != .ds {
                XCTAssertEqual(t.trainedAgent.namedNetworks.count >= (discrete || onPolicy ? 2 : 5), true)
                let actor = t.trainedAgent.namedNetworks[0].network
                let s = 1 - Double(actor.layers.reduce(0) { $0 + $1.liveConnections }) / Double(actor.layers.reduce(0) { $0 + $1.shape.count })
                XCTAssertEqual(s, sparsity, accuracy: 0.02, "\(name) actor sparsity")
            }
        }
    }

    func checkpointRejection(_ mutate: (inout [UInt8]) -> Void, _ fragment: String, line: UInt = #line) throws {
        let config = try smallConfig("tows-sac", ["steps": 700])
        let dir = temporaryRunDirectory("reject\(line)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try OffPolicyTrainer(config: config, runDirectory: dir, resume: false).run()
        let path = dir + "/checkpoint.sparrow"
        var bytes = try AtomicFile.read(path)
        mutate(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try OffPolicyTrainer(config: config, runDirectory: dir, resume: true), line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "'\(fragment)' not in \(error)", line: line)
            XCTAssertFalse("\(error)".contains("\n"), line: line)
        }
        XCTAssertEqual(try AtomicFile.read(path), bytes, "the checkpoint must be left as it was", line: line)
        XCTAssertThrowsError(try TrainingCheckpoint.loadAgent(checkpoint: path), line: line)
    }

    func testCorruptTruncatedAndForeignCheckpointsAreRejectedAndLeftAlone() throws {
        try checkpointRejection({ $0.removeLast($0.count / 2) }, "truncated")
        try checkpointRejection({ $0[$0.count - 100] ^= 0x55 }, "checksum mismatch")
        try checkpointRejection({ $0[8] = 99 }, "format version 99 is not supported")
        try checkpointRejection({ $0[0] = 0x41 }, "not a Sparrow checkpoint")
    }

    func testCheckpointOfAnotherEnvOrAlgorithmIsRejected() throws {
        let config = try smallConfig("tows-sac", ["steps": 700])
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try OffPolicyTrainer(config: config, runDirectory: dir, resume: false).run()
        let before = try AtomicFile.read(dir + "/checkpoint.sparrow")
        var otherEnv = config; otherEnv.env = "Hopper-v5"
        XCTAssertThrowsError(try OffPolicyTrainer(config: otherEnv, runDirectory: dir, resume: true)) {
            XCTAssertTrue("\($0)".contains("is for env InvertedPendulum-v5, not Hopper-v5"), "\($0)")
        }
        let td3 = try smallConfig("tows-td3", ["steps": 700])
        XCTAssertThrowsError(try OffPolicyTrainer(config: td3, runDirectory: dir, resume: true)) {
            XCTAssertTrue("\($0)".contains("is for algorithm sac, not td3"), "\($0)")
        }
        var other = config; other.agent.batchSize = 7
        XCTAssertThrowsError(try OffPolicyTrainer(config: other, runDirectory: dir, resume: true)) {
            XCTAssertTrue("\($0)".contains("batch-size"), "\($0)")
        }
        XCTAssertThrowsError(try OffPolicyTrainer(config: config, runDirectory: dir, resume: false)) {
            XCTAssertTrue("\($0)".contains("already holds a run"), "\($0)")
        }
        XCTAssertEqual(try AtomicFile.read(dir + "/checkpoint.sparrow"), before)
    }

    /// A loss that overflows stops the run naming the step and the network; the last checkpoint stays good.
    func testNonFiniteLossStopsTheRunAndKeepsTheLastCheckpoint() throws {
        let config = try smallConfig("dense-sac", ["steps": 2000, "checkpoint-every": 100, "reward-scale": 1e38])
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try OffPolicyTrainer(config: config, runDirectory: dir, resume: false).run()) { error in
            XCTAssertTrue("\(error)".contains("step 501"), "\(error)")
            XCTAssertTrue("\(error)".contains("critic1 loss became"), "\(error)")
        }
        let (saved, _) = try CheckpointFile.read(dir + "/checkpoint.sparrow")
        XCTAssertEqual(saved, config)
        let resumed = try OffPolicyTrainer(config: config, runDirectory: dir, resume: true)
        XCTAssertEqual(resumed.step, 500)  // the checkpoint before the first update
    }

    /// File-system failures read as the path and the reason in words, whatever Foundation wrapped them in.
    func testFileSystemErrorsAreThePathAndTheReason() throws {
        let full = NSError(domain: NSCocoaErrorDomain, code: NSFileWriteOutOfSpaceError,
                           userInfo: [NSFilePathErrorKey: "/runs/a/metrics.csv",
                                      NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC))])
        XCTAssertEqual(ErrorText.describe(full), "/runs/a/metrics.csv: no space left on device")
        let exists = NSError(domain: NSCocoaErrorDomain, code: NSFileWriteFileExistsError, userInfo: [NSFilePathErrorKey: "afile"])
        XCTAssertEqual(ErrorText.describe(exists), "afile: a file or folder of that name already exists")
        XCTAssertEqual(ErrorText.describe(NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES))), "permission denied")
        // A real one: a folder inside a file.
        let file = NSTemporaryDirectory() + "sparrow-errortext-\(getpid())"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: file) }
        XCTAssertThrowsError(try FileManager.default.createDirectory(atPath: file + "/x", withIntermediateDirectories: true)) {
            let text = ErrorText.describe($0)
            XCTAssertFalse(text.contains("Domain=") || text.contains("UserInfo"), text)
            XCTAssertTrue(text.contains(file), text)
        }
        XCTAssertEqual(ErrorText.describe(ConfigError("own words")), "own words")
    }
}
