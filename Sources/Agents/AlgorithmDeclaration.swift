import NeuralNet
import SparrowCore

/// What an algorithm is, declared once (issue 22 part 2): the actions it takes, the loop it learns in, its
/// networks and their roles, the metrics its updates report, and whether its
/// networks draw ANF's noise features. The training loops, the CLI, checks and tests read these instead of
/// branching on the algorithm; `AgentConfig.Algorithm.declaration` finds one. Adding an algorithm on existing
/// networks: its agent file (the agent and its declaration), its case of `AgentConfig.Algorithm`, its line in `all`,
/// its presets and its tests.
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
    /// The metrics.csv columns its updates fill (`UpdateMetrics`), beside the ones every run has.
    public let updateMetrics: [String]
    /// Whether its networks can draw ANF's noise features themselves (`noise-features-mode network`).
    public let drawsNoiseFeatures: Bool
    /// Builds the agent for a request whose actions are of the declared kind (`makeAgent` checks them first).
    public let make: @Sendable (AgentRequest) throws -> any Agent

    /// Every algorithm, in `AgentConfig.Algorithm` order; each declaration lives beside its agent (SAC.swift, …).
    public static let all: [AlgorithmDeclaration] = [.sac, .td3, .dqn, .ppo]
}

extension AgentConfig.Algorithm {
    /// This algorithm's declaration.
    public var declaration: AlgorithmDeclaration {
        guard let d = AlgorithmDeclaration.all.first(where: { $0.algorithm == self }) else {
            preconditionFailure("algorithm \(rawValue) has no declaration in AlgorithmDeclaration.all")
        }
        return d
    }

    /// Whether the algorithm acts with an index among discrete actions (DQN) rather than a continuous vector.
    public var actsDiscretely: Bool { declaration.actions == .discrete }
    /// Whether it learns from rollouts of its current policy (PPO) rather than from a replay buffer.
    public var isOnPolicy: Bool { declaration.loop == .onPolicy }
}

/// What an agent is built for: its config, the environment's observation size and actions, and the run's length
/// (gradient updates for off-policy agents, iterations for on-policy ones).
public struct AgentRequest: Sendable {
    public var config: AgentConfig
    public var observationSize: Int
    public var actions: ActionSpace
    public var totalUpdates: Int
    public var totalIterations: Int
    public var seed: UInt64
    /// Noise features the agent's networks draw themselves (algorithms with `drawsNoiseFeatures`).
    public var noiseInputs: Int

    public init(config: AgentConfig, observationSize: Int, actions: ActionSpace, totalUpdates: Int, totalIterations: Int = 1,
                seed: UInt64, noiseInputs: Int = 0) {
        self.config = config; self.observationSize = observationSize; self.actions = actions
        self.totalUpdates = totalUpdates; self.totalIterations = totalIterations; self.seed = seed; self.noiseInputs = noiseInputs
    }
}

/// The agent a request names, after the checks every algorithm shares: actions of the declared kind, noise features
/// only for algorithms whose networks draw them.
public func makeAgent(_ request: AgentRequest) throws -> any Agent {
    let d = request.config.algorithm.declaration, name = request.config.algorithm.rawValue
    if request.noiseInputs > 0, !d.drawsNoiseFeatures {
        let drawing = AlgorithmDeclaration.all.filter(\.drawsNoiseFeatures).map(\.algorithm.rawValue).joined(separator: " and ")
        throw ConfigError("noise features drawn by the network (ANF) are for \(drawing); \(name) takes them from the environment (noise-features-mode environment)")
    }
    let discrete = request.actions.choices != nil
    if discrete != (d.actions == .discrete) {
        let fitting = AlgorithmDeclaration.all.filter { ($0.actions == .discrete) == discrete }.map(\.algorithm.rawValue)
        throw ConfigError("algorithm \(name) needs \(discrete ? "continuous (box)" : "discrete") actions; for \(discrete ? "discrete" : "continuous (box)") actions use \(fitting.joined(separator: " or "))")
    }
    return try d.make(request)
}
