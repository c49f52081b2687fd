import Agents
import Environments
import NeuralNet
import SparrowCore

/// The papers' configurations as named presets. Every value can be overridden by a config file or a flag.
///
/// Sources (see shared/reference/algorithms.md): Grooten et al.'s TowS settings follow the ANF code defaults
/// (§a3, §b3); Sokar's DS-TD3 its code (§a1, §b1), DS-SAC its appendix (§a2, §b2); Graesser et al.'s SET/RigL/
/// pruning SAC the rigl/rl gin configs (§a4, §b4, §d).
///
/// Choices where the reference is unverified (documented here so results can be read correctly):
/// - TowS (`tows-*`, `ss-*`): 90% sparsity, uniform distribution over the hidden layers with a dense output layer
///   (ANF tutorial's "90.3 / 90.3 / 0"), masked moments, sign-agnostic magnitude drop ζ = 0.05 every 1000 updates
///   at `it % 1000 == 2`, random growth, zero-initialised new weights, never stopping (ANF default), targets kept
///   sparse by magnitude ("maintain"), 5 evaluation episodes (ANF's current default). LeakyReLU is off by default;
///   `--activation leaky-relu` (slope 0.01, PyTorch's default) turns it on.
/// - DS-SAC: no public code. Drop ζ = 0.1 and hard targets every 1000 updates are the appendix's; the update
///   offset (2), the final drop without regrowth and the stop point (95% of updates, ≈ Sokar's 925k of 975k) and
///   the 25k random start steps are taken from DS-TD3's code.
/// - DS-*: Sokar's code writes the Adam step's value into a newly grown position (reference a1); Sparrow's masked
///   backend with unmasked moments grows at zero instead, keeping the stale moments (the effect of that one step is
///   ≲ 1e-3). `update-stop` 0.95 approximates Sokar's `steps − start − 50k` for 1M-step runs.
/// - SET/RigL/prune SAC and `dense-sac-graesser` (Graesser, rigl/rl `sac_mujoco_*_config.gin`): TF-Agents' initial
///   log α (0, i.e. α = 1) and its default target entropy −|A|/2 (`SacAgent._get_default_target_entropy`; rigl/rl
///   passes none); weight decay as `tf.keras.regularizers.L2` on kernels only (`kerasL2`): 1e-4 for dense and for
///   pruning (its gin inherits the dense one's), 1e-6 for static/SET/RigL; pruning uses the masked backend (it starts
///   dense). Runs made before this (issue 24) used −|A|, wd 1e-6 for every method and decayed biases too.
/// - DQN (Graesser, rigl/rl `dqn_gym_*.gin` and `dqn_train_eval.py`): see `graesserDQN`.
/// - PPO (Graesser, rigl/rl `ppo_mujoco_*.gin` and `ppo_train_eval.py`): see `graesserPPO`.
public enum Presets {
    /// Every preset: the papers' (`paperNames`), then those the registered sparse methods add (`MethodPreset`).
    public static var names: [String] { paperNames + SparseMethods.presets.map(\.name) }

    static let paperNames = ["dense-sac", "dense-sac-graesser", "dense-td3", "ss-sac", "ss-td3", "ds-sac", "ds-td3",
                               "tows-sac", "tows-td3", "set-sac", "rigl-sac", "prune-sac",
                               "dense-dqn", "static-dqn", "set-dqn", "rigl-dqn", "prune-dqn",
                               "dense-ppo", "static-ppo", "set-ppo", "rigl-ppo", "prune-ppo",
                               "dense-dqn-atari", "static-dqn-atari", "set-dqn-atari", "rigl-dqn-atari", "prune-dqn-atari",
                               "dense-dqn-atari-impala", "static-dqn-atari-impala", "set-dqn-atari-impala",
                               "rigl-dqn-atari-impala", "prune-dqn-atari-impala"]

