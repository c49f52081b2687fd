import Foundation
import SparrowCore

/// Gymnasium's Acrobot-v1 (`gymnasium/envs/classic_control/acrobot.py`, Gymnasium 1.4): two links hanging from a
/// pivot, torque −1, 0 or +1 on the joint between them (actions 0, 1, 2); swing the tip above the bar.
///
/// - Dynamics of `book_or_nips = "book"`, no torque noise, integrated over one step of dt = 0.2 s with Gymnasium's
///   own `rk4` (one Runge–Kutta step, the same arithmetic order); then angles are wrapped to [−π, π] and the
///   velocities bounded to ±4π and ±9π.
/// - State `[theta1, theta2, dtheta1, dtheta2]`. Reset draws each uniform in [−0.1, 0.1) and rounds it to float32
///   (Gymnasium's `.astype(np.float32)`); after a step the state is float64.
/// - Observation `[cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2]` rounded to float32, stored as Doubles.
/// - Reward −1 per step, 0 on a terminating step; terminated when −cos θ1 − cos(θ2 + θ1) > 1; truncated from step
///   500 on (`TimeLimit`). Stepping continues after termination as in Gymnasium (nothing is counted).
public final class Acrobot: ClassicControlEnvironment {
    public let id = ClassicControlID.acrobot
    public let actions = ActionSpace.discrete(3)
    public let dt = Acrobot.timeStep
    public let maxEpisodeSteps = 500
    public let stateNames = ["theta1", "theta2", "dtheta1", "dtheta2"]
    /// Bounds as Gymnasium's float32 Box: ±(1, 1, 1, 1, 4π, 9π).
    public let observationSpace: BoxSpace

    public var generator: Generator
    public private(set) var elapsedSteps = 0

    private var s = Joints(theta1: 0, theta2: 0, dtheta1: 0, dtheta2: 0)
    /// NumPy's `x**2` on a float64 scalar calls libm's `pow`, which differs from x·x in the last bit for about one
    /// value in 1400. The exponent sits in a variable so the compiler cannot rewrite pow(x, 2) as x·x.
    private var two = 2.0

    static let timeStep = 0.2
    static let linkLength1 = 1.0, linkMass1 = 1.0, linkMass2 = 1.0
    static let linkCOMPos1 = 0.5, linkCOMPos2 = 0.5, linkMOI = 1.0
    static let maxVel1 = 4 * Double.pi, maxVel2 = 9 * Double.pi
    static let availTorque: (Double, Double, Double) = (-1.0, 0.0, 1.0)

    public init(seed: UInt64 = 0) {
        generator = Generator(seed: seed)
        let high = [1, 1, 1, 1, Self.maxVel1, Self.maxVel2].map { Double(Float($0)) }
        observationSpace = BoxSpace(low: high.map { -$0 }, high: high)
    }

    public var state: [Double] { [s.theta1, s.theta2, s.dtheta1, s.dtheta2] }

