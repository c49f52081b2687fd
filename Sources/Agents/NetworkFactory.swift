import NeuralNet
import SparrowCore

/// Builds the actor and critic networks of an agent from its config: widths, activation, per-layer backend and
/// density, initialisation, and the topology-evolution or pruning schedule of the method.
public struct NetworkFactory {
    public let config: AgentConfig
    /// Gradient updates the run will perform (schedules are in update steps).
    public let totalUpdates: Int

    public init(config: AgentConfig, totalUpdates: Int) {
        self.config = config
        self.totalUpdates = max(totalUpdates, 1)
    }

    var activation: Activation { Self.activation(config.activation, slope: config.leakySlope) }

    static func activation(_ name: AgentConfig.ActivationName, slope: Double) -> Activation {
        switch name {
        case .relu: return .relu
        case .tanh: return .tanh
        case .leakyRelu: return .leakyReLU(slope: Float(slope))
        }
    }

    /// Actor and critic sparsities: explicit per-network values, else Graesser's actor:critic split of one budget
    /// over the actor and both critics (`actorCriticSparsity`), else `sparsity` for each.
    public func budgets(observationSize: Int, actionSize: Int, actorOutputs: Int) throws -> (actor: Double, critic: Double) {
        guard let ratio = config.actorCriticRatio, config.actorSparsity == nil, config.criticSparsity == nil,
              config.sparsity > 0 else {
            return (config.effectiveActorSparsity, config.effectiveCriticSparsity)
        }
        func shapes(_ input: Int, _ output: Int) -> [LayerShape] {
            let w = [input] + config.hidden + [output]
            return (0..<w.count - 1).map { LayerShape(fanIn: w[$0], fanOut: w[$0 + 1]) }
        }
        let critic = shapes(observationSize + actionSize, 1)
        do {
            let split = try actorCriticSparsity(actor: shapes(observationSize, actorOutputs), critic: critic + critic,
                                                sparsity: config.sparsity, actorToCriticRatio: ratio)
            return (split.actor, split.critic)
        } catch { throw ConfigError("actor-critic-ratio \(ratio): \(error)") }
    }

    /// How the method builds its networks (dense, sparse at the budget, or dense to be pruned).
    var start: SparseMethodDeclaration.Start { config.method.declaration.start }

    /// The hidden widths of a network with `input` inputs and `output` outputs: `hidden`, or with `params-like p`
    /// Graesser et al.'s parameter-equivalent dense widths. Rule: every hidden width scaled by one factor k/H
    /// (H the largest configured width, k = 1…H; each rounded, at least 1), the k whose dense weights and biases
    /// come closest to the live weights and biases of the same network at sparsity p as `method static` would
    /// build it (this config's distribution and dense-input/-output layers); the smaller k on a tie. Each network
    /// (actor, critic, Q, value) is matched on its own, so the actor:critic split of parameters is kept.
    public func hiddenWidths(input: Int, output: Int) throws -> [Int] {
        guard let p = config.paramsLike else { return config.hidden }
        var twin = config
        twin.paramsLike = nil
        twin.method = .static
        twin.sparsity = p
        let sparse = try NetworkFactory(config: twin, totalUpdates: totalUpdates).spec(input: input, output: output, sparsity: p)
        let target = networkCost(zip(sparse.shapes, sparse.layers).map { shape, layer in
            LayerCost(shape: shape, liveWeights: liveCounts(shapes: [shape], densities: [layer.density])[0])
        }).parameters
        let largest = config.hidden.max() ?? 1
        func widths(_ k: Int) -> [Int] { config.hidden.map { max(1, Int((Double($0 * k) / Double(largest)).rounded())) } }
        func parameters(_ hidden: [Int]) -> Int {
            let w = [input] + hidden + [output]
            return networkCost((0..<w.count - 1).map { l in
                let shape = LayerShape(fanIn: w[l], fanOut: w[l + 1])
                return LayerCost(shape: shape, liveWeights: shape.count)
            }).parameters
        }
        let best = (1...largest).min { abs(parameters(widths($0)) - target) < abs(parameters(widths($1)) - target) }!
        return widths(best)
    }

    /// The largest network Sparrow builds: 2·10⁸ weights between consecutive layers (0.8 GB of Float32 weights,
    /// 2.4 GB with Adam's moments, per network), each layer indexable by a 32-bit position.
    public static let maximumWeights = 200_000_000

