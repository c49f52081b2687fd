import MuJoCo
import SparrowCore

/// What differs between the v5 tasks. `LocomotionEnv` does the stepping; a task reads the simulation.
protocol LocomotionTask {
    /// True for robots whose "forward" progress has an y component too (Ant, Humanoid).
    var hasPlanarMotion: Bool { get }
    func observationSize(_ model: Model) -> Int
    /// The (x, y) position whose change over a step is the robot's velocity for the forward reward.
    func progressPoint(_ sim: Simulation) -> (x: Double, y: Double)
    func writeObservation(_ sim: Simulation, into obs: UnsafeMutableBufferPointer<Double>)
    func isHealthy(_ sim: Simulation, observation: UnsafeBufferPointer<Double>) -> Bool
    /// The step's reward, summed in Gymnasium's order ((forward + healthy) − (ctrl + contact)), and its terms.
    func reward(_ sim: Simulation, action: UnsafeBufferPointer<Double>, xVelocity: Double, healthy: Bool,
                terms: inout RewardTerms) -> Double
    func fillPositions(_ sim: Simulation, initQpos: [Double], into info: inout StepInfo)
    func applyResetNoise(_ sim: Simulation, initQpos: [Double], initQvel: [Double], noise: inout Generator)
}

extension EnvironmentID {
    func makeTask(options: LocomotionOptions, model: Model) throws -> any LocomotionTask {
        switch self {
        case .hopper, .walker2d, .halfCheetah: return try PlanarTask(self, options: options, model: model)
        case .ant: return try AntTask(options: options, model: model)
        case .humanoid: return try HumanoidTask(options: options, model: model)
        case .invertedPendulum: return try InvertedPendulumTask(options: options, model: model)
        }
    }
}

// MARK: shared pieces

/// Σ aᵢ², the control cost's core (Gymnasium: weight · np.sum(np.square(action))).
@inline(__always)
func sumOfSquares(_ a: UnsafeBufferPointer<Double>) -> Double {
    var s = 0.0
    for x in a { s += x * x }
    return s
}

/// How a task perturbs its initial state at reset (Gymnasium's reset_model).
enum ResetNoise {
    /// qpos and qvel each + U(−s, s) (Hopper, Walker2d, Humanoid, InvertedPendulum).
    case uniformBoth
    /// qpos + U(−s, s), qvel + s·N(0, 1) (HalfCheetah, Ant).
    case uniformPositionsNormalVelocities

    func apply(_ sim: Simulation, initQpos: [Double], initQvel: [Double], scale s: Double, noise g: inout Generator) {
        let qpos = sim.qpos, qvel = sim.qvel
        for i in 0..<qpos.count { qpos[i] = initQpos[i] + g.uniform(-s, s) }
        switch self {
        case .uniformBoth:
            for i in 0..<qvel.count { qvel[i] = initQvel[i] + g.uniform(-s, s) }
        case .uniformPositionsNormalVelocities:
            for i in 0..<qvel.count { qvel[i] = initQvel[i] + s * g.normal() }
        }
    }
}

/// Copies `src[from...]` (optionally clipped to ±clip) into `obs` at `offset`; returns the new offset.
@inline(__always)
func append(_ src: UnsafeMutableBufferPointer<Double>, from: Int = 0, clip: Bounds? = nil,
            to obs: UnsafeMutableBufferPointer<Double>, at offset: Int) -> Int {
    var o = offset
    if let clip {
        for i in from..<src.count { obs[o] = min(max(src[i], clip.low), clip.high); o += 1 }
    } else {
        for i in from..<src.count { obs[o] = src[i]; o += 1 }
    }
    return o
}
