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
        networkCost(layers.map { LayerCost(shape: $0.shape, liveWeights: $0.liveConnections) })
    }
}

/// How a target network follows its online network.
public enum TargetTopology: String, Codable, Sendable, CaseIterable, NamedChoice {
    /// RigL / TF-Agents: the target takes the online topology (mask hard-copied) and soft-averages the values;
    /// a position new to the target counts its old value as 0.
    case copyOnline
    /// Sokar / ANF "maintain sparsity": soft update on the union of supports, then keep the nnz(online) largest
    /// magnitudes (`softUpdateMaintainingSparsity`); the target's topology may trail the online one.
    case maintainSparsity

    /// Flag and config spelling (`--target-topology`).
    public var spelling: String { self == .copyOnline ? "copy" : "maintain" }
}

extension MLP {
    /// A deep copy (values, topology, optimizer state). Use as the initial target network.
    public func copy() -> MLP {
        MLP(spec: spec, layers: layers.map { layer -> any Layer in
            let out: any Layer
            switch layer {
            case let s as SparseLayer:
                out = SparseLayer(shape: s.shape, positions: s.positions, values: s.weight.values, biases: s.bias.values)
            case let d as DenseLayer:
                out = DenseLayer(shape: d.shape, weights: d.weight.values, biases: d.bias.values, mask: d.weight.mask,
                                 momentPolicy: d.weight.momentPolicy)
            default: preconditionFailure("unknown layer type")
            }
            for (a, b) in [(out.weight, layer.weight), (out.bias, layer.bias)] {
                a.replace(values: b.values, firstMoment: b.firstMoment, secondMoment: b.secondMoment, mask: b.mask)
                a.restoreState(step: b.step, momentPolicy: b.momentPolicy)
            }
            return out
        })
    }

    /// Soft target update `self ← τ·online + (1−τ)·self` (τ = 1: hard copy of values), following `topology`.
    /// Biases and dense layers are plain soft updates. Allocation-free while topologies agree.
    public func softUpdate(toward online: MLP, tau: Float, topology: TargetTopology) {
        precondition(layers.count == online.layers.count)
        for l in 0..<layers.count {
            let t = layers[l], o = online.layers[l]
            precondition(t.shape == o.shape && t.backend == o.backend, "target and online layers differ")
            blend(t.bias, o.bias.values, tau)
            switch (t, o) {
            case let (ts as SparseLayer, os as SparseLayer):
                switch topology {
                case .maintainSparsity:
                    ts.softUpdateMaintainingSparsity(online: os, tau: tau)
                case .copyOnline:
                    if ts.positions == os.positions {
                        blend(ts.weight, os.weight.values, tau)
                    } else {
                        // Values of the old target at the online positions (0 where absent), then blend.
                        var old = [Float](repeating: 0, count: os.positions.count)
                        var i = 0
                        for (k, p) in os.positions.enumerated() {
                            while i < ts.positions.count && ts.positions[i] < p { i += 1 }
                            if i < ts.positions.count && ts.positions[i] == p { old[k] = ts.weight.values[i] }
                        }
                        ts.reset(positions: os.positions, values: old)
                        blend(ts.weight, os.weight.values, tau)
                    }
                }
            case let (td as DenseLayer, od as DenseLayer):
                guard let onlineMask = od.weight.mask else { blend(td.weight, od.weight.values, tau); continue }
                switch topology {
                case .copyOnline:
                    // In place: blend, then zero what the online mask drops; the target shares the online mask's
                    // storage (copy-on-write: it is copied only when the online topology next changes).
                    blend(td.weight, od.weight.values, tau)
                    td.weight.values.withUnsafeMutableBufferPointer { w in
                        onlineMask.withUnsafeBufferPointer { m in for i in 0..<w.count { w[i] *= m[i] } }
                    }
                    td.weight.setMask(onlineMask, liveCount: od.liveConnections)
                case .maintainSparsity:
                    // Move the arrays out so they are uniquely referenced and update in place (no copies).
                    var w = [Float](), m = [Float]()
                    swap(&w, &td.weight.values)
                    if td.weight.mask != nil { swap(&m, &td.weight.mask!) } else { m = onlineMask }
                    let live = NeuralNet.softUpdateMaintainingSparsityInPlace(target: &w, mask: &m, online: od.weight.values, tau: tau,
                                                                              keys: &td.dropKeyScratch)
                    swap(&w, &td.weight.values)
                    td.weight.setMask(m, liveCount: live)
                }
            default:
                preconditionFailure("target and online layer types differ")
            }
        }
    }
}

@inline(__always) private func blend(_ target: ParameterTensor, _ online: [Float], _ tau: Float) {
    precondition(target.values.count == online.count)
    let keep = 1 - tau
    target.values.withUnsafeMutableBufferPointer { t in
        online.withUnsafeBufferPointer { o in
            for i in 0..<t.count { t[i] = tau * o[i] + keep * t[i] }
        }
    }
}
