import MuJoCo
import SparrowCore

/// Humanoid-v5: a 3D biped with a free root.
///
/// Observation (348 by default): qpos[2:] (22), qvel (23), cinert[1:] (13 × 10), cvel[1:] (13 × 6),
/// qfrc_actuator[6:] (17), cfrc_ext[1:] (13 × 6) — the world body's rows and the root's actuator forces dropped.
/// Reward: 1.25·ẋ of the mass centre + 5·[healthy] − 0.1·‖ctrl‖² − min(5e-7·‖cfrc_ext‖², 10).
/// Health (strict): z = qpos[2] in (1, 2).
struct HumanoidTask: LocomotionTask {
    let options: LocomotionOptions
    let totalMass: Double
    var hasPlanarMotion: Bool { true }

    init(options: LocomotionOptions, model: Model) throws {
        guard model.nq >= 7, model.nv >= 6 else {
            throw EnvironmentError.incompatibleModel("Humanoid-v5 needs a free root joint")
        }
        self.options = options
        self.totalMass = model.bodyMass.reduce(0, +)
    }

    func observationSize(_ model: Model) -> Int {
        let b = model.nbody - 1
        return model.nq - (options.excludeCurrentPositionsFromObservation ? 2 : 0) + model.nv
            + (options.includeCinertInObservation ? b * 10 : 0)
            + (options.includeCvelInObservation ? b * 6 : 0)
            + (options.includeQfrcActuatorInObservation ? model.nv - 6 : 0)
            + (options.includeCfrcExtInObservation ? b * 6 : 0)
    }

    /// Mass centre Σ mᵢ·xiposᵢ / Σ mᵢ (Gymnasium's mass_center).
    func progressPoint(_ sim: Simulation) -> (x: Double, y: Double) {
        let mass = sim.model.bodyMass, xipos = sim.xipos
        var x = 0.0, y = 0.0
        for b in 0..<mass.count { x += mass[b] * xipos[3 * b]; y += mass[b] * xipos[3 * b + 1] }
        return (x / totalMass, y / totalMass)
    }

    func writeObservation(_ sim: Simulation, into obs: UnsafeMutableBufferPointer<Double>) {
        var o = append(sim.qpos, from: options.excludeCurrentPositionsFromObservation ? 2 : 0, to: obs, at: 0)
        o = append(sim.qvel, to: obs, at: o)
        if options.includeCinertInObservation { o = append(sim.cinert, from: 10, to: obs, at: o) }
        if options.includeCvelInObservation { o = append(sim.cvel, from: 6, to: obs, at: o) }
        if options.includeQfrcActuatorInObservation { o = append(sim.qfrcActuator, from: 6, to: obs, at: o) }
        if options.includeCfrcExtInObservation { _ = append(sim.cfrcExt, from: 6, to: obs, at: o) }
    }

    func isHealthy(_ sim: Simulation, observation: UnsafeBufferPointer<Double>) -> Bool {
        options.healthyZRange.map { $0.containsStrictly(sim.qpos[2]) } ?? true
    }

    func reward(_ sim: Simulation, action: UnsafeBufferPointer<Double>, xVelocity: Double, healthy: Bool,
                terms: inout RewardTerms) -> Double {
        let forward = options.forwardRewardWeight * xVelocity
        let survive = healthy ? options.healthyReward : 0
        // Gymnasium uses data.ctrl here, which holds the action as given (MuJoCo clamps only internally).
        let ctrlCost = options.ctrlCostWeight * sumOfSquares(action)
        var contact = 0.0
        for f in sim.cfrcExt { contact += f * f }
        let contactCost = min(options.contactCostWeight * contact, options.contactCostMax)
        terms = RewardTerms(forward: forward, ctrl: -ctrlCost, contact: -contactCost, survive: survive)
        return (forward + survive) - (ctrlCost + contactCost)
    }

    func fillPositions(_ sim: Simulation, initQpos: [Double], into info: inout StepInfo) {
        fillRootPlanePositions(sim, into: &info)
    }

    func applyResetNoise(_ sim: Simulation, initQpos: [Double], initQvel: [Double], noise: inout Generator) {
        ResetNoise.uniformBoth.apply(sim, initQpos: initQpos, initQvel: initQvel,
                                     scale: options.resetNoiseScale, noise: &noise)
    }
}