    /// A preset's config for an env. A preset whose algorithm does not fit the env's actions (tows-sac on
    /// CartPole, dense-dqn on Hopper) is a one-line error naming the presets that fit.
    public static func config(named name: String, env: String) throws -> TrainConfig {
        let task: TaskID
        do { task = try TaskID(name: env) } catch { throw ConfigError("\(error)") }
        let c = try base(named: name, task: task)
        let atari: Bool
        if case .atari = task { atari = true } else { atari = false }
        if atari != c.agent.network.readsFrames {
            let fitting = names.filter {
                guard let a = (try? base(named: $0, task: nil))?.agent else { return false }
                return a.network.readsFrames == atari && a.algorithm.actsDiscretely == task.hasDiscreteActions
            }
            throw ConfigError("preset \(name) is for \(atari ? "vector observations" : "Atari frames (ALE/<Game>-v5)"); presets for \(task.name): \(fitting.joined(separator: ", "))")
        }
        if c.agent.algorithm.actsDiscretely != task.hasDiscreteActions {
            throw ConfigError("preset \(name): " + mismatch(env: task.name, discrete: task.hasDiscreteActions,
                                                            algorithm: c.agent.algorithm))
        }
        return c
    }

    /// The code base a preset follows, which decides the dense run its sparse runs are compared with: ANF's SAC/TD3
    /// (`dense-sac`, `dense-td3`, `ss-*`, `tows-*`; Sokar's DS presets too, whose dense baselines are the same
    /// PyTorch TD3/SAC) or rigl/rl's TF-Agents agents (Graesser's SAC, DQN and PPO presets). Nil for an unknown name.
    public enum Family: String, Sendable { case anf, graesser }

    public static func family(ofPreset name: String) -> Family? {
        let base = name.split(separator: "@").first.map { String($0).lowercased() } ?? ""
        guard names.contains(base) else { return nil }
        if let added = SparseMethods.presets.first(where: { $0.name == base }) { return family(ofPreset: added.base) }
        if base == "dense-sac-graesser" || ["set-sac", "rigl-sac", "prune-sac"].contains(base)
            || base.hasSuffix("-dqn") || base.hasSuffix("-dqn-atari") || base.hasSuffix("-dqn-atari-impala")
            || base.hasSuffix("-ppo") { return .graesser }
        return .anf
    }

    /// Coupled weight decay equal to Keras' `L2(l2)` regulariser (and TF-Agents' PPO l2 terms): both add l2·Σw² to the
    /// loss (`tf.nn.scale_regularization_loss` sums), whose gradient is 2·l2·w, so Sparrow's `g += wd·w` needs
    /// wd = 2·l2. The one place that factor is written.
    public static func kerasL2(_ l2: Double) -> Double { 2 * l2 }

    /// The sparse-training method of a preset (nil for an unknown name).
    public static func method(ofPreset name: String) -> AgentConfig.Method? {
        (try? base(named: name, task: nil))?.agent.method
    }

    /// The algorithm of a preset (nil for an unknown name).
    public static func algorithm(ofPreset name: String) -> AgentConfig.Algorithm? {
        (try? base(named: name, task: nil))?.agent.algorithm
    }

    /// Why `algorithm` cannot run on an env, and what can.
    static func mismatch(env: String, discrete: Bool, algorithm: AgentConfig.Algorithm) -> String {
        let fitting = names.filter { (try? base(named: $0, task: nil))?.agent.algorithm.actsDiscretely == discrete }
        return "\(env) has \(discrete ? "discrete" : "continuous (box)") actions and algorithm \(algorithm.rawValue) needs "
            + "\(discrete ? "continuous" : "discrete") ones; presets for \(env): \(fitting.joined(separator: ", "))"
    }

    static func mismatch(env: String, actions: ActionSpace, algorithm: AgentConfig.Algorithm) -> String {
        mismatch(env: env, discrete: actions.choices != nil, algorithm: algorithm)
    }

