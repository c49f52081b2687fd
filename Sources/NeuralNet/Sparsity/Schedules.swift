// Sparsity mathematics, part 4: when topology changes happen and how much changes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fraction of live connections a topology update drops (and regrows).
public enum DropFractionSchedule: Codable, Equatable, Sendable {
    /// The same fraction every update (Sokar, ANF: ζ = 0.05; Sokar DS-SAC: 0.1).
    case constant(Double)
    /// RigL's `cosine` schedule (Keras `CosineDecay`, alpha 0): `initial·0.5·(1 + cos(π·min(t, T)/T))`,
    /// T = `endStep` (RigL sets it to `last_update_step`). Graesser SAC: initial 0.5, T = 800 000.
    case cosine(initial: Double, endStep: Int)

    /// The drop fraction at training step `step` (Double precision; Keras evaluates it in float32).
    public func fraction(atStep step: Int) -> Double {
        switch self {
        case .constant(let f):
            return f
        case .cosine(let initial, let endStep):
            precondition(endStep > 0, "cosine drop-fraction schedule needs endStep > 0, got \(endStep)")
            let t = Double(min(max(step, 0), endStep)) / Double(endStep)
            return initial * 0.5 * (1 + cos(Double.pi * t))
        }
    }
}

/// When a layer's topology is updated.
///
/// Updates fire on steps with `step % period == offset`:
/// - Sokar DS-TD3 and ANF count training iterations from 1 and fire when `it % 1000 == 2` (offset 2);
///   RigL fires when `step % update_freq == 0` (offset 0).
/// - `stopStep` ends the updates, in one of two ways:
///   - `finalDropWithoutRegrow == false` (RigL `is_update_iter`): updates while `step <= stopStep`
///     (RigL `last_update_step`; Graesser SAC 800 000). `nil` = never stop.
///   - `finalDropWithoutRegrow == true` (Sokar/ANF `earlyStopTopologyChangeIteration`): updates keep regrowing while
///     `step <= stopStep`; the first update step *after* `stopStep` is the final one — it drops without regrowing —
///     and nothing happens afterwards (Sokar: stop 925 000, final update at iteration 925 002). `nil` = never
///     (ANF's default 1e9).
public struct TopologyUpdateSchedule: Codable, Equatable, Sendable {
    public var period: Int
    public var offset: Int
    public var stopStep: Int?
    public var finalDropWithoutRegrow: Bool

    public init(period: Int, offset: Int = 0, stopStep: Int? = nil, finalDropWithoutRegrow: Bool = false) {
        precondition(period > 0, "topology update period must be > 0, got \(period)")
        precondition(offset >= 0 && offset < period, "offset must be in 0..<\(period), got \(offset)")
        self.period = period
        self.offset = offset
        self.stopStep = stopStep
        self.finalDropWithoutRegrow = finalDropWithoutRegrow
    }

    /// Sokar DS-TD3: every `period` iterations at `it % period == 2`; after `earlyStop` one final drop without
    /// regrow. Defaults: period 1000, early stop 1e6 − 25e3 − 5e4 = 925 000 iterations.
    public static func sokar(period: Int = 1000, earlyStop: Int? = 925_000) -> TopologyUpdateSchedule {
        TopologyUpdateSchedule(period: period, offset: 2 % period, stopStep: earlyStop, finalDropWithoutRegrow: true)
    }

    /// RigL (Graesser et al.): `step % period == 0 && step <= lastUpdateStep`.
    public static func rigl(period: Int = 1000, lastUpdateStep: Int? = 800_000) -> TopologyUpdateSchedule {
        TopologyUpdateSchedule(period: period, offset: 0, stopStep: lastUpdateStep, finalDropWithoutRegrow: false)
    }

    /// The step of the final (drop-only) update, when there is one.
    public var finalStep: Int? {
        guard finalDropWithoutRegrow, let stop = stopStep else { return nil }
        // First step > stop with step % period == offset.
        let base = stop + 1
        let r = ((base - offset) % period + period) % period
        return r == 0 ? base : base + (period - r)
    }

    /// Whether the topology changes at `step`.
    public func isUpdateStep(_ step: Int) -> Bool {
        guard step >= 0, step % period == offset else { return false }
        if finalDropWithoutRegrow {
            guard let last = finalStep else { return true }
            return step <= last
        }
        guard let stop = stopStep else { return true }
        return step <= stop
    }

    /// Whether the update at `step` is the final one, which drops without regrowing (pass `regrow: false`).
    public func isFinalUpdate(_ step: Int) -> Bool {
        guard let last = finalStep else { return false }
        return step == last
    }
}

/// Gradual magnitude pruning (Zhu & Gupta 2017) as tfmot `PolynomialDecay`, used by Graesser et al.'s "pruning"
/// baseline: `s(t) = s_f + (s_i − s_f)·(1 − p)^power`, `p = clamp((t − begin)/(end − begin), 0, 1)`, power 3;
/// masks are recomputed when `begin ≤ t ≤ end` and `(t − begin) % frequency == 0`.
/// Graesser SAC: final 0.9 (per layer from ERK), begin 200 000, end 800 000, frequency 1000.
public struct PolynomialPruningSchedule: Codable, Equatable, Sendable {
    public var initialSparsity: Double
    public var finalSparsity: Double
    public var beginStep: Int
    public var endStep: Int
    public var frequency: Int
    public var power: Double

    public init(initialSparsity: Double = 0, finalSparsity: Double, beginStep: Int, endStep: Int,
                frequency: Int, power: Double = 3) {
        precondition(0 <= initialSparsity && initialSparsity < 1, "initial sparsity must be in [0, 1)")
        precondition(0 <= finalSparsity && finalSparsity < 1, "final sparsity must be in [0, 1)")
        precondition(beginStep >= 0 && endStep > beginStep, "need 0 ≤ beginStep < endStep")
        precondition(frequency > 0, "pruning frequency must be > 0")
        self.initialSparsity = initialSparsity
        self.finalSparsity = finalSparsity
        self.beginStep = beginStep
        self.endStep = endStep
        self.frequency = frequency
        self.power = power
    }

    /// Target sparsity at `step` (s_i before `beginStep`, s_f after `endStep`).
    public func sparsity(atStep step: Int) -> Double {
        let p = min(1, max(0, Double(step - beginStep) / Double(endStep - beginStep)))
        return finalSparsity + (initialSparsity - finalSparsity) * pow(1 - p, power)
    }

    /// Whether masks are recomputed at `step` (tfmot `_should_prune_in_step`).
    public func isPruningStep(_ step: Int) -> Bool {
        step >= beginStep && step <= endStep && (step - beginStep) % frequency == 0
    }
}

/// Live count tfmot keeps at a given sparsity: `max(1, round(N·(1 − s)))`, round half to even, in float32 as tfmot
/// (`pruning_impl._update_mask`). Feed it to `planMagnitudePruning`.
public func pruningTargetCount(shape: LayerShape, sparsity: Double) -> Int {
    let k = (Float(shape.count) * (1 - Float(sparsity))).rounded(.toNearestOrEven)
    return max(1, min(shape.count, Int(k)))
}
