import Agents
import Environments
import Foundation
import NeuralNet
import SparrowCore

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
    /// Dopamine's evaluation phase: whole episodes until at least this many steps (nil: `evalEpisodes` episodes).
    public var evalSteps: Int? = nil
    public var checkpointEvery = 50_000
    /// Also a checkpoint once this many minutes of wall time have passed since the last one (0: by steps only), so a
    /// run killed without warning (a node failure, the OOM killer, a machine taken back) loses at most this much
    /// work even where `checkpointEvery` steps take hours (an Atari iteration is 250k steps, 1–2 h on one core).
    /// A checkpoint changes no number of the run (exact resume), so when it is written does not matter.
    public var checkpointMinutes: Double = 30
    /// Metrics row interval (steps).
    public var logEvery = 1000
    /// Fraction of each observation that is i.i.d. N(0, 1) noise features (Grooten et al.'s ANF; 0 = none).
    public var noiseFeatures: Double = 0
    /// Where the noise features come from (issue 24, finding 4).
    public var noiseFeaturesMode: NoiseFeaturesMode = .environment
    /// How truly sparse layers choose between their kernels and sgemm (`DensePath.Mode`; default the fixed rule).
    public var densePath: DensePath.Mode = .rule
    public var agent = AgentConfig()
    /// Atari settings (ALE/… envs only; nil: Gymnasium's v5 + AtariPreprocessing defaults, `AtariOptions`).
    public var noopMax: Int? = nil
    public var repeatActionProbability: Double? = nil
    public var maxEpisodeFrames: Int? = nil
    public var terminalOnLifeLoss: Bool? = nil
    public var fullActionSpace: Bool? = nil

    /// `environment`: the environment appends them at every step, so they are stored in the replay buffer and
    /// replayed unchanged (Sparrow's first reading of ANF). `network`: the agent draws them afresh for every forward
    /// pass of every network and stores only real observations, as ANF's code does (SAC and TD3).
    public enum NoiseFeaturesMode: String, Codable, CaseIterable, Sendable, NamedChoice, KnobValue {
        case environment, network
    }

    public init() {}

    /// The loop's knobs, then the agent's (see `Knob`): the flags of `sparrow train`, the config-file keys and the
    /// keys of a run's `config.json`. `env` and `preset` are keys too, but the command line gives them their own
    /// options (they choose the preset that the other values start from).
    public static let sections: [KnobSection<TrainConfig>] =
        [run, atari] + AgentConfig.sections.map { $0.lifted(through: \TrainConfig.agent) }

    /// The Atari environment's knobs (the flags of `sparrow rollout` for Atari, by the same names).
    static let atari = KnobSection<TrainConfig>("Atari (ALE/<Game>-v5; default: Gymnasium's v5 under AtariPreprocessing)", [
        Knob("noop-max", \.noopMax, "Up to this many no-ops at reset (default 30; Dopamine: 0).", valid: .ifSet(.nonNegative)),
        Knob("repeat-action-probability", \.repeatActionProbability, "Sticky-action probability (default 0.25).",
             valid: .ifSet(.unitClosed)),
        Knob("max-episode-frames", \.maxEpisodeFrames, "Truncate episodes at this many emulator frames (default 108000; 0: none).",
             valid: .ifSet(.nonNegative)),
        Knob("terminal-on-life-loss", \.terminalOnLifeLoss, "End episodes (terminated) when a life is lost (default off)."),
        Knob("full-action-space", \.fullActionSpace, "All 18 actions instead of the game's minimal set (default off)."),
    ])

    /// The Atari options of the run: `AtariOptions`' defaults overridden by the knobs that are set.
    public var atariOptions: AtariOptions {
        var o = AtariOptions()
        if let v = noopMax { o.noopMax = v }
        if let v = repeatActionProbability { o.repeatActionProbability = v }
        if let v = maxEpisodeFrames { o.maxEpisodeFrames = v }
        if let v = terminalOnLifeLoss { o.terminalOnLifeLoss = v }
        if let v = fullActionSpace { o.fullActionSpace = v }
        return o
    }

    /// The loop's own knobs.
    static let run = KnobSection<TrainConfig>("Run", [
        Knob("env", \.env, "Environment."),
        Knob("preset", \.preset, "Preset."),
        Knob("steps", \.steps, "Environment steps in total (random start steps included).", valid: .positive),
        Knob("seed", \.seed, "Seed (fixes networks, exploration, environments)."),
        Knob("start-steps", \.startSteps, "Random-action steps before learning.", valid: .nonNegative),
        Knob("eval-every", \.evalEvery, "Steps between evaluations.", valid: .positive),
        Knob("eval-episodes", \.evalEpisodes, "Episodes per evaluation.", valid: .positive),
        Knob("eval-steps", \.evalSteps, "Evaluate whole episodes until at least this many steps instead (Dopamine's evaluation phase: 125000).",
             valid: .ifSet(.positive)),
        Knob("checkpoint-every", \.checkpointEvery, "Steps between checkpoints.", valid: .positive),
        Knob("checkpoint-minutes", \.checkpointMinutes,
             "Also checkpoint once this many minutes of wall time have passed since the last checkpoint (0: by steps only).",
             valid: .nonNegative),
        Knob("log-every", \.logEvery, "Steps between metrics rows.", valid: .positive),
        Knob("noise-features", \.noiseFeatures, "Fraction of the observation made of N(0,1) noise features (ANF; at most 0.99).",
             valid: .range(0, 0.99)),
        Knob("dense-path", \.densePath,
             "When a truly sparse layer runs its products as sgemm on its densified weights (storage stays sparse): rule: at least 55% live and both fans at least 64, the same on every machine; timed: from this machine's timings per layer shape and density, cached and recorded in the run (dense-path.json); off: never."),
        Knob("noise-features-mode", \.noiseFeaturesMode,
             "environment: appended by the environment, stored and replayed; network: drawn afresh at every forward pass, only real observations stored (ANF's code; sac and td3)."),
    ])

    public static let knobs: [Knob<TrainConfig>] = sections.flatMap(\.knobs)
    static let knobsByKey: [String: Knob<TrainConfig>] = Dictionary(uniqueKeysWithValues: knobs.map { ($0.key, $0) })

    /// The knob with this key, if any.
    public static func knob(_ key: String) -> Knob<TrainConfig>? { knobsByKey[key] }

    /// Every valid key, loop and agent.
    public static var keys: [String] { knobs.map(\.key) }

    public init(from decoder: Decoder) throws { self = try KnobCoding.decode(Self.knobs, from: decoder, defaults: TrainConfig()) }
    public func encode(to encoder: Encoder) throws { try KnobCoding.encode(Self.knobs, self, to: encoder) }

    /// The loop's ranges and rules, then the agent's (`AgentConfig.validate`, which checks its own knobs).
    public func validate() throws {
        for knob in Self.run.knobs + Self.atari.knobs { try knob.validate(self) }
        let isAtari: Bool
        if case .atari? = try? TaskID(name: env) { isAtari = true } else { isAtari = false }
        if !isAtari, let set = Self.atari.knobs.first(where: { $0.value(in: self) != nil }) {
            throw ConfigError("\(set.key) is an Atari setting; env \(env) is not an ALE/<Game>-v5 game")
        }
        if isAtari {
            guard agent.network.readsFrames else {
                throw ConfigError("\(env) trains DQN's convolutional Q network: use a *-dqn-atari preset or --network nature-cnn or impala (got network \(agent.network.rawValue))")
            }
            guard noiseFeatures == 0 else { throw ConfigError("noise-features is for vector observations; \(env) observes frames") }
        } else if agent.network.readsFrames {
            throw ConfigError("network \(agent.network.rawValue) reads stacked Atari frames; env \(env) is not an ALE/<Game>-v5 game")
        }
        guard startSteps < steps else {
            throw ConfigError("start-steps (\(startSteps)) must be below steps (\(steps)): no training would happen")
        }
        if noiseFeaturesMode == .network, noiseFeatures > 0, !agent.algorithm.declaration.drawsNoiseFeatures {
            throw ConfigError("noise-features-mode network draws noise features in the networks of sac and td3 (ANF); \(agent.algorithm.rawValue) takes them from the environment: use noise-features-mode environment")
        }
        if agent.algorithm.isOnPolicy {
            guard startSteps == 0 else {
                throw ConfigError("start-steps (\(startSteps)) is for off-policy algorithms; \(agent.algorithm.rawValue) acts with its policy from the first step: use 0")
            }
            guard agent.rolloutSteps <= steps else {
                throw ConfigError("rollout-steps (\(agent.rolloutSteps)) must not exceed steps (\(steps)): no iteration would finish")
            }
        }
        try agent.validate()
    }

    /// The run's environment (`env`; with `noise-features`, wrapped in `NoiseFeaturesEnvironment`), seeded.
    /// Everything that trains, evaluates, resumes or exports a run builds its environment here.
    public func makeEnvironment(seed: UInt64 = 0) throws -> any TrainingEnvironment {
        if case .atari(let game)? = try? TaskID(name: env) {
            do { return try AtariEnv(game, options: atariOptions, seed: seed) } catch let e as EnvironmentError {
                throw ConfigError("\(e)")
            }
        }
        let base = try makeTrainingEnvironment(env, seed: seed)
        return noiseFeatures > 0 && noiseFeaturesMode == .environment
            ? NoiseFeaturesEnvironment(base, fraction: noiseFeatures, seed: seed) : base
    }

    /// Noise features the agent draws itself for an environment with `realFeatures` observation features (mode
    /// `network`; 0 otherwise): as many as the environment would append.
    public func agentNoiseInputs(realFeatures: Int) -> Int {
        noiseFeatures > 0 && noiseFeaturesMode == .network
            ? NoiseFeaturesEnvironment.count(realFeatures: realFeatures, fraction: noiseFeatures) : 0
    }

    /// Gradient updates the run performs: one per `update-every` env steps after the start steps (off-policy: at
    /// the steps s > start-steps that are multiples of it), or per minibatch of every epoch of every full rollout
    /// (on-policy; a partial last rollout is collected but not learned from).
    public var totalUpdates: Int {
        guard agent.algorithm.isOnPolicy else {
            let u = max(agent.updateEvery, 1)
            return steps / u - startSteps / u
        }
        return iterations * agent.updatesPerIteration
    }

    /// On-policy iterations (full rollouts) in the run.
    public var iterations: Int { steps / max(agent.rolloutSteps, 1) }

    /// Pretty, key-sorted JSON (the run directory's `config.json`).
    public func json() throws -> String { try PrettyJSON.string(self) }

    // MARK: resolution: preset ← config file ← flags

    /// Resolves a run's config: the preset's values for the env, overridden by a config file's keys, overridden by
    /// command-line values. Unknown keys and wrong types are one-line errors naming the key.
    public static func resolve(preset flagPreset: String?, env flagEnv: String?, file: [String: Any]?,
                               flags: [String: Any]) throws -> TrainConfig {
        // A run's own config.json works as a config file: its machine record is not a setting.
        let file = file?.filter { $0.key != metadataKey }
        // Every key a caller gives is one of the knobs: a misspelt one is refused, never silently dropped.
        let valid = Set(keys)
        for (source, given) in [("the config file", file ?? [:]), ("the settings", flags)] {
            if let bad = given.keys.sorted().first(where: { !valid.contains($0) }) {
                let near = NearMiss.closest(to: bad, among: keys).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigError("unknown key '\(NearMiss.shown(bad))' in \(source)\(near); valid keys: \(keys.joined(separator: ", "))")
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
            let choices = knob(key)?.choices.map { "; valid: \($0.joined(separator: ", "))" } ?? ""
            throw ConfigError("config key '\(key)' has an invalid value\(choices)")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw ConfigError("config key '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' is missing a value")
        }
        try config.validate()
        return config
    }
}

extension DensePath.Mode: KnobValue {}
