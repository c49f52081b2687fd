import MuJoCo
import SparrowCore

/// Hopper-v5, Walker2d-v5 and HalfCheetah-v5: robots in the x–z plane whose root is rootx, rootz, rooty.
///
/// Observation: qpos[1:] (qpos with `excludeCurrentPositionsFromObservation = false`) then qvel, velocities
/// clipped to ±10 for Hopper and Walker2d. Forward progress: qpos[0].
/// Reward: forward_weight·ẋ + healthy_reward·[healthy] − ctrl_weight·‖a‖² (HalfCheetah has no healthy term).
/// Health (strict bounds): Hopper — every entry of state_vector()[2:] in (−100, 100), z = qpos[1] in
/// (0.7, ∞), angle = qpos[2] in (−0.2, 0.2); Walker2d — z in (0.8, 2), angle in (−1, 1); HalfCheetah never ends.
struct PlanarTask: LocomotionTask {
    let id: EnvironmentID
    let options: LocomotionOptions
    let velocityClip: Bounds?
    var hasPlanarMotion: Bool { false }

    init(_ id: EnvironmentID, options: LocomotionOptions, model: Model) throws {
        guard model.nq >= 3, model.nv >= 3 else {
            throw EnvironmentError.incompatibleModel("\(id.name) needs a planar root (rootx, rootz, rooty)")
        }
        self.id = id
        self.options = options
        self.velocityClip = id == .halfCheetah ? nil : Bounds(-10, 10)
    }

    func observationSize(_ model: Model) -> Int {
        model.nq + model.nv - (options.excludeCurrentPositionsFromObservation ? 1 : 0)
    }

    func progressPoint(_ sim: Simulation) -> (x: Double, y: Double) { (sim.qpos[0], 0) }

    func writeObservation(_ sim: Simulation, into obs: UnsafeMutableBufferPointer<Double>) {
        let o = append(sim.qpos, from: options.excludeCurrentPositionsFromObservation ? 1 : 0, to: obs, at: 0)
        _ = append(sim.qvel, clip: velocityClip, to: obs, at: o)
    }

    func isHealthy(_ sim: Simulation, observation: UnsafeBufferPointer<Double>) -> Bool {
        let qpos = sim.qpos, qvel = sim.qvel
        let z = qpos[1], angle = qpos[2]
        switch id {
        case .halfCheetah:
            return true
        case .hopper:
            if let range = options.healthyStateRange {
                for i in 2..<qpos.count where !range.containsStrictly(qpos[i]) { return false }
                for v in qvel where !range.containsStrictly(v) { return false }
            }
            fallthrough
        default:
            let zOK = options.healthyZRange.map { $0.containsStrictly(z) } ?? true
            let angleOK = options.healthyAngleRange.map { $0.containsStrictly(angle) } ?? true
            return zOK && angleOK
        }
    }

    func reward(_ sim: Simulation, action: UnsafeBufferPointer<Double>, xVelocity: Double, healthy: Bool,
                terms: inout RewardTerms) -> Double {
        let forward = options.forwardRewardWeight * xVelocity
        let ctrlCost = options.ctrlCostWeight * sumOfSquares(action)
        terms.forward = forward
        terms.ctrl = -ctrlCost
        if id == .halfCheetah { return forward - ctrlCost }
        let survive = healthy ? options.healthyReward : 0
        terms.survive = survive
        return (forward + survive) - ctrlCost
    }

    func fillPositions(_ sim: Simulation, initQpos: [Double], into info: inout StepInfo) {
        info.xPosition = sim.qpos[0]
        if id != .halfCheetah { info.zDistanceFromOrigin = sim.qpos[1] - initQpos[1] }
    }

    func applyResetNoise(_ sim: Simulation, initQpos: [Double], initQvel: [Double], noise: inout Generator) {
        let kind: ResetNoise = id == .halfCheetah ? .uniformPositionsNormalVelocities : .uniformBoth
        kind.apply(sim, initQpos: initQpos, initQvel: initQvel, scale: options.resetNoiseScale, noise: &noise)
    }
}
