import MuJoCo
import SparrowCore

/// Ant-v5: a quadruped with a free root (qpos[0:7] = position + quaternion).
///
/// Observation (105 by default): qpos[2:] (13), qvel (14), then cfrc_ext of every body but the world
/// (13 × 6 = 78) clipped to `contactForceRange` (default [−1, 1]).
/// Reward: ẋ of the main body's xpos + healthy_reward·[healthy] − 0.5·‖a‖² − 5e-4·‖clip(cfrc_ext)‖².
/// Health (inclusive bounds): qpos and qvel finite and z = qpos[2] in [0.2, 1.0].
struct AntTask: LocomotionTask {
    let options: LocomotionOptions
    let mainBody: Int
    var hasPlanarMotion: Bool { true }

    init(options: LocomotionOptions, model: Model) throws {
        guard model.nq >= 7 else { throw EnvironmentError.incompatibleModel("Ant-v5 needs a free root joint") }
        self.options = options
        self.mainBody = try model.id(of: .body, named: options.mainBody)
    }

    func observationSize(_ model: Model) -> Int {
        model.nq + model.nv - (options.excludeCurrentPositionsFromObservation ? 2 : 0)
            + (options.includeCfrcExtInObservation ? (model.nbody - 1) * 6 : 0)
    }

    func progressPoint(_ sim: Simulation) -> (x: Double, y: Double) {
        (sim.xpos[3 * mainBody], sim.xpos[3 * mainBody + 1])
    }

    func writeObservation(_ sim: Simulation, into obs: UnsafeMutableBufferPointer<Double>) {
        var o = append(sim.qpos, from: options.excludeCurrentPositionsFromObservation ? 2 : 0, to: obs, at: 0)
        o = append(sim.qvel, to: obs, at: o)
        if options.includeCfrcExtInObservation {
            _ = append(sim.cfrcExt, from: 6, clip: options.contactForceRange, to: obs, at: o)
        }
    }

    func isHealthy(_ sim: Simulation, observation: UnsafeBufferPointer<Double>) -> Bool {
        guard sim.qpos.allSatisfy(\.isFinite), sim.qvel.allSatisfy(\.isFinite) else { return false }
        return options.healthyZRange.map { $0.containsInclusive(sim.qpos[2]) } ?? true
    }

    func reward(_ sim: Simulation, action: UnsafeBufferPointer<Double>, xVelocity: Double, healthy: Bool,
                terms: inout RewardTerms) -> Double {
        let forward = xVelocity * options.forwardRewardWeight
        let survive = healthy ? options.healthyReward : 0
        let ctrlCost = options.ctrlCostWeight * sumOfSquares(action)
        var contact = 0.0
        let range = options.contactForceRange
        for f in sim.cfrcExt { let c = min(max(f, range.low), range.high); contact += c * c }
        let contactCost = options.contactCostWeight * contact
        terms = RewardTerms(forward: forward, ctrl: -ctrlCost, contact: -contactCost, survive: survive)
        return (forward + survive) - (ctrlCost + contactCost)
    }

    func fillPositions(_ sim: Simulation, initQpos: [Double], into info: inout StepInfo) {
        fillRootPlanePositions(sim, into: &info)
    }

    func applyResetNoise(_ sim: Simulation, initQpos: [Double], initQvel: [Double], noise: inout Generator) {
        ResetNoise.uniformPositionsNormalVelocities.apply(sim, initQpos: initQpos, initQvel: initQvel,
                                                          scale: options.resetNoiseScale, noise: &noise)
    }
}

/// Ant and Humanoid report the free root's x, y and its distance from the origin.
func fillRootPlanePositions(_ sim: Simulation, into info: inout StepInfo) {
    let x = sim.qpos[0], y = sim.qpos[1]
    info.xPosition = x
    info.yPosition = y
    info.distanceFromOrigin = (x * x + y * y).squareRoot()
}
