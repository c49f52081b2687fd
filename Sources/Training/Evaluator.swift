import Agents
import Environments
import Foundation

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

    public init(env: any Environment, episodes: Int, seed: UInt64) {
        precondition(episodes > 0, "an evaluation needs at least one episode")
        self.env = env; self.episodes = episodes; self.seed = seed
    }

    /// Returns of `episodes` deterministic episodes. `observe`, if given, sees every step before it is taken:
    /// (episode, t, observation, action) — `sparrow eval --record`.
    public func returns(of agent: any Agent,
                        observe: ((Int, Int, [Double], [Float]) -> Void)? = nil) throws -> [Double] {
        var returns: [Double] = []
        var action = [Float](repeating: 0, count: env.actions.componentCount)
        for k in 0..<episodes {
            var obs = try env.reset(seed: k == 0 ? seed : nil).observation
            var total = 0.0
            var t = 0
            while true {
                obs.withUnsafeBufferPointer { o in action.withUnsafeMutableBufferPointer { agent.act(o, deterministic: true, into: $0) } }
                observe?(k, t, obs, action)
                t += 1
                let r = try env.step(action.map(Double.init))
                total += r.reward
                obs = r.observation
                if r.terminated || r.truncated { break }
            }
            returns.append(total)
        }
        return returns
    }

    /// One evaluation at training step `step`: mean and (population) standard deviation of the returns.
    public func evaluate(_ agent: any Agent, atStep step: Int) throws -> Evaluation {
        Evaluation(step: step, returns: try returns(of: agent))
    }
}