    /// The preset's values (`task` picks Sokar's per-robot λ; nil: the default).
    static func base(named name: String, task: TaskID?) throws -> TrainConfig {
        if let at = name.firstIndex(of: "@") { return try parameterMatched(name, at: at, task: task) }
        var robot: EnvironmentID? = nil
        if case .locomotion(let id)? = task { robot = id }
        if let added = SparseMethods.presets.first(where: { $0.name == name.lowercased() }) {
            var c = try base(named: added.base, task: task)
            added.adjust(&c.agent)
            return c
        }
        switch name.lowercased() {
        case "dense-sac": return anf(.sac, method: .dense, sparsity: 0)
        case "dense-sac-graesser": return graesser(method: .dense)
        case "dense-td3": return anf(.td3, method: .dense, sparsity: 0)
        case "ss-sac": return anf(.sac, method: .static, sparsity: 0.9)
        case "ss-td3": return anf(.td3, method: .static, sparsity: 0.9)
        case "tows-sac": return anf(.sac, method: .tows, sparsity: 0.9)
        case "tows-td3": return anf(.td3, method: .tows, sparsity: 0.9)
        case "ds-td3": return sokar(.td3, env: robot)
        case "ds-sac": return sokar(.sac, env: robot)
        case "set-sac": return graesser(method: .set)
        case "rigl-sac": return graesser(method: .rigl)
        case "prune-sac": return graesser(method: .prune)
        case "dense-dqn": return graesserDQN(method: .dense)
        case "static-dqn": return graesserDQN(method: .static)
        case "set-dqn": return graesserDQN(method: .set)
        case "rigl-dqn": return graesserDQN(method: .rigl)
        case "prune-dqn": return graesserDQN(method: .prune)
        case "dense-dqn-atari": return graesserAtariDQN(method: .dense)
        case "static-dqn-atari": return graesserAtariDQN(method: .static)
        case "set-dqn-atari": return graesserAtariDQN(method: .set)
        case "rigl-dqn-atari": return graesserAtariDQN(method: .rigl)
        case "prune-dqn-atari": return graesserAtariDQN(method: .prune)
        case "dense-dqn-atari-impala": return graesserAtariDQN(method: .dense, network: .impala)
        case "static-dqn-atari-impala": return graesserAtariDQN(method: .static, network: .impala)
        case "set-dqn-atari-impala": return graesserAtariDQN(method: .set, network: .impala)
        case "rigl-dqn-atari-impala": return graesserAtariDQN(method: .rigl, network: .impala)
        case "prune-dqn-atari-impala": return graesserAtariDQN(method: .prune, network: .impala)
        case "dense-ppo": return graesserPPO(method: .dense)
        case "static-ppo": return graesserPPO(method: .static)
        case "set-ppo": return graesserPPO(method: .set)
        case "rigl-ppo": return graesserPPO(method: .rigl)
        case "prune-ppo": return graesserPPO(method: .prune)
        default:
            throw ConfigError("unknown preset '\(NearMiss.shown(name))'; valid: \(names.joined(separator: ", "))"
                              + (NearMiss.closest(to: name, among: names).map { "; did you mean \($0)?" } ?? ""))
        }
    }

    /// `dense-sac@0.9`: a dense preset with `params-like 0.9` (its networks shrunk to the live parameter count of
    /// 90% sparsity), so parameter-matched baselines sweep like any preset.
    static func parameterMatched(_ name: String, at: String.Index, task: TaskID?) throws -> TrainConfig {
        let base = String(name[..<at]), suffix = String(name[name.index(after: at)...])
        // The Atari networks have fixed convolutions, so their dense presets have no parameter-matched twin.
        let dense = names.filter { $0.hasPrefix("dense-") && !$0.contains("-atari") }
        guard dense.contains(base.lowercased()) else {
            throw ConfigError("preset \(name): only dense presets take @SPARSITY (\(dense.map { $0 + "@0.9" }.joined(separator: ", ")))")
        }
        guard let p = Double(suffix), p > 0, p < 1 else {
            throw ConfigError("preset \(name): the sparsity after @ must be a number in (0, 1), got '\(suffix)'")
        }
        var c = try self.base(named: base, task: task)
        c.agent.paramsLike = p
        return c
    }

    /// Grooten et al. (TowS) via the ANF code's defaults.
    static func anf(_ algorithm: AgentConfig.Algorithm, method: AgentConfig.Method, sparsity: Double) -> TrainConfig {
        var c = TrainConfig()
        c.startSteps = 25_000
        c.evalEvery = 5000
        c.evalEpisodes = 5
        var a = AgentConfig()
        a.algorithm = algorithm
        a.method = method
        a.sparsity = sparsity
        a.distribution = .uniform
        a.denseOutputLayer = true
        a.backend = .sparse
        a.moments = .masked
        a.initialization = algorithm == .sac ? .xavierUniform : .pytorchLinear  // ANF SAC: xavier_uniform, zero bias
        a.updateInterval = 1000
        a.updateOffset = 2
        a.dropFraction = 0.05
        a.drop = .magnitude
        a.grow = .random
        a.growInit = .zero
        a.targetTopology = .maintainSparsity
        a.batchSize = 100
        a.actorLR = 1e-3; a.criticLR = 1e-3; a.alphaLR = 1e-3
        a.weightDecay = 2e-4
        a.tau = 0.005
        a.alpha = 0.2
        a.autotuneAlpha = false
        a.logStdBounding = .clamp; a.logStdMin = -20; a.logStdMax = 2
        a.policyDelay = 2; a.policyNoise = 0.2; a.noiseClip = 0.5; a.explorationNoise = 0.1
        c.agent = a
        return c
    }

