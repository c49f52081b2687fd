import NeuralNet

/// Every knob of an off-policy sparse agent, in one value. Keys (JSON/YAML config files, the resolved
/// `config.json` of a run) are the command-line flag names, so `--start-steps 1000` and `start-steps: 1000`
/// are the same setting.
public struct AgentConfig: Codable, Equatable, Sendable {
    public enum Algorithm: String, Codable, CaseIterable, Sendable { case sac, td3 }
    /// The sparse-training method (see `SparseMethod` docs in the presets).
    public enum Method: String, Codable, CaseIterable, Sendable { case dense, `static`, ds, tows, set, rigl, prune }
    public enum Distribution: String, Codable, CaseIterable, Sendable {
        case uniform, er, erk
        /// Sokar's Erdős–Rényi with per-layer ε (λ): density = ε(n_in + n_out)/(n_in·n_out), from `er-epsilon`.
        case erEpsilon = "er-epsilon"
    }
    public enum ActivationName: String, Codable, CaseIterable, Sendable {
        case relu, tanh
        case leakyRelu = "leaky-relu"
    }
    public enum InitName: String, Codable, CaseIterable, Sendable {
        case pytorch, xavier, zero
        case sparsityAware = "sparsity-aware"
    }
    public enum DropName: String, Codable, CaseIterable, Sendable { case magnitude, signed }
    public enum GrowName: String, Codable, CaseIterable, Sendable { case random, gradient }
    public enum DropSchedule: String, Codable, CaseIterable, Sendable { case constant, cosine }
    /// Target networks of sparse agents: copy the online topology (RigL code) or soft-update and keep the
    /// largest-magnitude entries up to the online count (Sokar/ANF "maintain sparsity").
    public enum TargetTopology: String, Codable, CaseIterable, Sendable { case copy, maintain }
    public enum LogStdBoundingName: String, Codable, CaseIterable, Sendable { case tanh, clamp }

    public var algorithm: Algorithm = .sac
    public var method: Method = .dense

    // Networks
    public var hidden: [Int] = [256, 256]
    public var activation: ActivationName = .relu
    public var leakySlope: Double = 0.01
    public var initialization: InitName = .pytorch

    // Sparsity
    /// Target sparsity over the sparse-eligible weights of each network (0 = dense).
    public var sparsity: Double = 0
    /// Separate budgets; nil = `sparsity`.
    public var actorSparsity: Double? = nil
    public var criticSparsity: Double? = nil
    /// Graesser et al.'s actor:critic split: live actor weights : live weights of both critics, at `sparsity` over
    /// all of them together (nil = each network at `sparsity`). Explicit actor-/critic-sparsity win over it.
    public var actorCriticRatio: Double? = nil
    public var distribution: Distribution = .uniform
    /// Sokar's λ per layer for `er-epsilon` (one per sparse layer from the input side).
    public var erEpsilon: [Double] = [7, 64]
    public var denseInputLayer = false
    public var denseOutputLayer = true
    public var backend: LayerBackend = .sparse
    public var moments: MomentPolicy = .masked
    /// Initial topologies: exact live count (ANF, RigL) or i.i.d. Bernoulli (Sokar).
    public var bernoulliTopology = false

    // Topology evolution (ds, tows, set, rigl)
    public var updateInterval = 1000
    /// Updates fire when (training step − offset) is a multiple of the interval (Sokar/ANF: 2; RigL: 0).
    public var updateOffset = 0
    public var dropFraction: Double = 0.05
    public var dropSchedule: DropSchedule = .constant
    public var drop: DropName = .magnitude
    public var grow: GrowName = .random
    public var growInit: InitName = .zero
    /// Last training step with a topology update, as a fraction of the run's steps (nil = never stop).
    public var updateStop: Double? = nil
    /// Sokar: the last update drops without regrowing.
    public var finalDrop = false
    public var targetTopology: TargetTopology = .copy

    // Gradual magnitude pruning (prune), fractions of the run's steps
    public var pruneBegin: Double = 0.2
    public var pruneEnd: Double = 0.8
    public var pruneFrequency = 1000

    // Off-policy learning
    public var batchSize = 256
    public var bufferSize = 1_000_000
    public var gamma: Double = 0.99
    /// Soft target update coefficient; 1 with `target-update-interval` N = hard copy every N steps.
    public var tau: Double = 0.005
    public var targetUpdateInterval = 1
    public var actorLR: Double = 3e-4
    public var criticLR: Double = 3e-4
    public var alphaLR: Double = 3e-4
    public var weightDecay: Double = 0
    public var decoupledWeightDecay = false
    public var adamEpsilon: Double = 1e-8
    public var rewardScale: Double = 1

    // SAC
    public var alpha: Double = 0.2
    public var autotuneAlpha = false
    /// nil = −|A|.
    public var targetEntropy: Double? = nil
    public var logStdMin: Double = -20
    public var logStdMax: Double = 2
    public var logStdBounding: LogStdBoundingName = .clamp

