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

    /// The agent `config` names, sized for `env`: PPO or an off-policy one.
    public static func makeAgent(config: TrainConfig, env: any TrainingEnvironment) throws -> any Agent {
        config.agent.algorithm.isOnPolicy ? try makePPO(config: config, env: env) : try makeOffPolicyAgent(config: config, env: env)
    }

    /// PPO sized for `env`, which must have continuous (box) actions.
    public static func makePPO(config: TrainConfig, env: any TrainingEnvironment) throws -> PPO {
        guard case .box(let box) = env.actions else {
            throw ConfigError(Presets.mismatch(env: config.env, actions: env.actions, algorithm: config.agent.algorithm))
        }
        return try PPO(config: config.agent, observationSize: env.observationSpace.dimension, actionLow: box.low,
                       actionHigh: box.high, totalIterations: config.iterations, seed: config.seed)
    }

    /// The off-policy agent `config` names, sized for `env`; an algorithm that does not fit the env's actions (SAC
    /// on CartPole, DQN on Hopper) is a one-line error naming the env and what fits.
    public static func makeOffPolicyAgent(config: TrainConfig, env: any TrainingEnvironment) throws -> any OffPolicyAgent {
        let algorithm = config.agent.algorithm
        if algorithm.actsDiscretely != (env.actions.choices != nil) {
            throw ConfigError(Presets.mismatch(env: config.env, actions: env.actions, algorithm: algorithm))
        }
        let n = env.observationSpace.dimension
        return try Agents.makeAgent(config: config.agent, observationSize: n, actions: env.actions,
                                    totalUpdates: config.totalUpdates, seed: config.seed,
                                    noiseInputs: config.agentNoiseInputs(realFeatures: n))
    }
}