    /// Sokar et al.: DS-TD3 from its code, DS-SAC from its appendix.
    static func sokar(_ algorithm: AgentConfig.Algorithm, env: EnvironmentID?) -> TrainConfig {
        var c = anf(algorithm, method: .ds, sparsity: 0)
        c.evalEpisodes = 10
        var a = c.agent
        a.distribution = .erEpsilon
        a.backend = .masked
        a.moments = .unmasked
        a.bernoulliTopology = true
        a.initialization = .pytorchLinear
        a.drop = .signedMagnitude
        a.finalDrop = true
        a.updateStop = 0.95
        if algorithm == .td3 {
            // λ1 per env (paper §4.4), λ2 = 64; ζ = 0.05; lr 1e-3, batch 100, wd 2e-4.
            a.erEpsilon = [env == .ant ? 40 : env == .humanoid ? 61 : 7, 64]
        } else {
            // Appendix Table 3 (λ1/λ2), η = 0.1, lr 3e-4, batch 256, hard targets every 1000, α = 0.2.
            let table: [EnvironmentID: [Double]] = [.halfCheetah: [12, 80], .walker2d: [12, 80], .hopper: [7, 20],
                                                    .ant: [30, 64], .humanoid: [61, 64]]
            a.erEpsilon = env.flatMap { table[$0] } ?? [7, 20]
            a.dropFraction = 0.1
            a.actorLR = 3e-4; a.criticLR = 3e-4; a.alphaLR = 3e-4
            a.batchSize = 256
            a.weightDecay = 0
            a.tau = 1
            a.targetUpdateInterval = 1000
        }
        c.agent = a
        return c
    }

    /// rigl/rl's sparse-training settings, shared by its SAC and DQN configs (`a.method` chooses among them): ERK over
    /// every layer (`sparse_output_layer = True`; ERK keeps a layer dense if its budget would exceed 1), masked
    /// moments, mask updates every 1000 updates dropping by magnitude a fraction 0.5 cosine-decayed to the last update
    /// at `lastUpdate` (of the run's updates), random (SET) or gradient (RigL) growth at zero with zeroed moments,
    /// targets copying the online topology; pruning (masked backend, it starts dense) from `pruneBegin` to
    /// `lastUpdate` every `pruneFrequency` updates.
    static func riglSparseTraining(_ a: inout AgentConfig, lastUpdate: Double, pruneBegin: Double, pruneFrequency: Int) {
        a.distribution = .erk
        a.denseOutputLayer = false
        a.backend = a.method == .prune ? .masked : .sparse
        a.moments = .masked
        a.updateInterval = 1000
        a.updateOffset = 0
        a.dropFraction = 0.5
        a.dropSchedule = .cosine
        a.drop = .magnitude
        a.grow = a.method == .rigl ? .gradient : .random
        a.growInit = .zero
        a.updateStop = lastUpdate
        a.targetTopology = .copyOnline
        a.pruneBegin = pruneBegin; a.pruneEnd = lastUpdate; a.pruneFrequency = pruneFrequency
    }

    /// Graesser et al. (rigl/rl SAC configs).
    static func graesser(method: AgentConfig.Method) -> TrainConfig {
        var c = TrainConfig()
        c.startSteps = 1000
        c.evalEvery = 10_000
        c.evalEpisodes = 30
        var a = AgentConfig()
        a.algorithm = .sac
        a.method = method
        a.sparsity = method == .dense ? 0 : 0.9
        riglSparseTraining(&a, lastUpdate: 0.8, pruneBegin: 0.2, pruneFrequency: 1000)
        // glorot for dense and pruning; fixed_sparse_init for sparse
        a.initialization = method == .prune || method == .dense ? .xavierUniform : .sparsityAware
        a.batchSize = 256
        a.actorLR = 3e-4; a.criticLR = 3e-4; a.alphaLR = 3e-4
        a.weightDecay = kerasL2(method == .dense || method == .prune ? 1e-4 : 1e-6)
        a.decayBiases = false
        a.targetEntropyPerAction = -0.5
        a.tau = 0.005
        a.rewardScale = 0.1
        a.autotuneAlpha = true
        a.alpha = 1
        a.logStdBounding = .clamp; a.logStdMin = -20; a.logStdMax = 2
        c.agent = a
        return c
    }

