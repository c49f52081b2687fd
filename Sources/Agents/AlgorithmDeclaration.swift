import NeuralNet
import SparrowCore

/// What an algorithm is, declared once (issue 22 part 2): the actions it takes, the loop it learns in, its
/// networks and their roles, what its policy can be exported as, the metrics its updates report, and whether its
/// networks draw ANF's noise features. The training loops, the CLI, checks and tests read these instead of
/// branching on the algorithm; `AgentConfig.Algorithm.declaration` finds one.
public struct AlgorithmDeclaration: Sendable {
    public enum Actions: Sendable { case continuous, discrete }
    public enum Loop: Sendable {
        /// Learns from batches of a replay memory (`OffPolicyAgent`, `OffPolicyTrainer`).
        case offPolicy
        /// Learns from rollouts of its current policy (`OnPolicyTrainer`).
        case onPolicy
    }

    public let algorithm: AgentConfig.Algorithm
    /// One line naming the paper and the reference implementation Sparrow follows.
    public let summary: String
    public let actions: Actions
    public let loop: Loop
    /// The agent's networks, in `Agent.networks` (and checkpoint) order, with their roles; `target_actor` only
    /// where the algorithm keeps one.
    public let networks: [(name: String, role: NetworkRole)]
    /// Why `replay --export-policy` cannot write a `.policy` file of it (nil: it can). Every algorithm exports to
    /// ONNX and C (`sparrow export`).
    public let policyFileRefusal: String?
    /// The metrics.csv columns its updates fill (`UpdateMetrics`), beside the ones every run has.
    public let updateMetrics: [String]
    /// Whether its networks can draw ANF's noise features themselves (`noise-features-mode network`).
    public let drawsNoiseFeatures: Bool

    public static let sac = AlgorithmDeclaration(
        algorithm: .sac, summary: "Soft actor-critic (Haarnoja et al. 2018), as ANF's and TF-Agents' code.",
        actions: .continuous, loop: .offPolicy,
        networks: [("actor", .policy), ("critic1", .value), ("critic2", .value),
                   ("target_critic1", .target(of: "critic1")), ("target_critic2", .target(of: "critic2"))],
        policyFileRefusal: nil, updateMetrics: ["critic_loss", "actor_loss", "alpha", "mean_q"], drawsNoiseFeatures: true)

    public static let td3 = AlgorithmDeclaration(
        algorithm: .td3, summary: "TD3 (Fujimoto et al. 2018), as ANF's and Sokar's code.",
        actions: .continuous, loop: .offPolicy,
        networks: [("actor", .policy), ("critic1", .value), ("critic2", .value),
                   ("target_critic1", .target(of: "critic1")), ("target_critic2", .target(of: "critic2")),
                   ("target_actor", .target(of: "actor"))],
        policyFileRefusal: nil, updateMetrics: ["critic_loss", "actor_loss", "mean_q"], drawsNoiseFeatures: true)

    public static let dqn = AlgorithmDeclaration(
        algorithm: .dqn, summary: "DQN (Mnih et al. 2015), as TF-Agents' DqnAgent (rigl/rl) and Dopamine on Atari.",
        actions: .discrete, loop: .offPolicy,
        networks: [("q", .value), ("target_q", .target(of: "q"))],
        policyFileRefusal: "--export-policy writes continuous-action actors; replay the dqn checkpoint itself, or `sparrow export` it as ONNX or C",
        updateMetrics: ["critic_loss", "mean_q", "td_loss"], drawsNoiseFeatures: false)

    public static let ppo = AlgorithmDeclaration(
        algorithm: .ppo, summary: "PPO (Schulman et al. 2017), as TF-Agents' PPOClipAgent (rigl/rl).",
        actions: .continuous, loop: .onPolicy,
        networks: [("actor", .policy), ("value", .value)],
        policyFileRefusal: "--export-policy writes SAC and TD3 actors; a ppo policy needs its observation normaliser, which policy files do not hold: replay the ppo checkpoint itself, or `sparrow export` it as ONNX or C",
        updateMetrics: ["critic_loss", "actor_loss", "value_loss", "approx_kl", "clip_fraction"], drawsNoiseFeatures: false)
}

extension AgentConfig.Algorithm {
    /// This algorithm's declaration.
    public var declaration: AlgorithmDeclaration {
        switch self {
        case .sac: return .sac
        case .td3: return .td3
        case .dqn: return .dqn
        case .ppo: return .ppo
        }
    }

    /// Whether the algorithm acts with an index among discrete actions (DQN) rather than a continuous vector.
    public var actsDiscretely: Bool { declaration.actions == .discrete }
    /// Whether it learns from rollouts of its current policy (PPO) rather than from a replay buffer.
    public var isOnPolicy: Bool { declaration.loop == .onPolicy }
}