    // MARK: reset

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) throws -> ResetInfo {
        if let seed { generator = Generator(seed: seed) }
        func draw() -> Double { Double(Float(generator.uniform(-0.1, 0.1))) }
        s.theta1 = draw(); s.theta2 = draw(); s.dtheta1 = draw(); s.dtheta2 = draw()
        return startEpisode(observation)
    }

    @discardableResult
    public func reset(state: [Double]) throws -> (observation: [Double], info: ResetInfo) {
        try validate(state: state)
        s = Joints(theta1: state[0], theta2: state[1], dtheta1: state[2], dtheta2: state[3])
        var obs = [Double](repeating: 0, count: 6)
        let info = obs.withUnsafeMutableBufferPointer { startEpisode($0) }
        return (obs, info)
    }

    private func startEpisode(_ observation: UnsafeMutableBufferPointer<Double>) -> ResetInfo {
        elapsedSteps = 0
        writeObservation(observation)
        return classicResetInfo
    }

    // MARK: step

    public func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws -> StepOutcome {
        let a = try discreteAction(action, choices: 3)
        let torque = a == 0 ? Self.availTorque.0 : a == 1 ? Self.availTorque.1 : Self.availTorque.2
        let ns = rk4(s, torque: torque)
        s.theta1 = wrap(ns.theta1, -Double.pi, Double.pi)
        s.theta2 = wrap(ns.theta2, -Double.pi, Double.pi)
        s.dtheta1 = bound(ns.dtheta1, -Self.maxVel1, Self.maxVel1)
        s.dtheta2 = bound(ns.dtheta2, -Self.maxVel2, Self.maxVel2)
        let terminated = -cos(s.theta1) - cos(s.theta2 + s.theta1) > 1.0
        elapsedSteps += 1
        writeObservation(observation)
        return StepOutcome(reward: terminated ? 0.0 : -1.0, terminated: terminated,
                           truncated: elapsedSteps >= maxEpisodeSteps, info: StepInfo())
    }

    private func writeObservation(_ o: UnsafeMutableBufferPointer<Double>) {
        precondition(o.count >= 6, "Acrobot writes 6 observation values")
        o[0] = Double(Float(cos(s.theta1))); o[1] = Double(Float(sin(s.theta1)))
        o[2] = Double(Float(cos(s.theta2))); o[3] = Double(Float(sin(s.theta2)))
        o[4] = Double(Float(s.dtheta1)); o[5] = Double(Float(s.dtheta2))
    }

    // MARK: dynamics (Gymnasium's _dsdt, rk4, wrap, bound)

    /// The joint angles and velocities; `+` and scalar `*` act per component, as NumPy's do on the state array.
    struct Joints {
        var theta1, theta2, dtheta1, dtheta2: Double
        static func + (u: Joints, v: Joints) -> Joints {
            Joints(theta1: u.theta1 + v.theta1, theta2: u.theta2 + v.theta2,
                   dtheta1: u.dtheta1 + v.dtheta1, dtheta2: u.dtheta2 + v.dtheta2)
        }
        static func * (c: Double, v: Joints) -> Joints {
            Joints(theta1: c * v.theta1, theta2: c * v.theta2, dtheta1: c * v.dtheta1, dtheta2: c * v.dtheta2)
        }
    }

    /// Time derivative of the state under torque `a` ("book" dynamics), in Gymnasium's order of operations.
    private func dsdt(_ s: Joints, _ a: Double) -> Joints {
        let m1 = Self.linkMass1, m2 = Self.linkMass2, l1 = Self.linkLength1
        let lc1 = Self.linkCOMPos1, lc2 = Self.linkCOMPos2, i1 = Self.linkMOI, i2 = Self.linkMOI
        let g = 9.8
        let theta1 = s.theta1, theta2 = s.theta2, dtheta1 = s.dtheta1, dtheta2 = s.dtheta2
        let d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos(theta2)) + i1 + i2
        let d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos(theta2)) + i2
        let phi2 = m2 * lc2 * g * cos(theta1 + theta2 - Double.pi / 2.0)
        let phi1a = -m2 * l1 * lc2 * pow(dtheta2, two) * sin(theta2)
        let phi1b = 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
        let phi1c = (m1 * lc1 + m2 * l1) * g * cos(theta1 - Double.pi / 2)
        let phi1 = phi1a - phi1b + phi1c + phi2
        let num = a + d2 / d1 * phi1 - m2 * l1 * lc2 * pow(dtheta1, two) * sin(theta2) - phi2
        let ddtheta2 = num / (m2 * (lc2 * lc2) + i2 - pow(d2, two) / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return Joints(theta1: dtheta1, theta2: dtheta2, dtheta1: ddtheta1, dtheta2: ddtheta2)
    }

    /// Gymnasium's `rk4(derivs, y0, [0, dt])`: one classical Runge–Kutta step. The torque rides along as a fifth
    /// state component with derivative 0, so it stays `torque` exactly in every stage.
    private func rk4(_ y0: Joints, torque: Double) -> Joints {
        let dt = Self.timeStep - 0  // t[1] - t[0] of Gymnasium's [0, dt]
        let dt2 = dt / 2.0
        let k1 = dsdt(y0, torque)
        let k2 = dsdt(y0 + dt2 * k1, torque)
        let k3 = dsdt(y0 + dt2 * k2, torque)
        let k4 = dsdt(y0 + dt * k3, torque)
        return y0 + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    }

    /// Gymnasium's `wrap`: shifts x by whole periods M − m into [m, M] (a non-finite x is returned as is).
    private func wrap(_ x: Double, _ m: Double, _ M: Double) -> Double {
        guard x.isFinite else { return x }
        let diff = M - m
        var x = x
        while x > M { x = x - diff }
        while x < m { x = x + diff }
        return x
    }

    /// Gymnasium's `bound`: Python's `min(max(x, m), M)`.
    private func bound(_ x: Double, _ m: Double, _ M: Double) -> Double {
        let y = m > x ? m : x
        return M < y ? M : y
    }

    // MARK: checkpoint

    public func encodeState(into w: inout ByteWriter) {
        ClassicCheckpoint(state: state, elapsedSteps: elapsedSteps, generator: generator).write(name: name, into: &w)
    }

    public func decodeState(from r: inout ByteReader) throws {
        let c = try ClassicCheckpoint.read(from: &r, name: name, stateCount: 4)
        s = Joints(theta1: c.state[0], theta2: c.state[1], dtheta1: c.state[2], dtheta2: c.state[3])
        elapsedSteps = c.elapsedSteps
        generator = c.generator
    }
}
