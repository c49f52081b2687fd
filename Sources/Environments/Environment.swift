import MuJoCo
import SparrowCore

/// A Gymnasium-style environment: `reset(seed:)` and `step(_:)`, observation and action spaces. MuJoCo robots
/// (`LocomotionEnv`, continuous actions) and classic-control tasks (discrete actions) both conform.
public protocol Environment: AnyObject {
    /// Gymnasium's id, e.g. "Hopper-v5" or "CartPole-v1".
    var name: String { get }
    var observationSpace: BoxSpace { get }
    /// A box of continuous actions or `Discrete(n)`. A discrete action is passed to `step` as its index (a Double).
    var actions: ActionSpace { get }
    /// Seconds of simulated time per step (timestep × frame_skip).
    var dt: Double { get }
    /// Starts an episode. A seed reseeds the environment's generator; nil continues its stream.
    func reset(seed: UInt64?) throws -> (observation: [Double], info: ResetInfo)
    /// Applies an action for one environment step.
    func step(_ action: [Double]) throws -> StepResult
}

/// Creates an environment by name ("Hopper-v5", "hopper", …) with Gymnasium's v5 defaults or given options.
public func makeEnvironment(_ name: String, options: LocomotionOptions? = nil) throws -> LocomotionEnv {
    let id = try EnvironmentID(name: name)
    return try LocomotionEnv(id, options: options ?? id.defaultOptions)
}

/// What a training loop needs of an environment beyond `Environment`: the kind of its actions, steps and resets
/// that allocate nothing, and its whole state for an exact resume. The trainer depends on this protocol, not on a
/// concrete environment, so tasks of other kinds (discrete-action classic control) plug in beside the MuJoCo ones.
public protocol TrainingEnvironment: Environment {
    /// `reset(seed:)` into a caller's buffer (no allocation).
    func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) throws -> ResetInfo
    /// `step(_:)` from and into a caller's buffers (no allocation). A discrete action is its index as a Double.
    func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws -> StepOutcome
    /// Everything that decides the environment's future (mid-episode included), for checkpoints.
    func encodeState(into w: inout ByteWriter)
    func decodeState(from r: inout ByteReader) throws
}

/// A training environment whose observations are stacks of uint8 frames (Atari: 4 × 84 × 84), handed out as
/// bytes: a replay buffer stores each frame once (`FrameReplayBuffer`) and a network scales them to [0, 1] itself,
/// instead of a `[Double]` of 28 224 values per step. `TrainingEnvironment`'s `[Double]` observation stays valid
/// (the same stack as values 0…255) for the code that reads any environment.
public protocol FrameEnvironment: TrainingEnvironment {
    /// Bytes of one frame.
    var frameSize: Int { get }
    /// Frames per observation.
    var frameStack: Int { get }
    /// Starts an episode (a seed reseeds it, nil continues its stream); the observation is then the frames'.
    func resetFrames(seed: UInt64?) throws
    /// One step with a discrete action index.
    func stepFrames(action index: Int) throws -> StepOutcome
    /// The current observation, oldest frame first (`frameStack × frameSize` bytes), without copying.
    func withObservationBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R
}

extension FrameEnvironment {
    /// The newest frame of the current observation, without copying.
    public func withNewestFrame<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withObservationBytes { all in
            try body(UnsafeBufferPointer(rebasing: all[(frameStack - 1) * frameSize ..< frameStack * frameSize]))
        }
    }
}

/// Gymnasium's allocating `reset(seed:)` and `step(_:)` over the buffer versions: one definition for every
/// training environment (robots, classic control, Atari, noise-feature wrappers).
extension TrainingEnvironment {
    public func reset(seed: UInt64? = nil) throws -> (observation: [Double], info: ResetInfo) {
        var obs = [Double](repeating: 0, count: observationSpace.dimension)
        let info = try obs.withUnsafeMutableBufferPointer { try reset(seed: seed, observation: $0) }
        return (obs, info)
    }

    public func step(_ action: [Double]) throws -> StepResult {
        var obs = [Double](repeating: 0, count: observationSpace.dimension)
        let outcome = try action.withUnsafeBufferPointer { a in
            try obs.withUnsafeMutableBufferPointer { try step(action: a, observation: $0) }
        }
        return StepResult(observation: obs, reward: outcome.reward, terminated: outcome.terminated,
                          truncated: outcome.truncated, info: outcome.info)
    }
}

extension LocomotionEnv: TrainingEnvironment {
    public var name: String { id.name }
    public var actions: ActionSpace { .box(actionSpace) }
}

/// A training environment by name, seeded (Gymnasium's defaults for the task).
public func makeTrainingEnvironment(_ name: String, seed: UInt64 = 0) throws -> any TrainingEnvironment {
    switch try TaskID(name: name) {
    case .locomotion(let id): return try LocomotionEnv(id, options: id.defaultOptions, seed: seed)
    case .classicControl(let id): return makeClassicControlEnvironment(id, seed: seed)
    case .atari(let game): return try AtariEnv(game, seed: seed)
    }
}
