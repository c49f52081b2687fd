import Foundation
import NeuralNet
import SparrowCore

// GraNet: gradual pruning with zero-cost neuroregeneration (Liu et al., "Sparse Training via Boosting Pruning
// Plasticity with Neuroregeneration", NeurIPS 2021), read from VITA-Group/GraNet `CIFAR/sparselearning/core.py`
// (`Masking.step`, `pruning`, `truncate_weights`, `magnitude_death`, `gradient_growth`; HEAD f338a24).
//
// As the reference does it, every `prune-frequency` updates from `prune-begin` on:
// 1. Gradual magnitude pruning with one global threshold over every prunable layer (`pruning`: `torch.topk` over the
//    concatenated |w|), toward the cubic schedule's sparsity s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(t₁ − t₀))³, here
//    from dense (s_i = 0: the README's dense-to-sparse GraNet) to `sparsity` between `prune-begin` and `prune-end`.
// 2. Neuroregeneration, per layer (`truncate_weights`): drop ⌈r·n⌉ of the layer's n live weights by magnitude, then
//    regrow as many where the batch's dense gradient is largest; new connections start at zero with zero moments, a
//    connection dropped and regrown in the same step keeps its value. Regeneration goes on after pruning ends,
//    to the end of the run, and r decays as PyTorch's `CosineAnnealingLR` from `drop-fraction` (the reference's
//    `--prune-rate` 0.5) to 0.005 over the whole run.
// Where Sparrow differs: the schedule reaches s_f at `prune-end` (tfmot's `isPruningStep` includes the end step;
// the reference stops one step early, at s_f + (s_i − s_f)/n³); ties at the global threshold keep exactly the
// target count (lower layer, then lower index first) where the reference's `|w| > threshold` drops every tied
// weight; only the layers the base preset makes prunable take part (`dense-output` keeps the output layer dense,
// the reference prunes every 2-D and 4-D weight). `distribution` is not used: the global threshold decides each
// layer's sparsity.

extension AgentConfig.Method {
    public static let granet = AgentConfig.Method(rawValue: "granet")
}

extension SparseMethodDeclaration {
    public static let granet = SparseMethodDeclaration(
        method: .granet,
        summary: "GraNet (Liu et al. 2021): global gradual magnitude pruning from dense, with gradient regrowth at every step.",
        start: .denseToBePruned, keepsLiveCount: false,
        validate: { c in
            if c.grow != .gradient { throw ConfigError("method granet regrows connections by gradient (grow gradient), got grow \(c.grow.spelling)") }
        },
        makeUpdater: { factory, spec, sparsity in
            let c = factory.config, total = factory.totalUpdates
            let begin = Int(c.pruneBegin * Double(total)), end = max(begin + 1, Int(c.pruneEnd * Double(total)))
            return GraNetUpdater(layers: spec.layers.indices.filter { spec.layers[$0].backend != .dense },
                                 schedule: PolynomialPruningSchedule(initialSparsity: 0, finalSparsity: sparsity, beginStep: begin,
                                                                     endStep: end, frequency: c.pruneFrequency),
                                 initialDeathRate: c.dropFraction, totalUpdates: total)
        },
        topologyPeriod: { $0.pruneFrequency },
        presets: [
            MethodPreset(name: "granet-sac", base: "prune-sac", adjust: useReferenceRegeneration),
            MethodPreset(name: "granet-dqn", base: "prune-dqn", adjust: useReferenceRegeneration),
            MethodPreset(name: "granet-ppo", base: "prune-ppo", adjust: useReferenceRegeneration),
        ])

    /// The GraNet presets: the pruning preset's schedule and settings, with GraNet's regeneration (gradient
    /// growth, death rate 0.5: the README's `--prune-rate 0.5`).
    static let useReferenceRegeneration: @Sendable (inout AgentConfig) -> Void = { a in
        a.method = .granet
        a.grow = .gradient
        a.dropFraction = 0.5
    }
}