    /// Graesser et al.'s DQN on classic control: rigl/rl `dqn_gym_dense_config.gin` / `dqn_gym_sparse_config.gin` /
    /// `dqn_gym_pruning_config.gin` and the defaults of `dqn_train_eval.py` (TF-Agents `DqnAgent`):
    /// - 512-512 ReLU Q network; 1000 random collect steps, then one env step and one update per iteration for
    ///   100k updates (`steps` 101 000 = 1000 + 100 000); batch 128; replay 100k; γ 0.99; n-step 1; target network
    ///   hard-synced (τ 1) every 100 updates; ε-greedy with constant ε 0.01 after the random steps (the
    ///   reference's `epsilon_greedy = 0.01` is a float, so its `epsilon_decay_period` is unused).
    /// - Adam: `tf.keras.optimizers.Adam(learning_rate=1e-3)`, i.e. lr 1e-3, β 0.9/0.999 and Keras' ε 1e-7.
    /// - Loss: the issue asks for Huber (TF-Agents' default `element_wise_huber_loss`, δ 1); the reference script
    ///   passes `common.element_wise_squared_loss`. The presets use Huber; `--td-loss squared` is the script's.
    /// - Evaluation every 2000 steps over 20 greedy episodes (the reference counts train steps, 1000 behind
    ///   Sparrow's env steps); final score = mean of the last 10% of evaluations, as `average_last_fraction`.
    /// - Sparse (static, SET, RigL): ERK 90% over all layers (`sparse_output_layer = True`), sparsity-aware init,
    ///   mask updates every 1000 updates with drop fraction 0.5 cosine-decayed to the last update at 75k updates
    ///   (`update-stop` 0.75); grown weights 0 with zeroed moments. Pruning: ERK 90% final, 20k → 75k every 1000
    ///   (`prune-begin` 0.2, `prune-end` 0.75), masked backend, dense init.
    /// - Weight decay: Keras `L2(1e-6)` on kernels (`kerasL2`), for dense and sparse alike; biases are not decayed
    ///   (runs before issue 24 decayed them too).
    /// - Init: dense and pruned networks use He truncated normal (`VarianceScaling(2, fan_in, truncated_normal)`)
    ///   in every layer; the reference's output layer draws U(±0.03) with biases −0.2, which Sparrow does not
    ///   reproduce (a common shift of all Q values at the start).
    static func graesserDQN(method: AgentConfig.Method) -> TrainConfig {
        var c = TrainConfig()
        c.steps = 101_000
        c.startSteps = 1000
        c.evalEvery = 2000
        c.evalEpisodes = 20
        c.checkpointEvery = 10_000
        var a = AgentConfig()
        a.algorithm = .dqn
        a.method = method
        a.sparsity = method == .dense ? 0 : 0.9
        a.hidden = [512, 512]
        a.activation = .relu
        riglSparseTraining(&a, lastUpdate: 0.75, pruneBegin: 0.2, pruneFrequency: 1000)
        a.initialization = method == .dense || method == .prune ? .heTruncatedNormal : .sparsityAware
        a.batchSize = 128
        a.bufferSize = 100_000
        a.gamma = 0.99
        a.tau = 1
        a.targetUpdateInterval = 100
        a.criticLR = 1e-3
        a.adamEpsilon = 1e-7
        a.weightDecay = kerasL2(1e-6)
        a.decayBiases = false
        a.tdLoss = .huber
        a.epsilonStart = 1; a.epsilonFinal = 0.01; a.epsilonDecay = 0
        c.agent = a
        return c
    }

