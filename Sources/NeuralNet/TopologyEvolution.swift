import SparrowCore

/// Dynamic sparse training of an MLP's sparse and masked layers: when, how much, which to drop, where to grow.
/// The decisions are the sparsity mathematics in `Sparsity/`; this type applies them to layers.
///
/// Presets: `.set()` (Sokar DS-TD3 / ANF: ζ = 0.05 every 1000 steps, random growth), `.rigl()` (Graesser et al.:
/// cosine drop fraction from 0.5, gradient growth, stop at 800k).
public struct TopologyEvolution: Codable, Equatable, Sendable {
    public var schedule: TopologyUpdateSchedule
    public var dropFraction: DropFractionSchedule
    public var drop: DropCriterion
    public var grow: GrowCriterion
    /// Value of a newly grown connection (`.zero` in RigL and ANF; Sokar's code effectively keeps the Adam step's
    /// write, see reference a1). Other methods draw from `initialWeights` over the grown positions (`.sparsityAware`
    /// with the fans of the whole new topology).
    public var grownInitialization: WeightInit
    /// A dropped-and-regrown connection keeps value and moments (RigL `reinit_when_same=False`, ANF, Sokar).
    public var keepRegrown: Bool
    /// Layers that evolve (nil: every sparse or masked layer).
    public var layers: [Int]?

    public init(schedule: TopologyUpdateSchedule, dropFraction: DropFractionSchedule, drop: DropCriterion = .magnitude,
                grow: GrowCriterion = .random, grownInitialization: WeightInit = .zero, keepRegrown: Bool = true,
                layers: [Int]? = nil) {
        self.schedule = schedule; self.dropFraction = dropFraction; self.drop = drop; self.grow = grow
        self.grownInitialization = grownInitialization; self.keepRegrown = keepRegrown; self.layers = layers
    }

    public static func set(period: Int = 1000, zeta: Double = 0.05, drop: DropCriterion = .magnitude,
                           stopStep: Int? = nil, finalDropWithoutRegrow: Bool = false) -> TopologyEvolution {
        TopologyEvolution(schedule: TopologyUpdateSchedule(period: period, offset: 0, stopStep: stopStep,
                                                           finalDropWithoutRegrow: finalDropWithoutRegrow),
                          dropFraction: .constant(zeta), drop: drop, grow: .random)
    }

    public static func rigl(period: Int = 1000, initialDropFraction: Double = 0.5, lastUpdateStep: Int = 800_000) -> TopologyEvolution {
        TopologyEvolution(schedule: .rigl(period: period, lastUpdateStep: lastUpdateStep),
                          dropFraction: .cosine(initial: initialDropFraction, endStep: lastUpdateStep),
                          drop: .magnitude, grow: .gradient)
    }
}

extension MLP {
    /// Indices of layers that can change topology (sparse or masked).
    public var evolvableLayers: [Int] { layers.indices.filter { layers[$0].backend != .dense } }

    /// Runs a topology update if `step` is an update step of `evolution.schedule`; returns the plans applied
    /// (empty when nothing happened). Gradient growth (RigL) needs `workspace` on which `backward` just ran on the
    /// current batch: the dense gradient is computed here, only at update steps.
    @discardableResult
    public func updateTopology(_ evolution: TopologyEvolution, step: Int, workspace: Workspace? = nil,
                               generator: inout Generator) -> [Int: TopologyPlan] {
        guard evolution.schedule.isUpdateStep(step) else { return [:] }
        let regrow = !evolution.schedule.isFinalUpdate(step)
        let fraction = evolution.dropFraction.fraction(atStep: step)
        var plans: [Int: TopologyPlan] = [:]
        for l in evolution.layers ?? evolvableLayers {
            let layer = layers[l]
            precondition(layer.backend != .dense, "layer \(l) is dense: it has no topology to evolve")
            var dense: [Float]? = nil
            if evolution.grow == .gradient && regrow {
                guard let ws = workspace else { preconditionFailure("gradient growth needs the workspace of a backward pass") }
                dense = denseWeightGradient(layer: l, ws)
            }
            let plan = planTopologyUpdate(shape: layer.shape, positions: layer.positions, weights: layer.liveWeights,
                                          dropFraction: fraction, drop: evolution.drop, grow: evolution.grow,
                                          regrow: regrow, denseGradient: dense, generator: &generator)
            // Sparsity-aware init of grown connections uses the fans of the whole new topology.
            let fans = evolution.grownInitialization == .sparsityAware
                ? mergeTopology(oldPositions: layer.positions, plan: plan).positions : nil
            let values = initialWeights(shape: layer.shape, positions: plan.grown, method: evolution.grownInitialization,
                                        fanTopology: fans, generator: &generator)
            layer.apply(plan, grownValues: values, keepRegrown: evolution.keepRegrown)
            plans[l] = plan
        }
        return plans
    }

    /// Gradual magnitude pruning (Zhu & Gupta): at a pruning step of `schedules[l]`, keeps the largest-magnitude
    /// `pruningTargetCount` live weights of layer l (nil schedule: layer not pruned). Layers start dense as sparse
    /// (density 1) or masked layers; pruned connections and their moments are removed. Returns the layers pruned.
    @discardableResult
    public func pruneByMagnitude(_ schedules: [PolynomialPruningSchedule?], step: Int) -> [Int] {
        precondition(schedules.count == layers.count, "one schedule (or nil) per layer")
        var pruned: [Int] = []
        for (l, schedule) in schedules.enumerated() {
            guard let schedule, schedule.isPruningStep(step) else { continue }
            let layer = layers[l]
            precondition(layer.backend != .dense, "layer \(l) is dense: build it as sparse or masked at density 1 to prune it")
            let target = pruningTargetCount(shape: layer.shape, sparsity: schedule.sparsity(atStep: step))
            let kept = planMagnitudePruning(positions: layer.positions, weights: layer.liveWeights, targetCount: target)
            if kept.count == layer.liveConnections { continue }
            layer.apply(TopologyPlan(kept: kept, grown: []), grownValues: [], keepRegrown: true)
            pruned.append(l)
        }
        return pruned
    }

    /// Parameter and FLOP accounting of the current topology.
    public var cost: NetworkCost {
        networkCost(layers.map { $0.cost })
    }
}
