import NeuralNet
import SparrowCore

/// Every knob of an off-policy sparse agent, in one value. Each property is declared as a knob in `knobs` below
/// (its key, help and valid range); the flags of `sparrow train`, the keys of config files (JSON/YAML) and of a run's
/// `config.json`, and the range checks all come from that list, so `--start-steps 1000` and `start-steps: 1000`
/// are the same setting. Choices are enums of the module that gives them meaning (`WeightInit`, `DropCriterion`,
/// `GrowCriterion`, `TargetTopology`, `LayerBackend`, `MomentPolicy` from NeuralNet), spelled by `NamedChoice`.
public struct AgentConfig: Codable, Equatable, Sendable {
    public enum Algorithm: String, Codable, CaseIterable, Sendable, NamedChoice, KnobValue {
        /// Each is declared in `AlgorithmDeclaration` (actions, loop, networks, exports, metrics).
        case sac, td3, dqn, ppo
    }
    public enum Distribution: String, Codable, CaseIterable, Sendable, NamedChoice, KnobValue {
        case uniform, er, erk
        /// Sokar's Erdős–Rényi with per-layer ε (λ): density = ε(n_in + n_out)/(n_in·n_out), from `er-epsilon`.
        case erEpsilon = "er-epsilon"
        /// Each layer's sparsity given outright (`layer-sparsity`, input layer first), e.g. ANF's 80%-sparse input
        /// layer with dense hidden and output layers: `--distribution per-layer --layer-sparsity 0.8,0,0`.
        case perLayer = "per-layer"

        /// The layer-sparsity rule that spreads a network's budget (nil for `er-epsilon` and `per-layer`, whose
        /// densities come from each layer's ε or given sparsity instead of a budget).
        public var budgetRule: SparsityDistribution? {
            switch self {
            case .uniform: return .uniform
            case .er: return .erdosRenyi
            case .erk: return .erdosRenyiKernel
            case .erEpsilon, .perLayer: return nil
            }
        }
    }
    public enum ActivationName: String, Codable, CaseIterable, Sendable, NamedChoice, KnobValue {
        case relu, tanh
        case leakyRelu = "leaky-relu"
    }
    public enum DropSchedule: String, Codable, CaseIterable, Sendable, NamedChoice, KnobValue { case constant, cosine }
    /// DQN's regression loss on the TD error.
    public enum TDLoss: String, Codable, CaseIterable, Sendable, NamedChoice, KnobValue { case huber, squared }
    public enum LogStdBoundingName: String, Codable, CaseIterable, Sendable, NamedChoice, KnobValue { case tanh, clamp }
    /// The shape of the networks: fully connected layers, or DQN's convolutional Q network on stacked frames.
    public enum Network: String, Codable, CaseIterable, Sendable, NamedChoice, KnobValue {
        /// `hidden` fully connected layers.
        case mlp
        /// The Nature CNN (Mnih et al. 2015) as Dopamine's and rigl/rl's `NatureDQNNetwork`: 32·8×8/4, 64·4×4/2,
        /// 64·3×3/1 convolutions with "SAME" padding on the stacked 84×84 frames (scaled to [0, 1] on the way in),
        /// then the `hidden` fully connected layers (512) and the output; ReLU throughout.
        case natureCNN = "nature-cnn"
        /// rigl/rl's `ImpalaNetwork` (`NeuralNet.ImpalaNetwork`): three stacks of a 3×3 convolution, a 3×3/2 max-pool
        /// and two residual blocks (32, 64, 64 channels) on the stacked 84×84 frames (scaled to [0, 1]), then ReLU,
        /// the `hidden` fully connected layers (256 in its presets) and the output.
        case impala

        /// Convolutional networks on stacked Atari frames (DQN only).
        public var readsFrames: Bool { self != .mlp }
    }

    public var algorithm: Algorithm = .sac
    public var method: Method = .dense

    // Networks
    public var network: Network = .mlp
    public var hidden: [Int] = [256, 256]
    public var activation: ActivationName = .relu
    public var leakySlope: Double = 0.01
    public var initialization: WeightInit = .pytorchLinear

