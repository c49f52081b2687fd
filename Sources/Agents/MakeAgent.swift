import Foundation
import NeuralNet
import SparrowCore

/// Builds the off-policy agent a config names, for an environment's observation size and actions: SAC and TD3 need
/// a box of continuous actions, DQN discrete ones.
/// `noiseInputs`: noise features the agent draws for every forward pass (SAC and TD3; see `ActorCriticAgent`).
public func makeAgent(config: AgentConfig, observationSize: Int, actions: ActionSpace,
                      totalUpdates: Int, seed: UInt64, noiseInputs: Int = 0) throws -> any OffPolicyAgent {
    if noiseInputs > 0, !config.algorithm.declaration.drawsNoiseFeatures {
        throw ConfigError("noise features drawn by the network (ANF) are for sac and td3; \(config.algorithm.rawValue) takes them from the environment (noise-features-mode environment)")
    }
    switch (config.algorithm, actions) {
    case (.sac, .box(let box)):
        return try SAC(config: config, observationSize: observationSize, actionLow: box.low, actionHigh: box.high,
                       totalUpdates: totalUpdates, seed: seed, noiseInputs: noiseInputs)
    case (.td3, .box(let box)):
        return try TD3(config: config, observationSize: observationSize, actionLow: box.low, actionHigh: box.high,
                       totalUpdates: totalUpdates, seed: seed, noiseInputs: noiseInputs)
    case (.dqn, .discrete(let n)):
        return try DQN(config: config, observationSize: observationSize, choices: n, totalUpdates: totalUpdates, seed: seed)
    case (.sac, .discrete), (.td3, .discrete):
        throw ConfigError("algorithm \(config.algorithm.rawValue) needs continuous (box) actions; for discrete actions use dqn")
    case (.dqn, .box):
        throw ConfigError("algorithm dqn needs discrete actions; for continuous (box) actions use sac or td3")
    case (.ppo, _):
        throw ConfigError("algorithm ppo learns on-policy, from rollouts, not from a replay buffer (see `PPO`)")
    }
}

