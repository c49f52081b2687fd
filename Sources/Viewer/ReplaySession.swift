import Agents
import Environments
import SparrowCore
import Training

/// Where the actions come from.
public enum ActionSource {
    /// A trained agent from a checkpoint (deterministic, evaluation-mode actions).
    case agent(any Agent, description: PolicyDescription)
    /// An exported actor (`PolicyFile`).
    case exported(ExportedPolicy)
    /// Uniformly random actions within the bounds, or uniform indices of a discrete task (seeded).
    case random
    /// All-zero actions (a discrete task's action 0).
    case zero

    public var label: String {
        switch self {
        case .agent(_, let d): return Self.describe(d)
        case .exported(let p): return Self.describe(PolicyDescription(config: p.config, actorSparsity: p.header.actorSparsity))
        case .random: return "random actions"
        case .zero: return "zero actions"
        }
    }

    /// e.g. "tows-sac (sac, tows, actor 90.0% sparse)"; DQN acts through its "Q network".
    static func describe(_ d: PolicyDescription) -> String {
        let pct = (d.actorSparsity * 1000).rounded() / 10
        let network = AgentConfig.Algorithm(rawValue: d.algorithm)?.actsDiscretely == true ? "Q network" : "actor"
        return "\(d.preset) (\(d.algorithm), \(d.method), \(network) \(pct)% sparse)"
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
/// return so far, the last reward terms. Time is counted in environment steps of `env.dt` seconds. After every
/// reset and step the scene is brought up to date, so the renderer draws the environment's current state.
public final class ReplaySession {
    public let env: any TrainingEnvironment
    /// What the renderer draws: a robot's own simulation, or a classic-control task's display model.
    public let scene: any ReplayScene
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

    /// A MuJoCo robot, drawn from its own simulation.
    public convenience init(env: LocomotionEnv, source: ActionSource, seed: UInt64) throws {
        try self.init(env: env, scene: env, source: source, seed: seed)
    }

    /// A classic-control task, drawn through its display model (`ClassicControlScene`).
    public convenience init(env: any ClassicControlEnvironment, source: ActionSource, seed: UInt64) throws {
        try self.init(env: env, scene: try ClassicControlScene(env: env), source: source, seed: seed)
    }

    /// Any environment, with the scene that shows its state. Throws if the source's actions do not fit the env.
    public init(env: any TrainingEnvironment, scene: any ReplayScene, source: ActionSource, seed: UInt64) throws {
        self.env = env
        self.scene = scene
        self.source = source
        self.seed = seed
        try Self.check(source, fits: env)
        let A = env.actions.componentCount
        action = [Float](repeating: 0, count: A)
        actionD = [Double](repeating: 0, count: A)
        generator = Generator(seed: seed).derived(0xAC7)
        observation = [Double](repeating: 0, count: env.observationSpace.dimension)
        _ = try observation.withUnsafeMutableBufferPointer { try env.reset(seed: seed, observation: $0) }
        try scene.syncWithEnvironment()
        episode = 1
    }

    /// A one-line error when a policy cannot act in `env` (observation size, kind and number of actions).
    static func check(_ source: ActionSource, fits env: any TrainingEnvironment) throws {
        let obs = env.observationSpace.dimension
        switch source {
        case .exported(let p):
            if let problem = p.mismatch(with: env) { throw ViewerError("the policy \(problem)") }
        case .agent(let agent, _):
            let discrete = agent.config.algorithm.actsDiscretely
            guard discrete == (env.actions.choices != nil) else {
                throw ViewerError("the agent (\(agent.config.algorithm.rawValue)) acts \(discrete ? "discretely" : "continuously"); \(env.name) has \(env.actions) actions")
            }
            let inputs = agent.policyNetwork.inputWidth
            guard inputs == obs else { throw ViewerError("the agent expects \(inputs) observations; \(env.name) has \(obs)") }
        case .random, .zero:
            break
        }
    }

    /// Starts a new episode (the reset noise continues the seeded stream).
    public func newEpisode() throws {
        _ = try observation.withUnsafeMutableBufferPointer { try env.reset(seed: nil, observation: $0) }
        try scene.syncWithEnvironment()
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
        let r = try actionD.withUnsafeBufferPointer { a in
            try observation.withUnsafeMutableBufferPointer { try env.step(action: a, observation: $0) }
        }
        try scene.syncWithEnvironment()
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
        switch source {
        case .agent(let agent, _):
            observation.withUnsafeBufferPointer { o in action.withUnsafeMutableBufferPointer { agent.act(o, deterministic: true, into: $0) } }
        case .exported(let policy):
            observation.withUnsafeBufferPointer { o in action.withUnsafeMutableBufferPointer { policy.evaluationAct(o, into: $0, generator: &generator) } }
        case .random:
            action.withUnsafeMutableBufferPointer { env.actions.sample(into: $0, using: &generator) }
        case .zero:
            for j in action.indices { action[j] = 0 }  // a box's zero vector, or a discrete task's action 0
        }
        for j in action.indices { actionD[j] = Double(action[j]) }
    }

    /// Overlay lines: (title, value).
    func overlayLines(extra: [(String, String)] = []) -> (titles: String, values: String) {
        var rows: [(String, String)] = [
            ("Env", env.name),
            ("Policy", source.label),
            ("Episode", "\(episode)"),
            ("Step", "\(step)"),
            ("Return", format(episodeReturn)),
            ("Reward", format(lastReward)),
        ]
        for (k, v) in lastTerms.named { rows.append(("  " + k.replacingPrefix("reward_", with: ""), format(v))) }
        rows += scene.overlayRows()
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
