import Agents
import Environments
import Foundation
import SparrowCore

/// Deterministic-policy evaluation, one implementation for training (every `eval-every` steps) and `sparrow eval`.
///
/// Seam: an evaluation needs only an agent that acts (`Agent.act`, deterministic) and an environment; on-policy
/// (PPO) and discrete-action (DQN) agents are evaluated by the same code.
public struct Evaluator {
    public let env: any Environment
    public let episodes: Int
    /// The first reset of every evaluation uses this seed, so each evaluation starts from the same states (as
    /// Sokar's code reseeds its evaluation env); the following episodes continue the env's own stream.
    public let seed: UInt64
    /// Dopamine's evaluation phase instead of a count of episodes: whole episodes until at least this many steps
    /// have been taken (the last episode runs to its end, as Dopamine's `_run_one_phase`); nil: `episodes`.
    public let minimumSteps: Int?

    public init(env: any Environment, episodes: Int, seed: UInt64, minimumSteps: Int? = nil) {
        precondition(episodes > 0, "an evaluation needs at least one episode")
        precondition(minimumSteps.map { $0 > 0 } ?? true, "an evaluation phase needs at least one step")
        self.env = env; self.episodes = episodes; self.seed = seed; self.minimumSteps = minimumSteps
    }

    /// Returns of `episodes` deterministic episodes (or of the episodes of a `minimumSteps` phase). With `noise`, the agent sees each observation with that
    /// noise added (the environment itself is untouched). `observe`, if given, sees every step before it is taken:
    /// (episode, t, the observation the agent saw, action) — `sparrow eval --record`.
    public func returns(of agent: any Agent, noise: ObservationNoise? = nil,
                        observe: ((Int, Int, [Double], [Float]) -> Void)? = nil) throws -> [Double] {
        var returns: [Double] = []
        var action = [Float](repeating: 0, count: env.actions.componentCount)
        var steps = 0
        var k = 0
        while minimumSteps.map({ steps < $0 }) ?? (k < episodes) {
            defer { k += 1 }
            var obs = try env.reset(seed: k == 0 ? seed : nil).observation
            var total = 0.0
            var t = 0
            while true {
                var seen = obs  // shares obs's storage unless noise is added
                noise?.perturb(&seen)
                seen.withUnsafeBufferPointer { o in action.withUnsafeMutableBufferPointer { agent.act(o, deterministic: true, into: $0) } }
                observe?(k, t, seen, action)
                t += 1
                steps += 1
                let r = try env.step(action.map(Double.init))
                total += r.reward
                obs = r.observation
                if r.terminated || r.truncated { break }
            }
            returns.append(total)
        }
        return returns
    }

    /// The same start states (`seed`) under each noise level in turn: the returns per level.
    public func returns(of agent: any Agent, underEach noises: [ObservationNoise]) throws -> [[Double]] {
        try noises.map { try returns(of: agent, noise: $0) }
    }

    /// One evaluation at training step `step`: mean and (population) standard deviation of the returns.
    public func evaluate(_ agent: any Agent, atStep step: Int) throws -> Evaluation {
        Evaluation(step: step, returns: try returns(of: agent))
    }
}

/// Gaussian noise on every observation an agent sees (Graesser et al.'s robustness test, `sparrow eval
/// --obs-noise`): x_j + σ_j·ε with ε ~ N(0, 1) fresh per feature and step, from its own seeded generator, so the
/// same seed gives the same noise. σ_j is one level for every feature (`absolute`, in observation units) or a level
/// times the feature's standard deviation over the run's own data (`std`).
public final class ObservationNoise {
    public enum Scale: String, CaseIterable, Sendable { case absolute, std }
    public let level: Double
    public let sigma: [Double]
    private var generator: Generator

    public init(level: Double, sigma: [Double], seed: UInt64) {
        precondition(level >= 0 && sigma.allSatisfy { $0 >= 0 && $0.isFinite })
        self.level = level; self.sigma = sigma
        generator = Generator(seed: seed).derived(0x4f42534e)  // "OBSN": never the environment's own stream
    }

    func perturb(_ x: inout [Double]) {
        guard level > 0 else { return }
        for j in x.indices { x[j] += sigma[j] * generator.normal() }
    }
}
