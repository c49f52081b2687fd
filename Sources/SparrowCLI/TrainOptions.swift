import ArgumentParser
import Foundation
import Training
import Yams

/// Every knob of `sparrow train` as a flag. Flags override a `--config` file, which overrides the preset.
/// Flag names are the config keys (see `AgentConfig`/`TrainConfig`); choices are checked when the config resolves.
struct TrainOptions: ParsableArguments {
    @Option(help: "Environment, e.g. Hopper-v5 (default Hopper-v5).") var env: String?
    @Option(help: "Preset: \(Presets.names.joined(separator: ", ")) (default tows-sac).") var preset: String?
    @Option(help: "Target sparsity in [0, 1).") var sparsity: Double?
    @Option(help: "Environment steps in total.") var steps: Int?
    @Option(help: "Seed (fixes networks, exploration, environments).") var seed: UInt64?
    @Option(help: "Config file (YAML or JSON) with the same keys as these flags.") var config: String?

    @Option(name: .customLong("start-steps"), help: "Random-action steps before learning.") var startSteps: Int?
    @Option(name: .customLong("eval-every"), help: "Steps between evaluations.") var evalEvery: Int?
    @Option(name: .customLong("eval-episodes"), help: "Episodes per evaluation.") var evalEpisodes: Int?
    @Option(name: .customLong("checkpoint-every"), help: "Steps between checkpoints.") var checkpointEvery: Int?
    @Option(name: .customLong("log-every"), help: "Steps between metrics rows.") var logEvery: Int?

    @Option(help: "sac or td3.") var algorithm: String?
    @Option(help: "dense, static, ds, tows, set, rigl or prune.") var method: String?
    @Option(help: "Hidden widths, comma-separated (default 256,256).") var hidden: String?
    @Option(help: "relu, leaky-relu or tanh.") var activation: String?
    @Option(name: .customLong("leaky-slope"), help: "LeakyReLU negative slope.") var leakySlope: Double?
    @Option(name: .customLong("init"), help: "pytorch, xavier, sparsity-aware or zero.") var initialization: String?
    @Option(name: .customLong("actor-sparsity"), help: "Actor's own sparsity budget.") var actorSparsity: Double?
    @Option(name: .customLong("critic-sparsity"), help: "Critics' own sparsity budget.") var criticSparsity: Double?
    @Option(name: .customLong("actor-critic-ratio"), help: "Live actor : live critic weights at --sparsity overall.")
    var actorCriticRatio: Double?
    @Option(help: "uniform, er, erk or er-epsilon.") var distribution: String?
    @Option(name: .customLong("er-epsilon"), help: "Sokar's λ per sparse layer, comma-separated.") var erEpsilon: String?
    @Flag(name: .customLong("dense-input"), inversion: .prefixedNo, help: "Keep the first layer dense.") var denseInput: Bool?
    @Flag(name: .customLong("dense-output"), inversion: .prefixedNo, help: "Keep the output layer dense.") var denseOutput: Bool?
    @Option(help: "sparse (truly sparse), masked or dense.") var backend: String?
    @Option(help: "Adam moments of masked layers: masked or unmasked.") var moments: String?
    @Flag(name: .customLong("bernoulli-topology"), inversion: .prefixedNo, help: "Sokar's i.i.d. initial masks.") var bernoulliTopology: Bool?
    @Option(name: .customLong("update-interval"), help: "Updates between topology changes.") var updateInterval: Int?
    @Option(name: .customLong("update-offset"), help: "Topology changes when (update − offset) % interval == 0.") var updateOffset: Int?
    @Option(name: .customLong("drop-fraction"), help: "Fraction of live connections dropped per change.") var dropFraction: Double?
    @Option(name: .customLong("drop-schedule"), help: "constant or cosine.") var dropSchedule: String?
    @Option(help: "magnitude or signed (Sokar's per-sign drop).") var drop: String?
    @Option(help: "random (SET) or gradient (RigL).") var grow: String?
    @Option(name: .customLong("grow-init"), help: "Value of grown weights: zero, pytorch, xavier, sparsity-aware.") var growInit: String?
    @Option(name: .customLong("update-stop"), help: "Last topology change as a fraction of updates.") var updateStop: Double?
    @Flag(name: .customLong("final-drop"), inversion: .prefixedNo, help: "Last change drops without regrowing.") var finalDrop: Bool?
    @Option(name: .customLong("target-topology"), help: "copy or maintain.") var targetTopology: String?
    @Option(name: .customLong("prune-begin"), help: "Pruning start (fraction of updates).") var pruneBegin: Double?
    @Option(name: .customLong("prune-end"), help: "Pruning end (fraction of updates).") var pruneEnd: Double?
    @Option(name: .customLong("prune-frequency"), help: "Updates between pruning steps.") var pruneFrequency: Int?
    @Option(name: .customLong("batch-size"), help: "Minibatch size.") var batchSize: Int?
    @Option(name: .customLong("buffer-size"), help: "Replay capacity.") var bufferSize: Int?
    @Option(help: "Discount.") var gamma: Double?
    @Option(help: "Target soft-update coefficient (1 = hard copy).") var tau: Double?
    @Option(name: .customLong("target-update-interval"), help: "Updates between target updates.") var targetUpdateInterval: Int?
    @Option(help: "Learning rate of actor, critics and α at once.") var lr: Double?
    @Option(name: .customLong("actor-lr")) var actorLR: Double?
    @Option(name: .customLong("critic-lr")) var criticLR: Double?
    @Option(name: .customLong("alpha-lr")) var alphaLR: Double?
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay (coupled, as the papers).") var weightDecay: Double?
    @Flag(name: .customLong("decoupled-weight-decay"), inversion: .prefixedNo, help: "AdamW-style decay.") var decoupledWeightDecay: Bool?
    @Option(name: .customLong("adam-eps")) var adamEpsilon: Double?
    @Option(name: .customLong("reward-scale")) var rewardScale: Double?
    @Option(help: "SAC temperature (initial value when auto-tuned).") var alpha: Double?
    @Flag(name: .customLong("autotune-alpha"), inversion: .prefixedNo, help: "Learn α toward the target entropy.") var autotuneAlpha: Bool?
    @Option(name: .customLong("target-entropy"), help: "Default −|A|.") var targetEntropy: Double?
    @Option(name: .customLong("log-std-min")) var logStdMin: Double?
    @Option(name: .customLong("log-std-max")) var logStdMax: Double?
    @Option(name: .customLong("log-std-bounding"), help: "clamp or tanh.") var logStdBounding: String?
    @Option(name: .customLong("policy-delay"), help: "TD3 actor update period.") var policyDelay: Int?
    @Option(name: .customLong("policy-noise"), help: "TD3 target smoothing noise.") var policyNoise: Double?
    @Option(name: .customLong("noise-clip"), help: "TD3 target noise clip.") var noiseClip: Double?
    @Option(name: .customLong("exploration-noise"), help: "TD3 exploration noise.") var explorationNoise: Double?

