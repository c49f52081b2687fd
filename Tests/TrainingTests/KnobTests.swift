import Agents
import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Training

/// The knob lists are the one declaration of every setting: every property is in them, their Codable form is the
/// one config files and run directories already hold, and their spellings are the flags users already type.
final class KnobTests: XCTestCase {
    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/configs-before-knobs") }

    func testEveryPropertyIsAKnobAndKeysAreUnique() {
        XCTAssertEqual(Mirror(reflecting: AgentConfig()).children.count, AgentConfig.knobs.count,
                       "every AgentConfig property is declared in AgentConfig.sections")
        XCTAssertEqual(Mirror(reflecting: TrainConfig()).children.count - 1 + AgentConfig.knobs.count, TrainConfig.knobs.count,
                       "every TrainConfig property (agent aside) is declared in TrainConfig.sections")
        XCTAssertEqual(Set(TrainConfig.keys).count, TrainConfig.keys.count, "keys are unique")
        // A knob writes its own property: changing each one alone changes the encoding at exactly its key.
        let base = try! JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainConfig())) as! [String: Any]
        XCTAssertEqual(Set(base.keys), Set(TrainConfig.keys).subtracting(["actor-sparsity", "critic-sparsity", "actor-critic-ratio",
                                                                             "update-stop", "target-entropy",
                                                                             "value-activation", "params-like", "reward-clip", "eval-steps",
                                                                             "epsilon-decay-steps", "noop-max",
                                                                             "repeat-action-probability", "max-episode-frames",
                                                                             "terminal-on-life-loss", "full-action-space"]),
                       "optional knobs that are unset write no key")
    }

    /// config.json files written before the knob lists (by commit 8e1787c, one per preset of that time) read into the
    /// same settings the presets give today, and write back the same JSON plus only the keys of knobs added since
    /// (DQN's and PPO's), at their defaults.
    func testConfigFilesFromBeforeReadAndWriteTheSame() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(files.count, 11, "the presets of commit 8e1787c")
        let added: Set<String> = ["td-loss", "epsilon-start", "epsilon-final", "epsilon-decay",
                                  "rollout-steps", "epochs", "gae-lambda", "clip-ratio", "value-coef", "entropy-coef",
                                  "max-grad-norm", "lr-decay", "normalize-observations", "normalize-rewards", "init-std",
                                  "noise-features", "log-snr-every", "log-dormant-every", "dormant-tau", "redo-every", "redo-tau",
                                  "decay-biases", "target-entropy-per-action", "layer-sparsity", "noise-features-mode",
                                  "network", "update-every", "eval-epsilon", "checkpoint-minutes", "dense-path"]
        for file in files {
            let data = try Data(contentsOf: fixtures.appendingPathComponent(file))
            let old = try JSONSerialization.jsonObject(with: data) as! NSDictionary
            let config = try JSONDecoder().decode(TrainConfig.self, from: data)
            XCTAssertTrue(Presets.names.contains(config.preset), file)
            let again = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
            XCTAssertEqual(NSDictionary(dictionary: again.filter { old[$0.key] != nil }), old, "\(file) writes back the same keys and values")
            XCTAssertEqual(Set(again.keys).subtracting(old.allKeys as! [String]), added, "\(file): only the knobs added since are new")
            // The preset with the few flags the fixture run was given resolves to exactly the stored settings.
            let flags = (old as! [String: Any]).filter { ["steps", "start-steps", "eval-every", "eval-episodes", "batch-size", "hidden"].contains($0.key) }
            let resolved = try TrainConfig.resolve(preset: config.preset, env: config.env, file: nil, flags: flags)
            var expected = config
            if ["set-sac", "rigl-sac", "prune-sac"].contains(config.preset) {
                // Issue 24 changed exactly these of Graesser's SAC presets: Keras L2 on kernels only (2·l2, dense and
                // pruning 1e-4, static/SET/RigL 1e-6) and TF-Agents' target entropy −|A|/2.
                XCTAssertEqual(expected.agent.weightDecay, 1e-6, file)
                XCTAssertTrue(expected.agent.decayBiases, "\(file): an old file keeps decaying biases")
                XCTAssertEqual(expected.agent.targetEntropyPerAction, -1, "\(file): an old file keeps −|A|")
                expected.agent.weightDecay = config.preset == "prune-sac" ? 2e-4 : 2e-6
                expected.agent.decayBiases = false
                expected.agent.targetEntropyPerAction = -0.5
            }
            XCTAssertEqual(resolved, expected, "\(file): the preset resolves as before (issue 24's changes aside)")
        }
    }

    func testAbsentKeysKeepDefaultsAndUnsetOptionalsStayUnset() throws {
        let config = try JSONDecoder().decode(TrainConfig.self, from: Data(#"{"steps": 77, "drop": "signed"}"#.utf8))
        var expected = TrainConfig()
        expected.steps = 77
        expected.agent.drop = .signedMagnitude
        XCTAssertEqual(config, expected)
        XCTAssertThrowsError(try JSONDecoder().decode(TrainConfig.self, from: Data(#"{"drop": "smallest"}"#.utf8)))
    }

    /// The spellings users type (flags, config files, sweeps) are a contract.
    func testChoiceSpellingsAreTheDocumentedOnes() {
        XCTAssertEqual(WeightInit.spellings, ["pytorch", "xavier", "sparsity-aware", "zero", "he-truncated-normal", "orthogonal"])
        XCTAssertEqual(DropCriterion.spellings, ["magnitude", "signed", "magnitude-threshold"])
        XCTAssertEqual(GrowCriterion.spellings, ["random", "gradient"])
        XCTAssertEqual(TargetTopology.spellings, ["copy", "maintain"])
        XCTAssertEqual(LayerBackend.spellings, ["dense", "sparse", "masked"])
        XCTAssertEqual(MomentPolicy.spellings, ["masked", "unmasked"])
        XCTAssertEqual(AgentConfig.Distribution.spellings, ["uniform", "er", "erk", "er-epsilon", "per-layer"])
        XCTAssertEqual(AgentConfig.Method.spellings, SparseMethods.registry.map(\.method.rawValue))  // the registry is the list
        XCTAssertEqual(TrainConfig.knob("init")?.choices, WeightInit.spellings)
        XCTAssertNil(TrainConfig.knob("steps")?.choices)
    }

    func testFlagTextParsesToTheConfigFileValue() throws {
        func parse(_ key: String, _ text: String) throws -> Any { try TrainConfig.knob(key)!.parse(text) }
        XCTAssertEqual(try parse("batch-size", "128") as? Int, 128)
        XCTAssertEqual(try parse("hidden", "64, 32") as? [Int], [64, 32])
        XCTAssertEqual(try parse("er-epsilon", "7,64.5") as? [Double], [7, 64.5])
        XCTAssertEqual(try parse("update-stop", "0.5") as? Double, 0.5)
        XCTAssertEqual(try parse("grow-init", "sparsity-aware") as? String, "sparsity-aware")
        XCTAssertEqual(try parse("seed", "18446744073709551615") as? UInt64, .max)
        for (key, text, message) in [("batch-size", "1.5", "--batch-size takes <int>, got '1.5'"),
                                     ("hidden", "", "--hidden takes <int,…>, got ''"),
                                     ("drop", "largest", "--drop takes one of magnitude, signed, magnitude-threshold, got 'largest'"),
                                     ("tau", "inf", "tau must be finite, got inf"),
                                     ("er-epsilon", "1,nan", "er-epsilon must be finite, got nan")] {
            XCTAssertThrowsError(try parse(key, text)) { XCTAssertEqual("\($0)", message) }
        }
    }

    func testRangesComeFromTheDeclarations() {
        func problem(_ edit: (inout TrainConfig) -> Void) -> String? {
            var c = TrainConfig()
            c.startSteps = 0
            edit(&c)
            do { try c.validate(); return nil } catch { return "\(error)" }
        }
        XCTAssertNil(problem { _ in })
        XCTAssertEqual(problem { $0.agent.batchSize = 0 }, "batch-size must be positive, got 0")
        XCTAssertEqual(problem { $0.agent.tau = 0 }, "tau must be in (0, 1], got 0.0")
        XCTAssertEqual(problem { $0.agent.updateStop = 1.5 }, "update-stop must be in [0, 1], got 1.5")
        XCTAssertEqual(problem { $0.agent.actorSparsity = 1 }, "actor-sparsity must be in [0, 1), got 1.0")
        XCTAssertEqual(problem { $0.agent.hidden = [64, 0] }, "hidden must list positive widths, got 64,0")
        XCTAssertEqual(problem { $0.evalEvery = -1 }, "eval-every must be positive, got -1")
        XCTAssertEqual(problem { $0.agent.method = .prune; $0.agent.distribution = .erEpsilon },
                       "method prune spreads its final sparsity by uniform, er or erk; er-epsilon fixes densities instead")
    }
}
