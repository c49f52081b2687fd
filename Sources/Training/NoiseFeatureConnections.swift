import Agents
import NeuralNet

/// Grooten et al.'s (ANF) input-layer picture: live first-layer connections per real and per noise input feature.
/// A network's input is [real observation, noise features] then, for a critic, the action. As ANF counts it, the
/// critic's real features include its action inputs (they are real signal, not noise); the noise features are the
/// block after the real observation.
public struct NoiseFeatureConnections: Equatable, Sendable {
    public var actorReal: Double?, actorNoise: Double?, criticReal: Double?, criticNoise: Double?

    public init(agent: any Agent, realFeatures n: Int, noiseFeatures k: Int) {
        let noise = n..<(n + k)
        if let actor = agent.networks.first(where: { $0.role == .policy })?.network {
            actorReal = actor.meanInputConnections(0..<n)
            actorNoise = actor.meanInputConnections(noise)
        }
        if let critic = agent.valueNetworks.first {
            let inputs = critic.layers[0].shape.fanIn
            criticReal = critic.meanInputConnections(Array(0..<n) + Array((n + k)..<inputs))
            criticNoise = critic.meanInputConnections(noise)
        }
    }
}
