import Foundation

/// Where a training step's time goes (`sparrow bench train --profile`): exclusive wall time per phase.
///
/// The loop and the agents mark phase boundaries with `enter`, which charges the time since the last boundary to
/// the phase that was running and returns it, so nested work (a topology update inside a critic step) is counted
/// once, under the innermost phase, and the caller goes back with `enter(previous)`. Off by default: the agents
/// and the trainer hold an optional profiler and skip the clock reads when it is nil.
public final class StepProfiler {
    /// `replay` is storing transitions (and, on-policy, the rollout's); `replaySample` is drawing and gathering
    /// the training batch, timed apart since issue 26 (before, `replay` held both).
    public enum Phase: Int, CaseIterable, Sendable {
        case envStep, acting, replay, replaySample, criticUpdate, actorUpdate, targetUpdate, topologyUpdate, evaluation, rest

        /// JSON key.
        public var key: String {
            switch self {
            case .envStep: return "env_step"
            case .acting: return "acting"
            case .replay: return "replay"
            case .replaySample: return "replay_sample"
            case .criticUpdate: return "critic_update"
            case .actorUpdate: return "actor_update"
            case .targetUpdate: return "target_update"
            case .topologyUpdate: return "topology_update"
            case .evaluation: return "evaluation"
            case .rest: return "rest"
            }
        }
    }

    /// Seconds per phase, indexed by `Phase.rawValue`.
    public private(set) var seconds: [Double]
    private var current = Phase.rest
    private var since: Double

    public init() {
        seconds = Array(repeating: 0, count: Phase.allCases.count)
        since = Self.now()
    }

    /// Starts `phase`; returns the phase that was running.
    @discardableResult @inline(__always)
    public func enter(_ phase: Phase) -> Phase {
        let t = Self.now()
        seconds[current.rawValue] += t - since
        since = t
        let previous = current
        current = phase
        return previous
    }

    @inline(__always) static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