    /// Graesser et al.'s DQN on Atari: rigl/rl `sparsetrain_configs/dqn_atari_{dense,static,set,rigl,prune}.gin`
    /// over Dopamine's `dqn.gin`, with rigl/rl's `SparseDQNAgent` and `NatureDQNNetwork` (`dqn_agents.py`):
    /// - Dopamine's Atari: sticky actions 0.25 (`ALE/<Game>-v5`), frame skip 4 with the max-pool of the last two
    ///   frames, 84×84 grayscale, 4 stacked frames, no no-op starts (`noop-max` 0; Dopamine has none), 27 000-step
    ///   (108 000-frame) episodes, no terminal on life loss; rewards clipped to [−1, 1] for learning.
    /// - 40 iterations × 250 000 agent steps = 10M steps (`steps`); 20 000 steps before learning
    ///   (`min_replay_history`, acting uniformly at random as ε = 1 there), then one update every 4 steps
    ///   (`update_period`): 2.495M updates; batch 32; replay 1M; γ 0.99; target network copied every 8000 agent
    ///   steps = 2000 updates; ε from 1 to 0.01 over 250 000 steps after the start, 0.001 in evaluation.
    /// - Adam (`tf.train.AdamOptimizer`, lr 2.5e-4, ε 1e-8); Huber loss (δ 1), mean over the batch; weight decay 0.
    /// - Nature CNN with "SAME" padding (7744 features into the 512-unit layer), Keras' Glorot-uniform kernels and
    ///   zero biases; frames scaled to [0, 1] in the network.
    /// - Sparse: ERK over all five layers (`init_masks.mask_init_method = 'erdos_renyi_kernel'`, conv kernels by
    ///   their [KH, KW, C_in, C_out] dimensions); static 95% with the dense (Glorot) init masked, as its gin file
    ///   sets no `fixed_sparse_init`; SET and RigL 90% with the sparsity-aware init (`fixed_sparse_init = True`),
    ///   mask updates every 5000 updates from the first, drop fraction 0.3 cosine-decayed, the last at 2M of the
    ///   2.5M updates (`update-stop` 0.8); grown weights 0. Pruning: ERK 95% final, from 500k to 2M updates
    ///   (0.2 to 0.8) every 5000, masked backend, dense init.
    /// - Evaluation: Dopamine evaluates for 125 000 steps after each 250 000-step iteration and reports the mean
    ///   return of the episodes it runs (the last one to its end); `--eval-steps 125000` does exactly that (the
    ///   paper's grid, `sweeps/graesser-dqn-atari.yaml`, sets it). The presets evaluate every 250 000 steps over
    ///   `eval-episodes` 10 whole episodes (ε 0.001) instead — the same policy for a fifth of the evaluation cost,
    ///   and what the runs made before `eval-steps` existed used.
    ///
    /// `network: .impala` (`*-dqn-atari-impala`): `dqn_atari_*_impala_net.gin` — everything above except the
    /// network, rigl/rl's `ImpalaNetwork` without batch norm (`NeuralNet.ImpalaNetwork`: 15 SAME 3×3 convolutions
    /// in three residual stacks, dense 256), and its optimizer: Adam lr 1e-4, ε 3.125e-4, weight decay 1e-5 on the
    /// kernels only (`SparseDQNAgent.weight_decay`: `tf.nn.l2_loss(v)·wd` = ½·wd·Σw², gradient wd·w, biases
    /// excluded). Sparsities as for the Nature CNN (static and pruning 95%, SET and RigL 90%). Pruning's per-layer
    /// targets come from ERK over the network's `layer_shape_dict`, which lists the first dense layer as
    /// 7744 × 512 although the layer is 7744 × 256; Sparrow solves the pruning targets with that shape too
    /// (`NetworkFactory.pruningSchedules`), while the sparse methods' masks (`init_masks`, over the real variables)
    /// use the real one.
    static func graesserAtariDQN(method: AgentConfig.Method, network: AgentConfig.Network = .natureCNN) -> TrainConfig {
        var c = TrainConfig()
        c.steps = 10_000_000
        c.startSteps = 20_000
        c.evalEvery = 250_000
        c.evalEpisodes = 10
        c.checkpointEvery = 250_000
        c.logEvery = 10_000
        c.noopMax = 0
        var a = AgentConfig()
        a.algorithm = .dqn
        a.network = .natureCNN
        a.method = method
        a.sparsity = method == .dense ? 0 : method == .static || method == .prune ? 0.95 : 0.9
        a.hidden = [512]
        a.activation = .relu
        riglSparseTraining(&a, lastUpdate: 0.8, pruneBegin: 0.2, pruneFrequency: 5000)
        a.updateInterval = 5000
        a.dropFraction = 0.3
        a.initialization = method == .set || method == .rigl ? .sparsityAware : .xavierUniform
        a.batchSize = 32
        a.bufferSize = 1_000_000
        a.gamma = 0.99
        a.tau = 1
        a.updateEvery = 4
        a.targetUpdateInterval = 2000
        a.criticLR = 2.5e-4
        a.adamEpsilon = 1e-8
        a.weightDecay = 0
        a.decayBiases = false
        a.tdLoss = .huber
        a.rewardClip = 1
        a.epsilonStart = 1; a.epsilonFinal = 0.01; a.epsilonDecaySteps = 250_000
        a.evalEpsilon = 0.001
        if network == .impala {
            a.network = .impala
            a.hidden = [ImpalaNetwork.hidden]
            a.criticLR = 1e-4
            a.adamEpsilon = 3.125e-4
            a.weightDecay = 1e-5
        }
        c.agent = a
        return c
    }