    // Sparsity
    /// Target sparsity over the sparse-eligible weights of each network (0 = dense).
    public var sparsity: Double = 0
    /// Separate budgets; nil = `sparsity`.
    public var actorSparsity: Double? = nil
    public var criticSparsity: Double? = nil
    /// Graesser et al.'s actor:critic split: live actor weights : live weights of both critics, at `sparsity` over
    /// all of them together (nil = each network at `sparsity`). Explicit actor-/critic-sparsity win over it.
    public var actorCriticRatio: Double? = nil
    /// Graesser et al.'s parameter-equivalent dense baseline (method dense only): hidden widths scaled down until
    /// each network has about the live parameters it would have at this sparsity (`NetworkFactory.hiddenWidths`).
    public var paramsLike: Double? = nil
    public var distribution: Distribution = .uniform
    /// Sokar's λ per layer for `er-epsilon` (one per sparse layer from the input side).
    public var erEpsilon: [Double] = [7, 64]
    /// The sparsity of each layer, input layer first, for distribution `per-layer` (`sparsity` is then unused).
    public var layerSparsity: [Double] = []
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
    public var drop: DropCriterion = .magnitude
    public var grow: GrowCriterion = .random
    public var growInit: WeightInit = .zero
    /// Last training step with a topology update, as a fraction of the run's steps (nil = never stop).
    public var updateStop: Double? = nil
    /// Sokar: the last update drops without regrowing.
    public var finalDrop = false
    /// Target networks of sparse agents: copy the online topology (RigL code) or soft-update and keep the
    /// largest-magnitude entries up to the online count (Sokar/ANF "maintain sparsity").
    public var targetTopology: TargetTopology = .copyOnline

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
    /// Weight decay on biases too (PyTorch's Adam handed every parameter: ANF, Sokar); false: kernels only (Keras'
    /// `kernel_regularizer`, TF-Agents: rigl/rl). PPO always decays kernels only (TF-Agents' PPO l2 terms).
    public var decayBiases = true
    public var adamEpsilon: Double = 1e-8
    public var rewardScale: Double = 1
    /// Environment steps per gradient update once learning starts (Dopamine's `update_period`: 4); updates happen
    /// at the steps that are multiples of it.
    public var updateEvery = 1
    /// Rewards are clipped to [−c, c] before they are stored and learned from (Dopamine's Atari runner: 1); the
    /// returns the run reports are the environment's own. nil: no clipping.
    public var rewardClip: Double? = nil

    // SAC
    public var alpha: Double = 0.2
    public var autotuneAlpha = false
    /// nil = `targetEntropyPerAction` · |A|.
    public var targetEntropy: Double? = nil
    /// The default target entropy per action dimension: −1 (the SAC paper, CleanRL, SB3) or −0.5 (TF-Agents'
    /// `SacAgent` default, which rigl/rl runs).
    public var targetEntropyPerAction: Double = -1
    public var logStdMin: Double = -20
    public var logStdMax: Double = 2
    public var logStdBounding: LogStdBoundingName = .clamp

    // TD3
    public var policyDelay = 2
    public var policyNoise: Double = 0.2
    public var noiseClip: Double = 0.5
    public var explorationNoise: Double = 0.1

    // DQN
    public var tdLoss: TDLoss = .huber
    /// ε-greedy: ε goes linearly from `epsilonStart` to `epsilonFinal` over the first `epsilonDecay` (a fraction)
    /// of the updates; 0 = `epsilonFinal` from the first update (TF-Agents' constant ε after the random start steps).
    public var epsilonStart: Double = 1
    public var epsilonFinal: Double = 0.01
    public var epsilonDecay: Double = 0
    /// ε decays over this many environment steps after the start steps instead (Dopamine's `epsilon_decay_period`
    /// 250 000, counted in agent steps whatever the run's length); nil: `epsilonDecay`.
    public var epsilonDecaySteps: Int? = nil
    /// ε of the evaluation policy (Dopamine's `epsilon_eval` 0.001); 0: greedy.
    public var evalEpsilon: Double = 0

