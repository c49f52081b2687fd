import Agents
import Foundation

/// A training run's settings: the agent's knobs plus the loop's. Encoded flat, with the command-line flag names
/// as keys, so a config file (YAML or JSON), the flags and the run's resolved `config.json` read alike.
public struct TrainConfig: Codable, Equatable, Sendable {
    public var env = "Hopper-v5"
    public var preset = "tows-sac"
    /// Environment steps in total (random start steps included).
    public var steps = 1_000_000
    public var seed: UInt64 = 0
    /// Uniformly random actions for the first N steps; gradient updates start after them (one per env step).
    public var startSteps = 25_000
    public var evalEvery = 5000
    public var evalEpisodes = 10
    public var checkpointEvery = 50_000
    /// Metrics row interval (steps).
    public var logEvery = 1000
    public var agent = AgentConfig()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case env, preset, steps, seed
        case startSteps = "start-steps", evalEvery = "eval-every", evalEpisodes = "eval-episodes"
        case checkpointEvery = "checkpoint-every", logEvery = "log-every"
    }

    /// Every valid key, loop and agent.
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) + AgentConfig.keys }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        env = try c.decode(String.self, forKey: .env)
        preset = try c.decode(String.self, forKey: .preset)
        steps = try c.decode(Int.self, forKey: .steps)
        seed = try c.decode(UInt64.self, forKey: .seed)
        startSteps = try c.decode(Int.self, forKey: .startSteps)
        evalEvery = try c.decode(Int.self, forKey: .evalEvery)
        evalEpisodes = try c.decode(Int.self, forKey: .evalEpisodes)
        checkpointEvery = try c.decode(Int.self, forKey: .checkpointEvery)
        logEvery = try c.decode(Int.self, forKey: .logEvery)
        agent = try AgentConfig(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(env, forKey: .env)
        try c.encode(preset, forKey: .preset)
        try c.encode(steps, forKey: .steps)
        try c.encode(seed, forKey: .seed)
        try c.encode(startSteps, forKey: .startSteps)
        try c.encode(evalEvery, forKey: .evalEvery)
        try c.encode(evalEpisodes, forKey: .evalEpisodes)
        try c.encode(checkpointEvery, forKey: .checkpointEvery)
        try c.encode(logEvery, forKey: .logEvery)
        try agent.encode(to: encoder)
    }

    public func validate() throws {
        guard steps > 0 else { throw ConfigError("steps must be positive, got \(steps)") }
        guard startSteps >= 0 else { throw ConfigError("start-steps must be ≥ 0, got \(startSteps)") }
        guard startSteps < steps else {
            throw ConfigError("start-steps (\(startSteps)) must be below steps (\(steps)): no training would happen")
        }
        guard evalEvery > 0 else { throw ConfigError("eval-every must be positive, got \(evalEvery)") }
        guard evalEpisodes > 0 else { throw ConfigError("eval-episodes must be positive, got \(evalEpisodes)") }
        guard checkpointEvery > 0 else { throw ConfigError("checkpoint-every must be positive, got \(checkpointEvery)") }
        guard logEvery > 0 else { throw ConfigError("log-every must be positive, got \(logEvery)") }
        try agent.validate()
    }

    /// Gradient updates the run performs.
    public var totalUpdates: Int { steps - startSteps }

    /// Pretty, key-sorted JSON (the run directory's `config.json`).
    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self) + "\n"
    }

    // MARK: resolution: preset ← config file ← flags

    /// Resolves a run's config: the preset's values for the env, overridden by a config file's keys, overridden by
    /// command-line values. Unknown keys and wrong types are one-line errors naming the key.
    public static func resolve(preset flagPreset: String?, env flagEnv: String?, file: [String: Any]?,
                               flags: [String: Any]) throws -> TrainConfig {
        // A run's own config.json works as a config file: its machine record is not a setting.
        let file = file?.filter { $0.key != metadataKey }
        if let file {
            let valid = Set(keys)
            if let bad = file.keys.sorted().first(where: { !valid.contains($0) }) {
                throw ConfigError("unknown key '\(bad)' in the config file; valid keys: \(keys.joined(separator: ", "))")
            }
        }
        let presetName = flagPreset ?? (file?["preset"] as? String) ?? "tows-sac"
        let envName = flagEnv ?? (file?["env"] as? String) ?? "Hopper-v5"
        var base = try Presets.config(named: presetName, env: envName)
        base.preset = presetName
        base.env = envName
        var merged = try JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as! [String: Any]
        for (k, v) in file ?? [:] { merged[k] = v }
        for (k, v) in flags { merged[k] = v }
        merged["preset"] = presetName
        merged["env"] = envName
        // JSON has no NaN or infinity: refuse them by name here, before Foundation's writer fails with its own text.
        for key in merged.keys.sorted() {
            let values: [Double] = (merged[key] as? [Double]) ?? ((merged[key] as? Double).map { [$0] } ?? [])
            if let bad = values.first(where: { !$0.isFinite }) { throw ConfigError("\(key) must be finite, got \(bad)") }
        }
        let data = try JSONSerialization.data(withJSONObject: merged)
        let config: TrainConfig
        do { config = try JSONDecoder().decode(TrainConfig.self, from: data) } catch let DecodingError.typeMismatch(_, ctx) {
            throw ConfigError("config key '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch let DecodingError.dataCorrupted(ctx) {
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ConfigError("config key '\(key)' has an invalid value\(validChoices(for: key))")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw ConfigError("config key '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' is missing a value")
        }
        try config.validate()
        return config
    }

    static func validChoices(for key: String) -> String {
        let choices: [String: [String]] = [
            "algorithm": AgentConfig.Algorithm.allCases.map(\.rawValue),
            "method": AgentConfig.Method.allCases.map(\.rawValue),
            "distribution": AgentConfig.Distribution.allCases.map(\.rawValue),
            "activation": AgentConfig.ActivationName.allCases.map(\.rawValue),
            "init": AgentConfig.InitName.allCases.map(\.rawValue),
            "grow-init": AgentConfig.InitName.allCases.map(\.rawValue),
            "drop": AgentConfig.DropName.allCases.map(\.rawValue),
            "grow": AgentConfig.GrowName.allCases.map(\.rawValue),
            "drop-schedule": AgentConfig.DropSchedule.allCases.map(\.rawValue),
            "target-topology": AgentConfig.TargetTopology.allCases.map(\.rawValue),
            "log-std-bounding": AgentConfig.LogStdBoundingName.allCases.map(\.rawValue),
            "backend": ["sparse", "masked", "dense"], "moments": ["masked", "unmasked"],
        ]
        return choices[key].map { "; valid: \($0.joined(separator: ", "))" } ?? ""
    }
}