    /// Refuses, before anything is allocated, layer widths whose dense weight count passes `maximumWeights` (a
    /// one-line error naming `what`, the count and the bound).
    public static func checkSize(widths: [Int], what: String) throws {
        var total = 0
        for (a, b) in zip(widths, widths.dropFirst()) {
            let (n, overflow) = a.multipliedReportingOverflow(by: b)
            if overflow || n > Int(Int32.max) || total + n > maximumWeights {
                throw ConfigError("\(what): too many weights (\(a)×\(b)\(overflow ? " overflows" : " = \(n)")); Sparrow builds "
                                  + "at most \(maximumWeights) weights per network (2.4 GB with Adam's moments)")
            }
            total += n
        }
    }

    /// The spec of one network (input → hidden… → output) at `sparsity`.
    public func spec(input: Int, output: Int, sparsity: Double) throws -> MLPSpec {
        var widths: [Int], convolutions: [ConvGeometry] = [], graph: NetworkGraph? = nil
        var denseInput = input  // features into the first fully connected layer
        if config.network == .mlp {
            widths = [input] + (try hiddenWidths(input: input, output: output)) + [output]
        } else {
            let frame = Self.atariFrameSide * Self.atariFrameSide
            guard input % frame == 0 else {
                throw ConfigError("network \(config.network.rawValue) reads stacked \(Self.atariFrameSide)×\(Self.atariFrameSide) frames; an observation of \(input) values is not")
            }
            if config.network == .impala {
                (convolutions, graph) = ImpalaNetwork.architecture(frames: input / frame, size: Self.atariFrameSide,
                                                                   hidden: config.hidden, outputs: output)
                denseInput = ImpalaNetwork.features(size: Self.atariFrameSide)
            } else {
                convolutions = ConvGeometry.natureCNN(frames: input / frame)
                denseInput = convolutions[convolutions.count - 1].outputCount
            }
            widths = [input] + convolutions.map(\.outputCount) + config.hidden + [output]
        }
        let denseWidths = [denseInput] + widths[(convolutions.count + 1)...]
        try Self.checkSize(widths: Array(denseWidths),
                           what: "a network of widths \(widths.map(String.init).joined(separator: ","))")
        let shapes = (0..<widths.count - 1).map { l in
            l < convolutions.count ? convolutions[l].kernelShape
                : LayerShape(fanIn: l == convolutions.count ? denseInput : widths[l], fanOut: widths[l + 1])
        }
        let initialization = config.initialization
        let topology: InitialTopology = config.bernoulliTopology ? .bernoulli : .exactCount
        func dense() -> LayerSpec { LayerSpec(backend: .dense, density: 1, initialization: initialization) }
        let sparseBackend: LayerBackend = config.backend == .dense ? .masked : config.backend
        var forcedDense = Set<Int>()
        if config.denseInputLayer { forcedDense.insert(0) }
        if config.denseOutputLayer { forcedDense.insert(shapes.count - 1) }

        var layers: [LayerSpec]
        if start == .dense || (sparsity == 0 && start != .denseToBePruned && config.distribution.budgetRule != nil) {
            layers = shapes.map { _ in dense() }
        } else if start == .denseToBePruned {
            // Pruning methods start dense; prunable layers use a topology-capable backend at density 1.
            layers = shapes.indices.map { l in
                forcedDense.contains(l) ? dense()
                    : LayerSpec(backend: sparseBackend, density: 1, initialization: initialization,
                                momentPolicy: config.moments)
            }
        } else {
            let densities: [Double]
            if let distribution = config.distribution.budgetRule {
                do {
                    densities = try layerDensities(shapes: shapes, sparsity: sparsity, distribution: distribution,
                                                   dense: forcedDense)
                } catch { throw ConfigError("cannot reach sparsity \(sparsity) for layers \(widths): \(error)") }
            } else if config.distribution == .perLayer {  // given outright, no budget
                densities = shapes.indices.map { l in forcedDense.contains(l) ? 1 : 1 - config.layerSparsity[l] }
            } else {  // er-epsilon: each layer's density from its ε, no budget
                var k = 0
                densities = shapes.indices.map { l in
                    if forcedDense.contains(l) { return 1 }
                    defer { k += 1 }
                    let eps = config.erEpsilon.isEmpty ? 1 : config.erEpsilon[min(k, config.erEpsilon.count - 1)]
                    return erdosRenyiEpsilonDensity(shape: shapes[l], epsilon: eps)
                }
            }
            layers = shapes.indices.map { l in
                densities[l] >= 1 ? dense()
                    : LayerSpec(backend: sparseBackend, density: densities[l], initialization: initialization,
                                topology: topology, momentPolicy: config.moments)
            }
        }
        for l in convolutions.indices { layers[l].convolution = convolutions[l] }
        return MLPSpec(widths: widths, activation: activation, outputActivation: .identity, layers: layers, graph: graph)
    }