    // PPO (the minibatch is `batch-size`; the policy trains with actor-lr, the value network with critic-lr)
    /// Environment steps per iteration (one rollout), then `epochs` passes over it in minibatches.
    public var rolloutSteps = 2048
    public var epochs = 10
    public var gaeLambda: Double = 0.95
    /// ε of the clipped surrogate: ratios outside [1 − ε, 1 + ε] give no gradient.
    public var clipRatio: Double = 0.2
    /// Weight of the value loss ½·c·… — TF-Agents' `value_pred_loss_coef`: loss = c · mean (V − R)².
    public var valueCoef: Double = 0.5
    public var entropyCoef: Double = 0
    /// Global gradient-norm clipping over both networks and the log-std parameters (0 = off).
    public var maxGradNorm: Double = 0.5
    /// Learning rates decay linearly to 0 over the run's iterations.
    public var lrDecay = true
    public var normalizeObservations = true
    public var normalizeRewards = true
    /// Initial standard deviation of the state-independent Gaussian policy (σ = softplus(ρ)).
    public var initStd: Double = 0.35
    /// The value network's hidden activation (nil = `activation`): TF-Agents' value network uses ReLU while the
    /// actor uses tanh.
    public var valueActivation: ActivationName? = nil

    // Analyses (all off by default)
    /// Gradient signal-to-noise ratio every N updates (0 = off).
    public var logSNREvery = 0
    /// τ-dormant neuron fractions every N updates (0 = off), at threshold `dormantTau`.
    public var logDormantEvery = 0
    public var dormantTau: Double = 0.1
    /// ReDo: recycle τ-dormant neurons every N updates (0 = off), at threshold `redoTau`.
    public var redoEvery = 0
    public var redoTau: Double = 0.1

    public init() {}

