import Foundation
import NeuralNet
import SparrowCore

/// Builds the off-policy agent a config names, for an environment's observation size and actions (`makeAgent` of
/// an `AgentRequest`, then the off-policy check).
/// `noiseInputs`: noise features the agent draws for every forward pass (SAC and TD3; see `ActorCriticAgent`).
public func makeAgent(config: AgentConfig, observationSize: Int, actions: ActionSpace,
                      totalUpdates: Int, seed: UInt64, noiseInputs: Int = 0) throws -> any OffPolicyAgent {
    let agent = try makeAgent(AgentRequest(config: config, observationSize: observationSize, actions: actions,
                                           totalUpdates: totalUpdates, seed: seed, noiseInputs: noiseInputs))
    guard let offPolicy = agent as? any OffPolicyAgent else {
        throw ConfigError("algorithm \(config.algorithm.rawValue) learns on-policy, from rollouts, not from a replay buffer")
    }
    return offPolicy
}
