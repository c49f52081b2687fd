import NeuralNet
import SparrowCore

/// One measurement of one network at one gradient update (`analysis.csv` holds them, one per row).
public struct NetworkMeasurement: Equatable, Sendable {
    public enum Quantity: String, Sendable, CaseIterable {
        /// Mean |μ|/(σ + 1e-10) of the per-sample gradients over every kernel entry and bias, absent connections
        /// included, as rigl/rl's `log_snr` (`--log-snr-every`; runs before issue 24 logged the live-only figure here).
        case gradientSNR = "gradient_snr"
        /// Mean |μ|/σ over the live parameters with noise (`MLP.liveGradientSNR`), logged beside it.
        case liveGradientSNR = "gradient_snr_live"
        /// Fraction of τ-dormant neurons (`--log-dormant-every`; `layer` nil: all hidden neurons together).
        case dormantFraction = "dormant_fraction"
        /// Neurons ReDo recycled (`--redo-every`; `layer` nil: all hidden layers together).
        case recycledNeurons = "recycled_neurons"
    }
    public var update: Int
    /// The agent's name for the network: actor, critic1, critic2, q, value.
    public var network: String
    /// Hidden layer index (0 = the first), or nil for the whole network.
    public var layer: Int?
    public var quantity: Quantity
    public var value: Double

    public init(update: Int, network: String, layer: Int?, quantity: Quantity, value: Double) {
        self.update = update; self.network = network; self.layer = layer; self.quantity = quantity; self.value = value
    }
}

/// The analyses a run asked for, run by every agent after each network's optimizer step (`sparseTrainingStep`)
/// on the batch it just trained on: gradient SNR and τ-dormant fractions every N updates, ReDo's recycling every
/// N updates. Off (the default) they cost one integer test per network and update. What they measure waits in
/// `measurements` until the training loop takes it for its logs.
public final class NetworkAnalyses {
    let snrEvery: Int, dormantEvery: Int, dormantTau: Double, redoEvery: Int, redoTau: Double
    public private(set) var measurements: [NetworkMeasurement] = []
    /// The last reference SNR of each network with its entry count, for `measureJointSNR`.
    private var lastSNR: [String: (step: Int, mean: Double, entries: Int)] = [:]

    public init(config: AgentConfig) {
        snrEvery = config.logSNREvery; dormantEvery = config.logDormantEvery; dormantTau = config.dormantTau
        redoEvery = config.redoEvery; redoTau = config.redoTau
    }

    /// The measurements since the last call, in the order taken.
    public func take() -> [NetworkMeasurement] {
        defer { measurements.removeAll(keepingCapacity: true) }
        return measurements
    }

    @inline(__always) static func due(_ every: Int, _ step: Int) -> Bool { every > 0 && step % every == 0 }

    /// Before the topology update (SNR reads the gradients of the topology they were computed on).
    func measure(_ net: MLP, name: String, step: Int, workspace ws: Workspace) {
        if Self.due(snrEvery, step) {
            let snr = net.gradientSNR(ws)
            lastSNR[name] = (step, snr.mean, snr.parameters)
            measurements.append(NetworkMeasurement(update: step, network: name, layer: nil, quantity: .gradientSNR,
                                                   value: snr.mean))
            measurements.append(NetworkMeasurement(update: step, network: name, layer: nil, quantity: .liveGradientSNR,
                                                   value: net.liveGradientSNR(ws).mean))
        }
        if Self.due(dormantEvery, step) {
            let layers = net.dormantNeurons(ws, tau: dormantTau)
            for (l, flags) in layers.enumerated() {
                measurements.append(NetworkMeasurement(update: step, network: name, layer: l, quantity: .dormantFraction,
                                                       value: Double(flags.filter { $0 }.count) / Double(flags.count)))
            }
            let all = layers.flatMap { $0 }
            measurements.append(NetworkMeasurement(update: step, network: name, layer: nil, quantity: .dormantFraction,
                                                   value: all.isEmpty ? 0 : Double(all.filter { $0 }.count) / Double(all.count)))
        }
    }

    /// rigl/rl's PPO takes one SNR over the actor's and the value network's variables together (one loss, one
    /// `log_snr` call): the mean over both networks' entries, logged as network `joint` (e.g. "actor+value"). The
    /// networks do not share parameters, so each entry's per-sample gradient is that of its own network's loss
    /// term and the joint mean is the entry-weighted mean of the two measured this step.
    func measureJointSNR(of names: [String], step: Int) {
        guard Self.due(snrEvery, step) else { return }
        let parts = names.compactMap { lastSNR[$0] }.filter { $0.step == step }
        guard parts.count == names.count else { return }
        let entries = parts.reduce(0) { $0 + $1.entries }
        let mean = parts.reduce(0.0) { $0 + $1.mean * Double($1.entries) } / Double(max(entries, 1))
        measurements.append(NetworkMeasurement(update: step, network: names.joined(separator: "+"), layer: nil,
                                               quantity: .gradientSNR, value: mean))
    }

    /// After the topology update: ReDo on the network as it now is.
    func recycle(_ net: MLP, name: String, step: Int, workspace ws: Workspace, generator: inout Generator) {
        guard Self.due(redoEvery, step) else { return }
        let counts = net.recycleDormantNeurons(ws, tau: redoTau, generator: &generator)
        measurements.append(NetworkMeasurement(update: step, network: name, layer: nil, quantity: .recycledNeurons,
                                               value: Double(counts.reduce(0, +))))
    }
}