/// GraNet's topology changes on one network (see the comment at the top of this file).
public final class GraNetUpdater: SparsityUpdater {
    /// The prunable layers (sparse or masked backend), ascending.
    public let layers: [Int]
    /// The network-wide sparsity over the prunable layers at each step.
    public let schedule: PolynomialPruningSchedule
    public let initialDeathRate: Double
    public let totalUpdates: Int
    /// PyTorch `CosineAnnealingLR`'s `eta_min` in the reference's `CosineDecay`.
    public static let finalDeathRate = 0.005

    public init(layers: [Int], schedule: PolynomialPruningSchedule, initialDeathRate: Double, totalUpdates: Int) {
        self.layers = layers; self.schedule = schedule; self.initialDeathRate = initialDeathRate
        self.totalUpdates = max(totalUpdates, 1)
    }

    /// Steps with a GraNet update: every `frequency` updates from the schedule's begin to the end of the run.
    public func isUpdateStep(_ step: Int) -> Bool {
        step >= schedule.beginStep && (step - schedule.beginStep) % schedule.frequency == 0
    }

    /// The regeneration's drop fraction at `step`: cosine from the initial rate to 0.005 over the run.
    public func deathRate(atStep step: Int) -> Double {
        let t = Double(min(max(step, 0), totalUpdates)) / Double(totalUpdates)
        return Self.finalDeathRate + (initialDeathRate - Self.finalDeathRate) * 0.5 * (1 + cos(Double.pi * t))
    }

    @discardableResult
    public func update(_ net: MLP, step: Int, workspace: Workspace, generator: inout Generator) -> [Int] {
        guard isUpdateStep(step), !layers.isEmpty else { return [] }
        var changed = Set<Int>()
        // 1. Global magnitude pruning toward the schedule's sparsity.
        if schedule.isPruningStep(step) {
            let total = layers.reduce(0) { $0 + net.layers[$1].shape.count }
            let keep = max(1, Int((Double(total) * (1 - schedule.sparsity(atStep: step))).rounded()))
            let kept = planGlobalMagnitudePruning(weights: layers.map { net.layers[$0].liveWeights }, keep: keep)
            for (k, l) in layers.enumerated() where kept[k].count < net.layers[l].liveConnections {
                net.layers[l].apply(TopologyPlan(kept: kept[k], grown: []), grownValues: [], keepRegrown: true)
                changed.insert(l)
            }
        }
        // 2. Neuroregeneration, layer by layer: drop ⌈r·n⌉ by magnitude, regrow as many by gradient at zero.
        let rate = deathRate(atStep: step)
        for l in layers {
            let layer = net.layers[l], n = layer.liveConnections
            let drop = min(n, Int((rate * Double(n)).rounded(.up)))
            guard drop > 0 else { continue }
            let kept = planMagnitudePruning(positions: layer.positions, weights: layer.liveWeights, targetCount: n - drop)
            let plan = planGrowth(shape: layer.shape, positions: layer.positions, kept: kept, count: n - kept.count,
                                  grow: .gradient, denseGradient: net.denseWeightGradient(layer: l, workspace),
                                  generator: &generator)
            layer.apply(plan, grownValues: [Float](repeating: 0, count: plan.grown.count), keepRegrown: true)
            changed.insert(l)
        }
        return changed.sorted()
    }
}

/// Which live weights of several layers survive one global magnitude threshold that keeps `keep` of them (GraNet's
/// `pruning`): for each layer, the kept indices into its live weights, ascending. Ties at the threshold keep the
/// lower layer, then the lower index; NaN ranks below everything.
public func planGlobalMagnitudePruning(weights: [[Float]], keep: Int) -> [[Int]] {
    var entries: [(magnitude: Float, layer: Int, index: Int)] = []
    entries.reserveCapacity(weights.reduce(0) { $0 + $1.count })
    for (l, w) in weights.enumerated() {
        for (i, v) in w.enumerated() { entries.append((v.isNaN ? -1 : abs(v), l, i)) }
    }
    entries.sort { a, b in a.magnitude != b.magnitude ? a.magnitude > b.magnitude : (a.layer, a.index) < (b.layer, b.index) }
    var kept = weights.map { _ in [Int]() }
    for e in entries.prefix(max(0, keep)) { kept[e.layer].append(e.index) }
    return kept.map { $0.sorted() }
}
