import Agents
import Environments
import Foundation

/// The agent and the replay buffer a config names, sized for an environment: one place for the algorithm → agent
/// choice (training, checkpoints that only act, the observation statistics of `eval --noise-scale std`).
public enum AgentFactory {
    /// The replay buffer of an off-policy run: `buffer-size` transitions, at most the run's steps.
    public static func makeReplayBuffer(config: TrainConfig, env: any TrainingEnvironment) -> ReplayBuffer {
        ReplayBuffer(capacity: min(config.agent.bufferSize, config.steps), observationSize: env.observationSpace.dimension,
                     actionSize: env.actions.componentCount)
    }

    /// What an off-policy run stores its transitions in: newest frames only for an environment of stacked frames
    /// (Atari), else the vector `ReplayBuffer`.
    public static func makeTransitionMemory(config: TrainConfig, env: any TrainingEnvironment) -> any TransitionMemory {
        if let frames = env as? any FrameEnvironment {
            let capacity = max(min(config.agent.bufferSize, config.steps), frames.frameStack + 1)
            return FrameReplayMemory(capacity: capacity, frameSize: frames.frameSize, stackSize: frames.frameStack)
        }
        return makeReplayBuffer(config: config, env: env)
    }

    /// The agent `config` names, sized for `env` (its declaration builds it); an algorithm that does not fit the
    /// env's actions (SAC on CartPole, DQN on Hopper) is a one-line error naming the env and the presets that fit.
    public static func makeAgent(config: TrainConfig, env: any TrainingEnvironment) throws -> any Agent {
        let algorithm = config.agent.algorithm
        if algorithm.actsDiscretely != (env.actions.choices != nil) {
            throw ConfigError(Presets.mismatch(env: config.env, actions: env.actions, algorithm: algorithm))
        }
        let n = env.observationSpace.dimension
        return try Agents.makeAgent(AgentRequest(config: config.agent, observationSize: n, actions: env.actions,
                                                 totalUpdates: config.totalUpdates, totalIterations: config.iterations,
                                                 seed: config.seed, noiseInputs: config.agentNoiseInputs(realFeatures: n)))
    }

    /// The PPO agent of an on-policy run (`OnPolicyTrainer` runs PPO's rollouts and learning phases).
    public static func makePPO(config: TrainConfig, env: any TrainingEnvironment) throws -> PPO {
        guard let ppo = try makeAgent(config: config, env: env) as? PPO else {
            throw ConfigError("the on-policy loop runs ppo; algorithm \(config.agent.algorithm.rawValue) learns off-policy")
        }
        return ppo
    }

    /// The off-policy agent `config` names, sized for `env`.
    public static func makeOffPolicyAgent(config: TrainConfig, env: any TrainingEnvironment) throws -> any OffPolicyAgent {
        guard let agent = try makeAgent(config: config, env: env) as? any OffPolicyAgent else {
            throw ConfigError("algorithm \(config.agent.algorithm.rawValue) learns on-policy, from rollouts, not from a replay buffer")
        }
        return agent
    }
}
