import Foundation
import SparrowCore

/// Gymnasium's CartPole-v1 (`gymnasium/envs/classic_control/cartpole.py`, Gymnasium 1.4): a pole on a cart pushed
/// left (action 0) or right (action 1) with 10 N; Euler integration with tau = 0.02 s.
///
/// - State `[x, x_dot, theta, theta_dot]` in float64, as Gymnasium keeps it; the observation is the state rounded
///   to float32 (`np.array(self.state, dtype=np.float32)`), stored as Doubles.
/// - Reward 1 per step, including the terminating one (`sutton_barto_reward=False`). Stepping on after termination
///   gives reward 0 (Gymnasium counts `steps_beyond_terminated` and warns); `terminated` is recomputed from the
///   state every step.
/// - Terminated when |x| > 2.4 or |theta| > 12° (24π/360 rad); truncated from step 500 on (`TimeLimit`).
/// - Reset: each state component uniform in [−0.05, 0.05).
/// - CartPole-v0 (`id` `.cartPoleV0`) is the same class with a 200-step limit (Gymnasium registers v0 with
///   `max_episode_steps=200`, v1 with 500): the version rigl/rl's classic-control DQN runs.
public final class CartPole: ClassicControlEnvironment {
    public let id: ClassicControlID
    public let actions = ActionSpace.discrete(2)
    /// Gymnasium's `tau`.
    public let dt = CartPole.tau
    public let maxEpisodeSteps: Int
    public let stateNames = ["x", "x_dot", "theta", "theta_dot"]
    /// Bounds as Gymnasium's float32 Box: ±(4.8, inf, 24° in radians, inf).
    public let observationSpace: BoxSpace

    public var generator: Generator
    public private(set) var elapsedSteps = 0
    /// Gymnasium's `steps_beyond_terminated`: nil until a step terminates, then the steps taken after it.
    public private(set) var stepsBeyondTerminated: Int? = nil

    private var x = 0.0, xDot = 0.0, theta = 0.0, thetaDot = 0.0

    // Gymnasium's constants, combined as its __init__ combines them.
    static let gravity = 9.8, massCart = 1.0, massPole = 0.1
    static let totalMass = massPole + massCart
    static let length = 0.5  // half the pole's length
    static let poleMassLength = massPole * length
    static let forceMag = 10.0
    static let tau = 0.02
    static let thetaThresholdRadians = 12 * 2 * Double.pi / 360
    static let xThreshold = 2.4

    public init(seed: UInt64 = 0, id: ClassicControlID = .cartPole) {
        precondition(id == .cartPole || id == .cartPoleV0, "CartPole is \(ClassicControlID.cartPole.name) or \(ClassicControlID.cartPoleV0.name)")
        self.id = id
        maxEpisodeSteps = id == .cartPoleV0 ? 200 : 500
        generator = Generator(seed: seed)
        let high = [Self.xThreshold * 2, .infinity, Self.thetaThresholdRadians * 2, .infinity].map { Double(Float($0)) }
        observationSpace = BoxSpace(low: high.map { -$0 }, high: high)
    }

    public var state: [Double] { [x, xDot, theta, thetaDot] }

    // MARK: reset

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) throws -> ResetInfo {
        if let seed { generator = Generator(seed: seed) }
        x = generator.uniform(-0.05, 0.05)
        xDot = generator.uniform(-0.05, 0.05)
        theta = generator.uniform(-0.05, 0.05)
        thetaDot = generator.uniform(-0.05, 0.05)
        return startEpisode(observation)
    }

    @discardableResult
    public func reset(state: [Double]) throws -> (observation: [Double], info: ResetInfo) {
        try validate(state: state)
        (x, xDot, theta, thetaDot) = (state[0], state[1], state[2], state[3])
        var obs = [Double](repeating: 0, count: 4)
        let info = obs.withUnsafeMutableBufferPointer { startEpisode($0) }
        return (obs, info)
    }

    private func startEpisode(_ observation: UnsafeMutableBufferPointer<Double>) -> ResetInfo {
        elapsedSteps = 0
        stepsBeyondTerminated = nil
        writeObservation(observation)
        return classicResetInfo
    }

    // MARK: step

    public func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws -> StepOutcome {
        let a = try discreteAction(action, choices: 2)
        let force = a == 1 ? Self.forceMag : -Self.forceMag
        let costheta = cos(theta)
        let sintheta = sin(theta)
        let temp = (force + Self.poleMassLength * (thetaDot * thetaDot) * sintheta) / Self.totalMass
        let thetaacc = (Self.gravity * sintheta - costheta * temp)
            / (Self.length * (4.0 / 3.0 - Self.massPole * (costheta * costheta) / Self.totalMass))
        let xacc = temp - Self.poleMassLength * thetaacc * costheta / Self.totalMass
        // kinematics_integrator == "euler"
        x = x + Self.tau * xDot
        xDot = xDot + Self.tau * xacc
        theta = theta + Self.tau * thetaDot
        thetaDot = thetaDot + Self.tau * thetaacc

        let terminated = x < -Self.xThreshold || x > Self.xThreshold
            || theta < -Self.thetaThresholdRadians || theta > Self.thetaThresholdRadians
        let reward: Double
        if !terminated {
            reward = 1
        } else if let beyond = stepsBeyondTerminated {
            stepsBeyondTerminated = beyond + 1  // Gymnasium warns here: steps after termination are undefined
            reward = 0
        } else {
            stepsBeyondTerminated = 0
            reward = 1
        }
        elapsedSteps += 1
        writeObservation(observation)
        return StepOutcome(reward: reward, terminated: terminated, truncated: elapsedSteps >= maxEpisodeSteps,
                           info: StepInfo())
    }

    private func writeObservation(_ o: UnsafeMutableBufferPointer<Double>) {
        precondition(o.count >= 4, "CartPole writes 4 observation values")
        o[0] = Double(Float(x)); o[1] = Double(Float(xDot)); o[2] = Double(Float(theta)); o[3] = Double(Float(thetaDot))
    }

    // MARK: checkpoint

    public func encodeState(into w: inout ByteWriter) {
        ClassicCheckpoint(state: state, elapsedSteps: elapsedSteps, generator: generator).write(name: name, into: &w)
        w.write(stepsBeyondTerminated ?? -1)
    }

    public func decodeState(from r: inout ByteReader) throws {
        let c = try ClassicCheckpoint.read(from: &r, name: name, stateCount: 4)
        let beyond = try r.read(Int.self)
        guard beyond >= -1 else { throw FormatError.corrupt("\(name) steps beyond termination") }
        (x, xDot, theta, thetaDot) = (c.state[0], c.state[1], c.state[2], c.state[3])
        elapsedSteps = c.elapsedSteps
        generator = c.generator
        stepsBeyondTerminated = beyond < 0 ? nil : beyond
    }
}