    /// Graesser et al.'s PPO on MuJoCo: rigl/rl `ppo_mujoco_dense_config.gin` / `ppo_mujoco_sparse_config.gin` /
    /// `ppo_mujoco_pruning_config.gin` (ce92eab) and `ppo_train_eval.py` (TF-Agents `PPOClipAgent` + `PPOLearner`):
    /// - 489 iterations of 2048 env steps (`steps` 1 001 472), 10 epochs of minibatches of 64: 320 gradient steps
    ///   per iteration, 156 480 in all; γ 0.99, GAE λ 0.95, clip 0.2, value coefficient 0.5, entropy 0, global
    ///   gradient-norm clip 0.5; Adam lr 3e-4 for both networks, ε 1e-5, decayed linearly to 0 over the iterations.
    /// - Actor 64-64 tanh, value 64-64 ReLU, orthogonal init; actor output `VarianceScaling(0.1)`, value output
    ///   U(±0.03), state-independent σ = softplus(ρ) starting at 0.35 (see `PPO`).
    /// - Observation normalisation and reward scaling on: `PPOClipAgent`'s defaults (`normalize_observations`,
    ///   `normalize_rewards`, reward clip 10), updated with each rollout before learning from it, as `PPOLearner`.
    /// - Evaluation every 2000 gradient steps = 12 800 env steps, over 20 episodes (`eval_interval`, `eval_episodes`).
    /// - Sparse (static, SET, RigL): ERK 90% over all layers, sparsity-aware init, weight decay 1e-4 (dense and
    ///   pruning: 1e-6) as TF-Agents' `policy_l2_reg`/`value_function_l2_reg`, which add wd·Σw² over kernels (`kerasL2`:
    ///   gradient 2·wd·w; runs before issue 24 used wd·w),
    ///   mask updates every 250 gradient steps with drop fraction 0.3 cosine-decayed to the last update at 120 000.
    ///   Pruning: ERK 90% final, from 32 000 to 120 000 every 500, masked backend, dense init.
    /// - Where the reference is silent (CleanRL `ppo_continuous_action.py`): sampled actions are clipped to the
    ///   bounds for the env, the rollout keeps them unclipped; truncated episodes bootstrap from the value of their
    ///   final observation (TF-Agents does not).
    static func graesserPPO(method: AgentConfig.Method) -> TrainConfig {
        var c = TrainConfig()
        let iterations = 489, rollout = 2048
        c.steps = iterations * rollout
        c.startSteps = 0
        c.evalEvery = 12_800
        c.evalEpisodes = 20
        c.checkpointEvery = 10 * rollout
        c.logEvery = rollout
        let updates = Double(iterations * 10 * (rollout / 64))  // 156 480
        var a = AgentConfig()
        a.algorithm = .ppo
        a.method = method
        a.sparsity = method == .dense ? 0 : 0.9
        a.hidden = [64, 64]
        a.activation = .tanh
        a.valueActivation = .relu
        riglSparseTraining(&a, lastUpdate: 120_000 / updates, pruneBegin: 32_000 / updates, pruneFrequency: 500)
        a.updateInterval = 250
        a.dropFraction = 0.3
        a.initialization = method == .dense || method == .prune ? .orthogonal : .sparsityAware
        a.weightDecay = kerasL2(method == .dense || method == .prune ? 1e-6 : 1e-4)
        a.decayBiases = false
        a.batchSize = 64
        a.rolloutSteps = rollout
        a.epochs = 10
        a.gamma = 0.99
        a.gaeLambda = 0.95
        a.clipRatio = 0.2
        a.valueCoef = 0.5
        a.entropyCoef = 0
        a.maxGradNorm = 0.5
        a.lrDecay = true
        a.actorLR = 3e-4; a.criticLR = 3e-4
        a.adamEpsilon = 1e-5
        a.normalizeObservations = true
        a.normalizeRewards = true
        a.initStd = 0.35
        c.agent = a
        return c
    }
}