    // TD3
    public var policyDelay = 2
    public var policyNoise: Double = 0.2
    public var noiseClip: Double = 0.5
    public var explorationNoise: Double = 0.1

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case algorithm, method, hidden, activation
        case leakySlope = "leaky-slope", initialization = "init"
        case sparsity, actorSparsity = "actor-sparsity", criticSparsity = "critic-sparsity", distribution
        case erEpsilon = "er-epsilon", denseInputLayer = "dense-input", denseOutputLayer = "dense-output"
        case backend, moments, bernoulliTopology = "bernoulli-topology"
        case updateInterval = "update-interval", updateOffset = "update-offset", dropFraction = "drop-fraction"
        case dropSchedule = "drop-schedule", drop, grow, growInit = "grow-init", updateStop = "update-stop"
        case finalDrop = "final-drop", targetTopology = "target-topology"
        case pruneBegin = "prune-begin", pruneEnd = "prune-end", pruneFrequency = "prune-frequency"
        case batchSize = "batch-size", bufferSize = "buffer-size", gamma, tau
        case targetUpdateInterval = "target-update-interval", actorLR = "actor-lr", criticLR = "critic-lr"
        case alphaLR = "alpha-lr", weightDecay = "weight-decay", decoupledWeightDecay = "decoupled-weight-decay"
        case adamEpsilon = "adam-eps", rewardScale = "reward-scale"
        case alpha, autotuneAlpha = "autotune-alpha", targetEntropy = "target-entropy"
        case logStdMin = "log-std-min", logStdMax = "log-std-max", logStdBounding = "log-std-bounding"
        case policyDelay = "policy-delay", policyNoise = "policy-noise", noiseClip = "noise-clip"
        case explorationNoise = "exploration-noise"
    }

    /// The config keys, as spelled in files and flags.
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// Checks ranges; the message names the key, the bad value and what is allowed.
    public func validate() throws {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
            if !ok { throw ConfigError(message()) }
        }
        for (key, s) in [("sparsity", sparsity), ("actor-sparsity", actorSparsity ?? 0), ("critic-sparsity", criticSparsity ?? 0)] {
            try check(s >= 0 && s < 1, "\(key) must be in [0, 1), got \(s)")
        }
        try check(actorCriticRatio.map { $0 > 0 && $0.isFinite } ?? true, "actor-critic-ratio must be a positive number")
        try check(!hidden.isEmpty && hidden.allSatisfy { $0 > 0 }, "hidden must list positive widths, got \(hidden)")
        try check(batchSize > 0, "batch-size must be positive, got \(batchSize)")
        try check(bufferSize > 0, "buffer-size must be positive, got \(bufferSize)")
        try check(gamma >= 0 && gamma <= 1, "gamma must be in [0, 1], got \(gamma)")
        try check(tau > 0 && tau <= 1, "tau must be in (0, 1], got \(tau)")
        try check(targetUpdateInterval > 0, "target-update-interval must be positive, got \(targetUpdateInterval)")
        for (k, v) in [("actor-lr", actorLR), ("critic-lr", criticLR), ("alpha-lr", alphaLR)] {
            try check(v > 0 && v.isFinite, "\(k) must be positive, got \(v)")
        }
        try check(weightDecay >= 0, "weight-decay must be ≥ 0, got \(weightDecay)")
        try check(updateInterval > 0, "update-interval must be positive, got \(updateInterval)")
        try check(dropFraction >= 0 && dropFraction < 1, "drop-fraction must be in [0, 1), got \(dropFraction)")
        try check(updateStop.map { $0 >= 0 && $0 <= 1 } ?? true, "update-stop must be a fraction in [0, 1]")
        try check(pruneBegin >= 0 && pruneBegin < pruneEnd && pruneEnd <= 1,
                  "prune-begin and prune-end must satisfy 0 ≤ begin < end ≤ 1, got \(pruneBegin), \(pruneEnd)")
        try check(pruneFrequency > 0, "prune-frequency must be positive")
        try check(policyDelay > 0, "policy-delay must be positive, got \(policyDelay)")
        try check(leakySlope >= 0 && leakySlope < 1, "leaky-slope must be in [0, 1), got \(leakySlope)")
        try check(logStdMin < logStdMax, "log-std-min must be below log-std-max")
        try check(alpha >= 0, "alpha must be ≥ 0, got \(alpha)")
        if method == .dense { try check(sparsity == 0, "method dense takes no sparsity (got \(sparsity)); choose static, tows, set, rigl, ds or prune") }
    }

    public var effectiveActorSparsity: Double { actorSparsity ?? sparsity }
    public var effectiveCriticSparsity: Double { criticSparsity ?? sparsity }
}

/// A configuration problem, printed as one line.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
