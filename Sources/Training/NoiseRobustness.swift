import Agents
import Foundation
import SparrowCore

/// `noise_robustness.json` in a run directory: what `sparrow eval RUN --obs-noise …` measured, read back by
/// `sparrow report --noise` (return against the noise level per method, Graesser et al.'s Figure 6). Each level
/// is evaluated from the same start states (the evaluation seed), its noise from its own seeded stream.
public struct NoiseRobustness: Codable, Equatable, Sendable {
    public var env: String
    public var preset: String
    /// `ObservationNoise.Scale`: "absolute" (σ in observation units) or "std" (σ × each feature's standard deviation).
    public var scale: String
    public var episodes: Int
    public var seed: UInt64
    public var sigmas: [Double]
    public var meanReturn: [Double]
    /// 95% percentile-bootstrap interval of the mean return over the episodes.
    public var ciLow: [Double]
    public var ciHigh: [Double]
    public var returns: [[Double]]

    enum CodingKeys: String, CodingKey {
        case env, preset, scale, episodes, seed, sigmas, returns
        case meanReturn = "mean_return", ciLow = "ci_low", ciHigh = "ci_high"
    }

    public init(env: String, preset: String, scale: String, episodes: Int, seed: UInt64, sigmas: [Double],
                meanReturn: [Double], ciLow: [Double], ciHigh: [Double], returns: [[Double]]) {
        self.env = env; self.preset = preset; self.scale = scale; self.episodes = episodes; self.seed = seed
        self.sigmas = sigmas; self.meanReturn = meanReturn; self.ciLow = ciLow; self.ciHigh = ciHigh; self.returns = returns
    }

    public func write(to path: String) throws {
        try PrettyJSON.write(self, to: path)
    }

    public static func read(_ path: String) -> NoiseRobustness? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(NoiseRobustness.self, from: $0) }
    }
}

extension TrainingCheckpoint {
    /// Per-feature standard deviations of the observations a run trained on (`sparrow eval --noise-scale std`):
    /// over the observations in the checkpoint's replay buffer (off-policy), or PPO's observation normaliser
    /// (every observation it has seen; the rollout holds only the last ones).
    public static func observationStandardDeviations(checkpoint path: String) throws -> [Double] {
        let (config, _) = try CheckpointFile.read(path)
        if config.agent.algorithm.isOnPolicy {
            guard let ppo = try loadAgent(checkpoint: path).agent as? PPO else { throw CheckpointError("checkpoint \(path): not a ppo agent") }
            return ppo.observationStats.variance.map { $0.squareRoot() }
        }
        let env = try config.makeEnvironment()
        let agent = try AgentFactory.makeAgent(config: config, env: env)
        let buffer = AgentFactory.makeReplayBuffer(config: config, env: env)
        _ = try restore(from: path, config: config, agent: agent, env: env, buffer: buffer)
        guard buffer.count > 1 else { throw CheckpointError("checkpoint \(path) holds \(buffer.count) observations: too few for a standard deviation") }
        return buffer.observationStandardDeviations()
    }
}
