import NeuralNet
import SparrowCore

/// What a network does in an agent. The trainer, checkpoints, policy files, FLOP accounting and the viewer find
/// networks by role, not by position, so an agent with one Q network (DQN) or a state-value network (PPO) fits.
public enum NetworkRole: Equatable, Sendable {
    /// Maps an observation to the action (or the action distribution's parameters): the actor.
    case policy
    /// Estimates returns: SAC's and TD3's Q critics, PPO's V, DQN's Q network.
    case value
    /// A slowly following copy of the network with the given name (no optimizer of its own).
    case target(of: String)

    public var isTarget: Bool { if case .target = self { return true } else { return false } }
}

/// One network of an agent, with its name (metrics, checkpoints, error messages), role and optimizer.
public struct AgentNetwork {
    public let name: String
    public let role: NetworkRole
    public let network: MLP
    /// The optimizer that trains it; nil for target networks.
    public let optimizer: Adam?

    public init(name: String, role: NetworkRole, network: MLP, optimizer: Adam?) {
        self.name = name; self.role = role; self.network = network; self.optimizer = optimizer
    }
}

/// What every agent offers the machinery around it (the training loops, evaluation, checkpoints, policy files,
/// accounting, the viewer). An algorithm adds its update: `OffPolicyAgent` takes replay batches.
public protocol Agent: AnyObject {
    var config: AgentConfig { get }
    /// Gradient updates performed so far.
    var updates: Int { get }
    /// Training FLOPs so far, counted as the papers do.
    var trainingFLOPs: Double { get }
    /// Per-phase timing of updates; nil (the default) is off.
    var profiler: StepProfiler? { get set }
    /// Every network with its role, in a fixed order: the policy first, then value networks, then targets.
    /// Checkpoints store the networks in this order.
    var networks: [AgentNetwork] { get }
    /// How the policy network's outputs become the evaluation action (policy files store it).
    var policyHead: PolicyHeadKind { get }
    /// The analyses the config asked for, and their measurements waiting for the logs.
    var analyses: NetworkAnalyses { get }
    /// The evaluation policy as a pure function (what exporters write): `act(…, deterministic: true)` computes it.
    var deterministicPolicy: DeterministicPolicy { get }
    /// An action for one observation: exploratory (sampled / noisy) or deterministic (evaluation).
    func act(_ observation: UnsafeBufferPointer<Double>, deterministic: Bool, into action: UnsafeMutableBufferPointer<Float>)
    func encode(into w: inout ByteWriter) throws
    func decode(from r: inout ByteReader) throws
}

/// An agent that learns from replay batches (SAC, TD3; DQN next).
public protocol OffPolicyAgent: Agent {
    /// One gradient update on a batch.
    func update(_ batch: ReplayBatch) throws -> UpdateMetrics
}

extension Agent {
    /// The network that acts: the policy, or a value-based agent's (DQN's) Q network, whose argmax acts.
    public var policyNetwork: MLP { (networks.first { $0.role == .policy } ?? networks.first { $0.role == .value }!).network }
    /// The value networks (critics), in order.
    public var valueNetworks: [MLP] { networks.filter { $0.role == .value }.map(\.network) }
    /// The networks that are trained (targets excluded, as the papers count parameters).
    public var trainedNetworks: [AgentNetwork] { networks.filter { !$0.role.isTarget } }
    /// Live weights and biases of the trained networks.
    public var liveParameters: Int {
        trainedNetworks.reduce(0) { $0 + $1.network.cost.liveWeights + $1.network.cost.biases }
    }
    /// FLOPs of one action: one forward pass of the policy network for one sample (`NetworkCost.forwardFLOPs`,
    /// which counts a convolution's weights at every output position).
    public var inferenceFLOPs: Double { Double(policyNetwork.cost.forwardFLOPs(batch: 1)) }
    /// Live weights of the trained networks, biases left out: how Sokar et al. count parameters.
    public var liveWeights: Int { trainedNetworks.reduce(0) { $0 + $1.network.cost.liveWeights } }
    /// Networks by name (every one, targets included).
    public var namedNetworks: [(name: String, network: MLP)] { networks.map { ($0.name, $0.network) } }
}

/// Overall weight sparsity of several networks taken together.
public func weightSparsity(_ nets: [MLP]) -> Double {
    let layers = nets.flatMap(\.layers)
    let live = layers.reduce(0) { $0 + $1.liveConnections }
    let all = layers.reduce(0) { $0 + $1.shape.count }
    return 1 - Double(live) / Double(all)
}

/// Reads one network of an agent's checkpoint state (a `NetworkArchive`) and checks it has the widths of the
/// network it replaces.
func decodeAgentNetwork(_ r: inout ByteReader, like current: MLP, name: String) throws -> MLP {
    let net: MLP
    do { net = try NetworkArchive.decode(try r.readBytes()).network } catch let e as FormatError { throw e } catch {
        throw FormatError.corrupt("\(name): \(error)")
    }
    guard net.spec.widths == current.spec.widths else {
        throw FormatError.corrupt("\(name) has widths \(net.spec.widths), this run's has \(current.spec.widths)")
    }
    return net
}
