import NeuralNet
import SparrowCore

/// The skeleton every agent shares, written once (issue 22 part 2): the config and its analyses, the update
/// counter every schedule runs on, the generator, the FLOP count, the profiler, the list of networks with their
/// roles, each trained network's optimizer step through its method's updater, and the checkpoint state.
///
/// An algorithm subclasses it (`ActorCriticAgent` for SAC and TD3, `DQN`, `PPO`) and supplies its networks
/// (`listNetworks`, `adoptCheckpointNetworks`), its updaters, and its own state around the shared checkpoint layout:
///
///     updates · [counters] · generator · FLOPs · [before networks] · each network of `networks` (archives)
///     · updater states (stateful methods only) · [after networks]
///
/// which is byte for byte the layout each agent wrote before the skeleton was shared, so old checkpoints resume.
public class AgentCore {
    public let config: AgentConfig
    /// Gradient updates performed so far; the step of every schedule.
    public internal(set) var updates = 0
    /// Draws exploration noise, minibatch orders and the methods' random topology choices.
    public var generator: Generator
    /// Training FLOPs so far, counted as the papers do (`LayerCost`).
    public internal(set) var trainingFLOPs: Double = 0
    /// Per-phase timing of updates (`bench train --profile`); nil: off.
    public var profiler: StepProfiler?
    /// Gradient SNR, dormant neurons, ReDo (`--log-snr-every`, `--log-dormant-every`, `--redo-every`).
    public let analyses: NetworkAnalyses
    /// Every network with its role: the policy first, then value networks, then targets (`listNetworks`). Kept as a
    /// list (rebuilt when a checkpoint replaces the networks) so per-update accounting walks it without allocating.
    public internal(set) var networks: [AgentNetwork] = []

    /// Checks `config` and returns the factory of the agent's networks: the first thing an agent's init does.
    static func networkFactory(_ config: AgentConfig, totalUpdates: Int) throws -> NetworkFactory {
        try config.validate()
        return NetworkFactory(config: config, totalUpdates: totalUpdates)
    }

    /// `generator`: the agent's own stream, derived after the networks drew their initial weights.
    init(config: AgentConfig, generator: Generator) {
        self.config = config
        self.generator = generator
        analyses = NetworkAnalyses(config: config)
    }

    // MARK: what an algorithm supplies

    /// The networks in checkpoint order, built from the agent's current network properties.
    func listNetworks() -> [AgentNetwork] { [] }
    /// Takes the networks a checkpoint decoded, in `networks` order, as the agent's own.
    func adoptCheckpointNetworks(_ decoded: [MLP]) {}
    /// The method's updaters of the trained networks, in `networks` order (nil: that network's topology is fixed).
    var updaters: [(any SparsityUpdater)?] { [] }
    /// Counters written between `updates` and the generator (PPO: its iterations).
    func encodeCounters(into w: inout ByteWriter) {}
    func decodeCounters(from r: inout ByteReader) throws {}
    /// State written before the networks (PPO: its normalisers).
    func encodeBeforeNetworks(into w: inout ByteWriter) throws {}
    func decodeBeforeNetworks(from r: inout ByteReader) throws {}
    /// State written after the networks and updater states.
    func encodeAfterNetworks(into w: inout ByteWriter) throws {}
    func decodeAfterNetworks(from r: inout ByteReader) throws {}

    // MARK: the shared steps

    /// One gradient update's frame: counts it (`updates`, the step every schedule reads, so the body sees its own
    /// number), times it as `phase`, and runs `body` with subnormals flushed (see `Subnormals`).
    func countedUpdate<R>(_ phase: StepProfiler.Phase = .criticUpdate, _ body: () throws -> R) rethrows -> R {
        try Subnormals.flushed {
            let outer = profiler?.enter(phase)
            defer { if let outer { profiler?.enter(outer) } }
            updates += 1
            return try body()
        }
    }

    /// A trained network's whole optimizer step after `backward` on `workspace` (`optimizerStep`).
    func optimize(_ net: MLP, name: String, adam: Adam, updater: (any SparsityUpdater)?, workspace: Workspace) {
        optimizerStep(net, name: name, adam: adam, updater: updater, step: updates, workspace: workspace,
                      analyses: analyses, generator: &generator, profiler: profiler)
    }

    /// The sparse-training half alone, for networks whose Adam steps ran side by side (`sparseTrainingStep`).
    func afterOptimizerStep(_ net: MLP, name: String, updater: (any SparsityUpdater)?, workspace: Workspace) {
        sparseTrainingStep(net, name: name, updater: updater, step: updates, workspace: workspace, analyses: analyses,
                           generator: &generator, profiler: profiler)
    }

    /// FLOPs of one training pass of `net` on a batch of `batch` (forward, then backward without the input
    /// gradient of the first layer).
    static func trainingFLOPs(_ net: MLP, batch: Int) -> Double {
        var flops = 0.0
        for (l, layer) in net.layers.enumerated() {
            let c = layer.cost
            flops += Double(c.forwardFLOPs(batch: batch) + c.backwardFLOPs(batch: batch, inputGradient: l > 0))
        }
        return flops
    }

    /// FLOPs of one forward pass of `net` on a batch of `batch`.
    static func forwardFLOPs(_ net: MLP, batch: Int) -> Double {
        net.layers.reduce(0.0) { $0 + Double($1.cost.forwardFLOPs(batch: batch)) }
    }

    // MARK: checkpoint state

    /// Everything that changes during training, for an exact resume.
    public func encode(into w: inout ByteWriter) throws {
        w.write(updates)
        encodeCounters(into: &w)
        w.write(generator.stateWords)
        w.write(trainingFLOPs)
        try encodeBeforeNetworks(into: &w)
        for n in networks { w.write(bytes: try NetworkArchive.encode(n.network)) }
        encodeUpdaterStates(updaters, into: &w)
        try encodeAfterNetworks(into: &w)
    }

    public func decode(from r: inout ByteReader) throws {
        updates = try r.read(Int.self)
        try decodeCounters(from: &r)
        let words = try r.read([UInt64].self)
        guard words.count == 4 else { throw FormatError.corrupt("generator state") }
        generator = Generator(stateWords: words)
        trainingFLOPs = try r.read(Double.self)
        try decodeBeforeNetworks(from: &r)
        adoptCheckpointNetworks(try networks.map { try decodeAgentNetwork(&r, like: $0.network, name: $0.name) })
        networks = listNetworks()
        try decodeUpdaterStates(updaters, from: &r)
        try decodeAfterNetworks(from: &r)
    }
}
