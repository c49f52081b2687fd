import MuJoCo
import SparrowCore

/// One MuJoCo locomotion task with Gymnasium v5 semantics.
///
/// The shared part lives here: action checks, `frame_skip` physics steps followed by `mj_rnePostConstraint`
/// (so cfrc_ext is filled, as Gymnasium does), forward velocity from the change of a reference position,
/// the 1000-step time limit, divergence handling and seeded reset noise. What differs per robot (observation
/// layout, reward terms, health) is a `LocomotionTask` in Tasks/.
///
/// Two ways to step: `step(_:)` returns Gymnasium's tuple as a `StepResult` (allocates the observation array);
/// `step(action:observation:)` writes into caller storage and allocates nothing, for training loops.
public final class LocomotionEnv: Environment {
    public let id: EnvironmentID
    public let options: LocomotionOptions
    public let model: Model
    public let simulation: Simulation
    public let observationSpace: BoxSpace
    public let actionSpace: BoxSpace
    public let dt: Double

    /// The generator behind reset noise; its state is part of a checkpoint.
    public var generator: Generator
    /// Steps since the last reset.
    public private(set) var elapsedSteps = 0

    private let task: any LocomotionTask
    private let initQpos: [Double]
    private let initQvel: [Double]
    /// The last finite observation, repeated when the physics diverges.
    private var lastObservation: [Double]

    public init(_ id: EnvironmentID, options: LocomotionOptions, seed: UInt64 = 0) throws {
        try options.validate()
        let path = try options.xmlFile ?? ModelFiles.path(for: id)
        let model = try Model(contentsOf: path)
        self.id = id
        self.options = options
        self.model = model
        self.simulation = try Simulation(model: model)
        self.task = try id.makeTask(options: options, model: model)
        self.dt = model.timestep * Double(options.frameSkip)
        let ranges = model.actuatorControlRanges
        self.actionSpace = BoxSpace(low: ranges.map(\.low), high: ranges.map(\.high))
        let n = task.observationSize(model)
        if let custom = options.xmlFile, let stockPath = try? ModelFiles.path(for: id), stockPath != custom {
            // A custom model (Gymnasium's xml_file) may change masses, lengths, gains; not what the task observes
            // and actuates, or the run is reported as a task it is not.
            let stock = try Model(contentsOf: stockPath)
            let want = (try id.makeTask(options: options, model: stock).observationSize(stock), stock.actuatorControlRanges.count)
            let got = (n, ranges.count)
            guard got == want else {
                throw EnvironmentError.invalidOption("the model \(custom) gives \(got.0) observations and \(got.1) actions; "
                    + "\(id.name) has \(want.0) and \(want.1): --xml must be a variant of \(id.name)'s model")
            }
        }
        self.observationSpace = BoxSpace(unboundedDimension: n)
        self.initQpos = Array(simulation.qpos)
        self.initQvel = Array(simulation.qvel)
        self.generator = Generator(seed: seed)
        self.lastObservation = Array(repeating: 0, count: n)
    }

    // MARK: reset


    /// Resets into caller storage: mj_resetData, initial state plus seeded noise, mj_forward.
    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) throws -> ResetInfo {
        if let seed { generator = Generator(seed: seed) }
        simulation.reset()
        task.applyResetNoise(simulation, initQpos: initQpos, initQvel: initQvel, noise: &generator)
        try simulation.forward()
        return finishReset(observation)
    }

    /// Starts an episode from a given state (checked against nq/nv), recomputing derived quantities, as
    /// Gymnasium's `set_state` after `mj_resetData`. Used to replay recorded trajectories.
    public func reset(qpos: [Double], qvel: [Double]) throws -> (observation: [Double], info: ResetInfo) {
        simulation.reset()
        try simulation.setState(qpos: qpos, qvel: qvel)
        var obs = [Double](repeating: 0, count: observationSpace.dimension)
        let info = obs.withUnsafeMutableBufferPointer { finishReset($0) }
        return (obs, info)
    }

    private func finishReset(_ observation: UnsafeMutableBufferPointer<Double>) -> ResetInfo {
        elapsedSteps = 0
        task.writeObservation(simulation, into: observation)
        _ = lastObservation.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: observation) }
        var info = StepInfo()
        task.fillPositions(simulation, initQpos: initQpos, into: &info)
        return ResetInfo(xPosition: info.xPosition, yPosition: info.yPosition)
    }

    // MARK: step


    /// One environment step without allocation. Throws, stepping nothing, if the action has the wrong size or a
    /// non-finite component. Values outside the action bounds go to MuJoCo, which clamps ctrl, while the
    /// control cost uses the action as given (as Gymnasium does).
    public func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws -> StepOutcome {
        let nu = actionSpace.dimension
        guard action.count == nu else { throw EnvironmentError.wrongActionSize(expected: nu, actual: action.count) }
        for i in 0..<nu where !action[i].isFinite { throw EnvironmentError.nonFiniteAction(index: i, value: action[i]) }

        let before = task.progressPoint(simulation)
        let instabilityBefore = simulation.instabilityCount
        _ = simulation.ctrl.update(fromContentsOf: action)
        var engineError: String? = nil
        do { try simulation.step(count: options.frameSkip, rnePostConstraint: true) } catch {
            engineError = "\(error)"
        }
        elapsedSteps += 1
        let timeUp = elapsedSteps >= options.maxEpisodeSteps

        if engineError == nil && simulation.instabilityCount == instabilityBefore {
            let after = task.progressPoint(simulation)
            var info = StepInfo()
            info.xVelocity = (after.x - before.x) / dt
            if task.hasPlanarMotion { info.yVelocity = (after.y - before.y) / dt }
            task.writeObservation(simulation, into: observation)
            let healthy = task.isHealthy(simulation, observation: UnsafeBufferPointer(observation))
            let reward = task.reward(simulation, action: action, xVelocity: info.xVelocity, healthy: healthy,
                                     terms: &info.rewardTerms)
            task.fillPositions(simulation, initQpos: initQpos, into: &info)
            if reward.isFinite && observation.allSatisfy(\.isFinite) {
                _ = lastObservation.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: observation) }
                let terminated = !healthy && options.terminateWhenUnhealthy
                return StepOutcome(reward: reward, terminated: terminated, truncated: timeUp, info: info)
            }
        }
        // Diverged: MuJoCo flagged bad numbers (and reset its state), raised an error, or something turned
        // non-finite. End the episode as truncated; no NaN reaches the caller.
        if engineError != nil { simulation.reset() }
        _ = observation.update(fromContentsOf: lastObservation)
        var info = StepInfo()
        info.diverged = true
        info.warning = engineError ?? Self.divergenceMessage
        return StepOutcome(reward: 0, terminated: false, truncated: true, info: info)
    }

    var lastFiniteObservation: [Double] { lastObservation }

    func restoreCounters(elapsedSteps: Int, generator: Generator, lastObservation: [Double]) {
        self.elapsedSteps = elapsedSteps
        self.generator = generator
        self.lastObservation = lastObservation
    }

    /// The current observation, recomputed from the simulation (as the last step or reset left it).
    public func currentObservation() -> [Double] {
        var obs = [Double](repeating: 0, count: observationSpace.dimension)
        obs.withUnsafeMutableBufferPointer { task.writeObservation(simulation, into: $0) }
        return obs
    }

    private static var divergenceMessage: String {
        let w = Simulation.lastWarning
        return w.isEmpty ? "the simulation diverged (non-finite state)" : w
    }
}
