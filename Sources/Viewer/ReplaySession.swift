import Agents
import Environments
import SparrowCore
import Training

/// Where the actions come from.
public enum ActionSource {
    /// A trained agent from a checkpoint (deterministic, evaluation-mode actions).
    case agent(any OffPolicyAgent, description: PolicyDescription)
    /// An exported actor (`PolicyFile`).
    case exported(ExportedPolicy)
    /// Uniformly random actions within the bounds (seeded).
    case random
    /// All-zero actions.
    case zero

    public var label: String {
        switch self {
        case .agent(_, let d): return Self.describe(d)
        case .exported(let p): return Self.describe(PolicyDescription(config: p.config, actorSparsity: p.header.actorSparsity))
        case .random: return "random actions"
        case .zero: return "zero actions"
        }
    }

    /// e.g. "tows-sac (sac, tows, actor 90.0% sparse)".
    static func describe(_ d: PolicyDescription) -> String {
        let pct = (d.actorSparsity * 1000).rounded() / 10
        return "\(d.preset) (\(d.algorithm), \(d.method), actor \(pct)% sparse)"
    }

    /// The environment the policy was trained on, if any.
    public var env: String? {
        switch self {
        case .agent(_, let d): return d.env
        case .exported(let p): return p.config.env
        case .random, .zero: return nil
        }
    }
}

/// Runs episodes of one environment under an action source and keeps what the overlay shows: episode, step,
/// return so far, the last reward terms. Time is counted in environment steps of `env.dt` seconds.
public final class ReplaySession {
    public let env: LocomotionEnv
    public let source: ActionSource
    public private(set) var episode = 0
    public private(set) var step = 0
    public private(set) var episodeReturn = 0.0
    public private(set) var lastReward = 0.0
    public private(set) var lastTerms = RewardTerms()
    /// Returns of the finished episodes.
    public private(set) var finishedReturns: [Double] = []
    public private(set) var simulatedTime = 0.0
    /// Set when the last step ended an episode (terminated or truncated); the next `advance` starts a new one.
    public private(set) var episodeEnded = false

    private var observation: [Double]
    private var action: [Float]
    private var actionD: [Double]
    private var generator: Generator
    private let seed: UInt64

    public init(env: LocomotionEnv, source: ActionSource, seed: UInt64) throws {
        self.env = env
        self.source = source
        self.seed = seed
        let A = env.actionSpace.dimension
        if case .exported(let p) = source {
            guard p.header.observationSize == env.observationSpace.dimension, p.actionSize == A else {
                throw ViewerError("the policy expects \(p.header.observationSize) observations and \(p.actionSize) actions; \(env.id.name) has \(env.observationSpace.dimension) and \(A)")
            }
        }
        action = [Float](repeating: 0, count: A)
        actionD = [Double](repeating: 0, count: A)
        generator = Generator(seed: seed).derived(0xAC7)
        observation = try env.reset(seed: seed).observation
        episode = 1
    }

    /// Starts a new episode (the reset noise continues the seeded stream).
    public func newEpisode() throws {
        observation = try env.reset(seed: nil).observation
        episode += 1
        step = 0
        episodeReturn = 0
        lastReward = 0
        lastTerms = RewardTerms()
        episodeEnded = false
    }

    /// One environment step; after an episode ended, starts the next one first. Returns true if this step ended
    /// an episode.
    @discardableResult
    public func advance() throws -> Bool {
        if episodeEnded { try newEpisode() }
        computeAction()
        let r = try env.step(actionD)
        observation = r.observation
        step += 1
        simulatedTime += env.dt
        lastReward = r.reward
        lastTerms = r.info.rewardTerms
        episodeReturn += r.reward
        if r.terminated || r.truncated {
            episodeEnded = true
            finishedReturns.append(episodeReturn)
        }
        return episodeEnded
    }

    private func computeAction() {
        let A = action.count
        switch source {
        case .agent(let agent, _):
            observation.withUnsafeBufferPointer { o in action.withUnsafeMutableBufferPointer { agent.act(o, deterministic: true, into: $0) } }
        case .exported(let policy):
            observation.withUnsafeBufferPointer { o in action.withUnsafeMutableBufferPointer { policy.act(o, into: $0) } }
        case .random:
            for j in 0..<A { action[j] = Float(generator.uniform(env.actionSpace.low[j], env.actionSpace.high[j])) }
        case .zero:
            for j in 0..<A { action[j] = 0 }
        }
        for j in 0..<A { actionD[j] = Double(action[j]) }
    }

    /// Overlay lines: (title, value).
    func overlayLines(extra: [(String, String)] = []) -> (titles: String, values: String) {
        var rows: [(String, String)] = [
            ("Env", env.id.name),
            ("Policy", source.label),
            ("Episode", "\(episode)"),
            ("Step", "\(step)"),
            ("Return", format(episodeReturn)),
            ("Reward", format(lastReward)),
        ]
        for (k, v) in lastTerms.named { rows.append(("  " + k.replacingPrefix("reward_", with: ""), format(v))) }
        rows += extra
        return (rows.map(\.0).joined(separator: "\n"), rows.map(\.1).joined(separator: "\n"))
    }
}

/// A number with two decimals, without Foundation.
func format(_ x: Double, decimals: Int = 2) -> String {
    guard x.isFinite else { return "\(x)" }
    var p = 1.0
    for _ in 0..<decimals { p *= 10 }
    let r = (abs(x) * p).rounded()
    let whole = Int(r / p), frac = Int(r.truncatingRemainder(dividingBy: p))
    var fs = "\(frac)"
    while fs.count < decimals { fs = "0" + fs }
    return (x < 0 && r > 0 ? "-" : "") + "\(whole)" + (decimals > 0 ? "." + fs : "")
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