    /// Every knob, by section of `sparrow train --help`. Key = flag name = config key.
    public static let sections: [KnobSection<AgentConfig>] = [
        KnobSection("Agent", [
            Knob("algorithm", \.algorithm, "The algorithm (sac, td3: continuous actions; dqn: discrete)."),
            Knob("method", \.method, "Sparse-training method (SparseMethods.registry; docs/extending.md)."),
        ]),
        KnobSection("Networks", [
            Knob("network", \.network, "mlp: fully connected layers; nature-cnn: DQN's convolutional Q network on Atari frames (then --hidden); impala: rigl/rl's residual Impala network on Atari frames (then --hidden)."),
            Knob("hidden", \.hidden, "Hidden widths, comma-separated.", valid: .positiveList),
            Knob("activation", \.activation, "Hidden-layer activation."),
            Knob("leaky-slope", \.leakySlope, "LeakyReLU negative slope.", valid: .unitOpen),
            Knob("init", \.initialization, "Initial weights (sparsity-aware: RigL's fan-scaled init)."),
        ]),
        KnobSection("Sparsity", [
            Knob("sparsity", \.sparsity, "Target sparsity of each network's sparse-eligible weights.", valid: .unitOpen),
            Knob("actor-sparsity", \.actorSparsity, "Actor's own sparsity budget (default: --sparsity).", valid: .ifSet(.unitOpen)),
            Knob("critic-sparsity", \.criticSparsity, "Critics' own sparsity budget (default: --sparsity).", valid: .ifSet(.unitOpen)),
            Knob("actor-critic-ratio", \.actorCriticRatio, "Live actor : live critic weights at --sparsity overall.",
                 valid: .ifSet(.positive)),
            Knob("params-like", \.paramsLike, "Method dense: shrink hidden widths to the live parameters at this sparsity.",
                 valid: .ifSet(.unitOpen)),
            Knob("distribution", \.distribution, "How a network's budget is spread over its layers."),
            Knob("er-epsilon", \.erEpsilon, "Sokar's λ per sparse layer (distribution er-epsilon)."),
            Knob("layer-sparsity", \.layerSparsity, "Each layer's sparsity, input layer first (distribution per-layer; e.g. 0.8,0,0: ANF's sparse input layer)."),
            Knob("dense-input", \.denseInputLayer, "Keep the first layer dense."),
            Knob("dense-output", \.denseOutputLayer, "Keep the output layer dense."),
            Knob("backend", \.backend, "sparse: truly sparse storage; masked: dense weights × mask; dense."),
            Knob("moments", \.moments, "Adam moments of absent connections in masked layers."),
            Knob("bernoulli-topology", \.bernoulliTopology, "Sokar's i.i.d. initial masks instead of exact counts."),
        ]),
        KnobSection("Topology evolution (ds, tows, set, rigl)", [
            Knob("update-interval", \.updateInterval, "Updates between topology changes.", valid: .positive),
            Knob("update-offset", \.updateOffset, "Changes happen when (update − offset) % interval == 0."),
            Knob("drop-fraction", \.dropFraction, "Fraction of live connections dropped per change.", valid: .unitOpen),
            Knob("drop-schedule", \.dropSchedule, "Drop fraction over the run."),
            Knob("drop", \.drop, "Which connections go (signed: Sokar's per-sign drop)."),
            Knob("grow", \.grow, "Where connections come back: random (SET) or gradient (RigL)."),
            Knob("grow-init", \.growInit, "Value of grown weights."),
            Knob("update-stop", \.updateStop, "Last topology change as a fraction of updates (default: never stop).",
                 valid: .ifSet(.unitClosed)),
            Knob("final-drop", \.finalDrop, "The last change drops without regrowing."),
            Knob("target-topology", \.targetTopology, "Target networks copy the online topology or keep their own."),
        ]),
        KnobSection("Analyses (off by default; analysis.csv and metrics.csv)", [
            Knob("log-snr-every", \.logSNREvery, "Gradient signal-to-noise ratio every N updates (0: off).", valid: .nonNegative),
            Knob("log-dormant-every", \.logDormantEvery, "Fraction of tau-dormant neurons every N updates (0: off).",
                 valid: .nonNegative),
            Knob("dormant-tau", \.dormantTau, "Dormant threshold on a neuron's activation over the layer mean.", valid: .nonNegative),
            Knob("redo-every", \.redoEvery, "ReDo: recycle dormant neurons every N updates (0: off).", valid: .nonNegative),
            Knob("redo-tau", \.redoTau, "ReDo's dormant threshold.", valid: .nonNegative),
        ]),
        KnobSection("Gradual magnitude pruning (prune)", [
            Knob("prune-begin", \.pruneBegin, "Pruning start (fraction of updates).", valid: .unitClosed),
            Knob("prune-end", \.pruneEnd, "Pruning end (fraction of updates).", valid: .unitClosed),
            Knob("prune-frequency", \.pruneFrequency, "Updates between pruning steps.", valid: .positive),
        ]),
        KnobSection("Off-policy learning", [
            Knob("batch-size", \.batchSize, "Minibatch size.", valid: .positive),
            Knob("buffer-size", \.bufferSize, "Replay capacity (transitions).", valid: .positive),
            Knob("gamma", \.gamma, "Discount.", valid: .unitClosed),
            Knob("tau", \.tau, "Target soft-update coefficient (1 = hard copy).", valid: .unitLeftOpen),
            Knob("target-update-interval", \.targetUpdateInterval, "Updates between target updates.", valid: .positive),
            Knob("actor-lr", \.actorLR, "Actor learning rate.", valid: .positive),
            Knob("critic-lr", \.criticLR, "Critic learning rate.", valid: .positive),
            Knob("alpha-lr", \.alphaLR, "Temperature learning rate (SAC with --autotune-alpha).", valid: .positive),
            Knob("weight-decay", \.weightDecay, "L2 weight decay (coupled, as the papers).", valid: .nonNegative),
            Knob("decoupled-weight-decay", \.decoupledWeightDecay, "AdamW-style decay instead."),
            Knob("decay-biases", \.decayBiases, "Weight decay on biases too (PyTorch); off: kernels only (Keras, TF-Agents)."),
            Knob("adam-eps", \.adamEpsilon, "Adam's ε.", valid: .positive),
            Knob("reward-scale", \.rewardScale, "Rewards are multiplied by this before learning."),
            Knob("update-every", \.updateEvery, "Environment steps per gradient update (Dopamine's update period).", valid: .positive),
            Knob("reward-clip", \.rewardClip, "Clip rewards to [-c, c] before learning (Dopamine's Atari: 1).", valid: .ifSet(.positive)),
        ]),
        KnobSection("SAC", [
            Knob("alpha", \.alpha, "Temperature (the initial value when auto-tuned).", valid: .nonNegative),
            Knob("autotune-alpha", \.autotuneAlpha, "Learn α toward the target entropy."),
            Knob("target-entropy", \.targetEntropy, "Target entropy (default: target-entropy-per-action · |A|)."),
            Knob("target-entropy-per-action", \.targetEntropyPerAction,
                 "Default target entropy per action dimension (−1: SAC paper; −0.5: TF-Agents)."),
            Knob("log-std-min", \.logStdMin, "Lower log-std bound."),
            Knob("log-std-max", \.logStdMax, "Upper log-std bound."),
            Knob("log-std-bounding", \.logStdBounding, "clamp (CleanRL/ANF) or tanh rescaling (SB3-style)."),
        ]),
        KnobSection("TD3", [
            Knob("policy-delay", \.policyDelay, "Critic updates per actor update.", valid: .positive),
            Knob("policy-noise", \.policyNoise, "Target smoothing noise.", valid: .nonNegative),
            Knob("noise-clip", \.noiseClip, "Target smoothing noise clip.", valid: .nonNegative),
            Knob("exploration-noise", \.explorationNoise, "Exploration noise.", valid: .nonNegative),
        ]),
        KnobSection("DQN (the Q network trains with critic-lr)", [
            Knob("td-loss", \.tdLoss, "Loss on the TD error: huber (δ = 1) or squared."),
            Knob("epsilon-start", \.epsilonStart, "ε-greedy: ε at the first update.", valid: .unitClosed),
            Knob("epsilon-final", \.epsilonFinal, "ε-greedy: ε after the decay.", valid: .unitClosed),
            Knob("epsilon-decay", \.epsilonDecay, "Fraction of the updates over which ε decays linearly (0: final at once).",
                 valid: .unitClosed),
            Knob("epsilon-decay-steps", \.epsilonDecaySteps, "Environment steps after the start steps over which ε decays (overrides epsilon-decay).",
                 valid: .ifSet(.positive)),
            Knob("eval-epsilon", \.evalEpsilon, "ε of the evaluation policy (Dopamine: 0.001; 0: greedy).", valid: .unitClosed),
        ]),
        KnobSection("PPO (minibatch: batch-size; policy: actor-lr, value network: critic-lr)", [
            Knob("rollout-steps", \.rolloutSteps, "Environment steps per iteration.", valid: .positive),
            Knob("epochs", \.epochs, "Passes over each rollout.", valid: .positive),
            Knob("gae-lambda", \.gaeLambda, "GAE λ.", valid: .unitClosed),
            Knob("clip-ratio", \.clipRatio, "Clipped-surrogate ε.", valid: .unitLeftOpen),
            Knob("value-coef", \.valueCoef, "Value-loss coefficient (loss = c·mean (V − R)²).", valid: .nonNegative),
            Knob("entropy-coef", \.entropyCoef, "Entropy bonus coefficient.", valid: .nonNegative),
            Knob("max-grad-norm", \.maxGradNorm, "Global gradient-norm clip over both networks (0: off).", valid: .nonNegative),
            Knob("lr-decay", \.lrDecay, "Decay the learning rates linearly to 0 over the iterations."),
            Knob("normalize-observations", \.normalizeObservations, "Streaming observation normalisation."),
            Knob("normalize-rewards", \.normalizeRewards, "Scale rewards by their streaming standard deviation."),
            Knob("init-std", \.initStd, "Initial policy standard deviation.", valid: .positive),
            Knob("value-activation", \.valueActivation, "Value network's hidden activation (default: --activation)."),
        ]),
    ]

