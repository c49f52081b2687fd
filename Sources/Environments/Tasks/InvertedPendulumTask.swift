import MuJoCo
import SparrowCore

/// InvertedPendulum-v5: a cart (slider) with a hinged pole. A fast-learning task for agent tests.
///
/// Observation: qpos (2) then qvel (2). Reward 1 while the pole stands; the episode terminates when the
/// observation is non-finite or |pole angle| = |obs[1]| > 0.2.
struct InvertedPendulumTask: LocomotionTask {
    let options: LocomotionOptions
    var hasPlanarMotion: Bool { false }

    init(options: LocomotionOptions, model: Model) throws {
        guard model.nq >= 2 else { throw EnvironmentError.incompatibleModel("InvertedPendulum-v5 needs cart and pole joints") }
        self.options = options
    }

    func observationSize(_ model: Model) -> Int { model.nq + model.nv }

    func progressPoint(_ sim: Simulation) -> (x: Double, y: Double) { (sim.qpos[0], 0) }

    func writeObservation(_ sim: Simulation, into obs: UnsafeMutableBufferPointer<Double>) {
        _ = append(sim.qvel, to: obs, at: append(sim.qpos, to: obs, at: 0))
    }

    func isHealthy(_ sim: Simulation, observation: UnsafeBufferPointer<Double>) -> Bool {
        observation.allSatisfy(\.isFinite) && abs(observation[1]) <= 0.2
    }

    func reward(_ sim: Simulation, action: UnsafeBufferPointer<Double>, xVelocity: Double, healthy: Bool,
                terms: inout RewardTerms) -> Double {
        let r = healthy ? options.healthyReward : 0
        terms.survive = r
        return r
    }

    func fillPositions(_ sim: Simulation, initQpos: [Double], into info: inout StepInfo) {
        info.xPosition = sim.qpos[0]
    }

    func applyResetNoise(_ sim: Simulation, initQpos: [Double], initQvel: [Double], noise: inout Generator) {
        ResetNoise.uniformBoth.apply(sim, initQpos: initQpos, initQvel: initQvel,
                                     scale: options.resetNoiseScale, noise: &noise)
    }
}
