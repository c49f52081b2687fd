import MuJoCo
import SparrowCore

/// A Gymnasium-style environment: `reset(seed:)` and `step(_:)`, observation and action spaces.
public protocol Environment: AnyObject {
    var id: EnvironmentID { get }
    var observationSpace: BoxSpace { get }
    var actionSpace: BoxSpace { get }
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