    public static let knobs: [Knob<AgentConfig>] = sections.flatMap(\.knobs)

    /// The config keys, as spelled in files and flags.
    public static var keys: [String] { knobs.map(\.key) }

    public init(from decoder: Decoder) throws { self = try KnobCoding.decode(Self.knobs, from: decoder, defaults: AgentConfig()) }
    public func encode(to encoder: Encoder) throws { try KnobCoding.encode(Self.knobs, self, to: encoder) }

    /// Checks each knob's range, then the rules that tie knobs together; the message names the key, the bad
    /// value and what is allowed.
    public func validate() throws {
        for knob in Self.knobs { try knob.validate(self) }
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
            if !ok { throw ConfigError(message()) }
        }
        try check(pruneBegin < pruneEnd, "prune-begin and prune-end must satisfy 0 ≤ begin < end ≤ 1, got \(pruneBegin), \(pruneEnd)")
        try check(logStdMin < logStdMax, "log-std-min must be below log-std-max")
        guard let declaration = SparseMethods.declaration(of: method) else {
            throw ConfigError("method \(method.rawValue) is not one of \(Method.spellings.joined(separator: ", "))")
        }
        try declaration.validate(self)
        if let p = paramsLike {
            try check(method == .dense, "params-like \(p) shrinks a dense network to a sparse one's parameter count; it needs method dense, got \(method.rawValue)")
            try check(p > 0, "params-like must be in (0, 1), got \(p)")
            try check(actorSparsity == nil && criticSparsity == nil && actorCriticRatio == nil,
                      "params-like matches each network to --sparsity-style budgets; drop actor-sparsity, critic-sparsity and actor-critic-ratio")
        }
        try check(updateOffset >= 0 && updateOffset < updateInterval,
                  "update-offset must be in 0..<update-interval (\(updateInterval)), got \(updateOffset)")
        try NetworkFactory.checkSize(widths: hidden, what: "hidden \(hidden.map(String.init).joined(separator: ","))")
        if let r = actorCriticRatio {
            try check(method != .dense && sparsity > 0,
                      "actor-critic-ratio \(r) splits a sparse budget between actor and critics; method \(method.rawValue) at sparsity \(sparsity) has none (for dense widths set --hidden per run)")
        }
        if distribution == .perLayer {
            let layers = hidden.count + 1
            try check(layerSparsity.count == layers,
                      "distribution per-layer needs --layer-sparsity with one value per layer (\(layers) for hidden \(hidden.map(String.init).joined(separator: ","))), got \(layerSparsity.count)")
            if let bad = layerSparsity.first(where: { !($0 >= 0 && $0 < 1) }) {
                try check(false, "layer-sparsity values must be in [0, 1), got \(bad)")
            }
        } else {
            try check(layerSparsity.isEmpty, "layer-sparsity is for distribution per-layer (got distribution \(distribution.spelling))")
        }
        if network.readsFrames {
            let n = network.rawValue
            try check(algorithm == .dqn, "network \(n) is DQN's Q network on Atari frames; algorithm \(algorithm.rawValue) uses network mlp")
            try check(logSNREvery == 0 && logDormantEvery == 0 && redoEvery == 0,
                      "the gradient SNR, dormant-neuron and ReDo analyses are written for fully connected layers; network \(n) takes none of log-snr-every, log-dormant-every, redo-every")
            try check(paramsLike == nil, "params-like shrinks fully connected widths; network \(n) has fixed convolutions")
            try check(distribution != .perLayer && distribution != .erEpsilon,
                      "network \(n) spreads its sparsity by uniform, er or erk")
        }
        if algorithm.isOnPolicy {
            try check(updateEvery == 1, "update-every is for off-policy algorithms; \(algorithm.rawValue) learns once per rollout")
            try check(rolloutSteps % batchSize == 0,
                      "rollout-steps (\(rolloutSteps)) must be a multiple of batch-size (\(batchSize)), the PPO minibatch")
        }
    }

    /// PPO's gradient steps per iteration: `epochs` passes over a rollout in minibatches of `batch-size`.
    public var updatesPerIteration: Int { epochs * (rolloutSteps / max(batchSize, 1)) }

    public var effectiveActorSparsity: Double { actorSparsity ?? sparsity }
    public var effectiveCriticSparsity: Double { criticSparsity ?? sparsity }
}

/// A configuration problem, printed as one line.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

// NeuralNet's choices as knob values (spelled by their `NamedChoice` spelling).
extension WeightInit: KnobValue {}
extension DropCriterion: KnobValue {}
extension GrowCriterion: KnobValue {}
extension TargetTopology: KnobValue {}
extension LayerBackend: KnobValue {}
extension MomentPolicy: KnobValue {}