    /// The side of an Atari observation frame (`AtariOptions.screenSize`; Agents does not import Environments).
    static let atariFrameSide = 84

    /// The topology evolution the knobs describe (schedule, drop fraction, criteria): the dynamic methods' updater.
    public var evolution: TopologyEvolution {
        let stop = config.updateStop.map { Int($0 * Double(totalUpdates)) }
        let schedule = TopologyUpdateSchedule(period: config.updateInterval, offset: config.updateOffset % config.updateInterval,
                                              stopStep: stop, finalDropWithoutRegrow: config.finalDrop)
        let fraction: DropFractionSchedule = config.dropSchedule == .cosine
            ? .cosine(initial: config.dropFraction, endStep: stop ?? totalUpdates)
            : .constant(config.dropFraction)
        return TopologyEvolution(schedule: schedule, dropFraction: fraction,
                                 drop: config.drop, grow: config.grow, grownInitialization: config.growInit)
    }

    /// The updater of one trained network built from `spec` at `sparsity`, as the method declares it (nil: its
    /// topology never changes).
    public func updater(for spec: MLPSpec, sparsity: Double) throws -> (any SparsityUpdater)? {
        try config.method.declaration.makeUpdater(self, spec, sparsity)
    }

    /// Zhu & Gupta pruning schedules (one per layer, nil for layers that stay dense) for the prune method.
    public func pruningSchedules(for spec: MLPSpec, sparsity: Double) throws -> [PolynomialPruningSchedule?] {
        let shapes = spec.shapes
        // rigl/rl's ImpalaNetwork solves its pruning targets over `layer_shape_dict`, which says '_dense1': (7744, 512)
        // for a layer built 7744 × 256 (`Dense(_scale_width(256))`); the targets are solved with the listed shape.
        var targetShapes = shapes
        if config.network == .impala, let first = spec.layers.firstIndex(where: { $0.convolution == nil }) {
            targetShapes[first] = LayerShape(fanIn: shapes[first].fanIn, fanOut: 512)
        }
        var forcedDense = Set(spec.layers.indices.filter { spec.layers[$0].backend == .dense })
        // Validation refuses prune with er-epsilon (a per-layer ε fixes densities; pruning needs a budget rule).
        guard let distribution = config.distribution.budgetRule else {
            throw ConfigError("method \(config.method) takes distribution uniform, er or erk, not \(config.distribution.spelling)")
        }
        let finals: [Double]
        do {
            finals = try layerDensities(shapes: targetShapes, sparsity: sparsity, distribution: distribution, dense: forcedDense)
                .map { 1 - $0 }
        } catch { throw ConfigError("cannot reach sparsity \(sparsity) for pruning: \(error)") }
        let begin = Int(config.pruneBegin * Double(totalUpdates)), end = max(begin + 1, Int(config.pruneEnd * Double(totalUpdates)))
        forcedDense.formUnion(finals.indices.filter { finals[$0] <= 0 })
        return shapes.indices.map { l in
            forcedDense.contains(l) ? nil
                : PolynomialPruningSchedule(initialSparsity: 0, finalSparsity: finals[l], beginStep: begin, endStep: end,
                                            frequency: config.pruneFrequency)
        }
    }

    public func adam(learningRate: Double) -> Adam {
        Adam(learningRate: Float(learningRate), epsilon: Float(config.adamEpsilon), weightDecay: Float(config.weightDecay),
             decoupledWeightDecay: config.decoupledWeightDecay, decayBiases: config.decayBiases)
    }

    public var targetTopology: TargetTopology { config.targetTopology }
}