    /// The flags that were given, as config keys and values.
    func overrides() throws -> [String: Any] {
        var d: [String: Any] = [:]
        func put(_ key: String, _ value: Any?) { if let value { d[key] = value } }
        func list<T>(_ key: String, _ text: String?, _ parse: (Substring) -> T?) throws {
            guard let text else { return }
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let values = items.compactMap { parse(Substring($0)) }
            guard !items.isEmpty, values.count == items.count else {
                throw CLIError("--\(key) takes comma-separated numbers, got '\(text)'")
            }
            d[key] = values
        }
        put("steps", steps); put("seed", seed); put("sparsity", sparsity)
        put("start-steps", startSteps); put("eval-every", evalEvery); put("eval-episodes", evalEpisodes)
        put("checkpoint-every", checkpointEvery); put("log-every", logEvery)
        put("algorithm", algorithm); put("method", method); put("activation", activation)
        try list("hidden", hidden) { Int($0) }
        put("leaky-slope", leakySlope); put("init", initialization)
        put("actor-sparsity", actorSparsity); put("critic-sparsity", criticSparsity); put("actor-critic-ratio", actorCriticRatio); put("distribution", distribution)
        try list("er-epsilon", erEpsilon) { Double($0) }
        put("dense-input", denseInput); put("dense-output", denseOutput); put("backend", backend); put("moments", moments)
        put("bernoulli-topology", bernoulliTopology); put("update-interval", updateInterval); put("update-offset", updateOffset)
        put("drop-fraction", dropFraction); put("drop-schedule", dropSchedule); put("drop", drop); put("grow", grow)
        put("grow-init", growInit); put("update-stop", updateStop); put("final-drop", finalDrop)
        put("target-topology", targetTopology); put("prune-begin", pruneBegin); put("prune-end", pruneEnd)
        put("prune-frequency", pruneFrequency); put("batch-size", batchSize); put("buffer-size", bufferSize)
        put("gamma", gamma); put("tau", tau); put("target-update-interval", targetUpdateInterval)
        if let lr { d["actor-lr"] = lr; d["critic-lr"] = lr; d["alpha-lr"] = lr }
        put("actor-lr", actorLR); put("critic-lr", criticLR); put("alpha-lr", alphaLR)
        put("weight-decay", weightDecay); put("decoupled-weight-decay", decoupledWeightDecay); put("adam-eps", adamEpsilon)
        put("reward-scale", rewardScale); put("alpha", alpha); put("autotune-alpha", autotuneAlpha)
        put("target-entropy", targetEntropy); put("log-std-min", logStdMin); put("log-std-max", logStdMax)
        put("log-std-bounding", logStdBounding); put("policy-delay", policyDelay); put("policy-noise", policyNoise)
        put("noise-clip", noiseClip); put("exploration-noise", explorationNoise)
        return d
    }

    /// The resolved config: preset ← config file ← flags.
    func resolve() throws -> TrainConfig {
        let file = try config.map(Self.readConfigFile)
        do {
            return try TrainConfig.resolve(preset: preset, env: env, file: file, flags: try overrides())
        } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }

    static func readConfigFile(_ path: String) throws -> [String: Any] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError("cannot read config file \(path)")
        }
        let object: Any?
        if path.lowercased().hasSuffix(".json") {
            object = try? JSONSerialization.jsonObject(with: Data(text.utf8))
        } else {
            do { object = try Yams.load(yaml: text) } catch { throw CLIError("config file \(path) is not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")") }
        }
        guard let dict = object as? [String: Any] else {
            throw CLIError("config file \(path) must hold a mapping of keys to values")
        }
        return dict
    }
}
