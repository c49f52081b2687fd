import Foundation
import SparrowCore

/// Gymnasium's MountainCar-v0 (`gymnasium/envs/classic_control/mountain_car.py`, Gymnasium 1.4): a car in a valley
/// accelerates left, not at all, or right (actions 0, 1, 2) and must build momentum to reach the flag at x = 0.5.
///
/// - State `[position, velocity]` in float64; the observation is the state rounded to float32, stored as Doubles.
/// - Update, in Gymnasium's order: velocity += (action − 1)·0.001 − 0.0025·cos(3·position), clipped to ±0.07;
///   position += velocity, clipped to [−1.2, 0.6]; at the left wall a negative velocity becomes 0.
/// - Reward −1 every step (the terminating one too); terminated when position ≥ 0.5 and velocity ≥ 0
///   (`goal_velocity`); truncated from step 200 on (`TimeLimit`). Stepping continues after termination.
/// - Reset: position uniform in [−0.6, −0.4), velocity 0.
/// - `dt`: Gymnasium's update has no physical time (it is an Euler step of unit length: position += velocity);
///   `dt` is 1/30 s, Gymnasium's `render_fps`, so real-time playback runs as Gymnasium's human rendering does.
public final class MountainCar: ClassicControlEnvironment {
    public let id = ClassicControlID.mountainCar
    public let actions = ActionSpace.discrete(3)
    public let dt = 1.0 / 30
    public let maxEpisodeSteps = 200
    public let stateNames = ["position", "velocity"]
    /// Bounds as Gymnasium's float32 Box: [−1.2, 0.6] × [−0.07, 0.07].
    public let observationSpace: BoxSpace

    public var generator: Generator
    public private(set) var elapsedSteps = 0

    private var position = -0.5, velocity = 0.0

    static let minPosition = -1.2, maxPosition = 0.6, maxSpeed = 0.07
    static let goalPosition = 0.5, goalVelocity = 0.0
    static let force = 0.001, gravity = 0.0025

    public init(seed: UInt64 = 0) {
        generator = Generator(seed: seed)
        observationSpace = BoxSpace(low: [Double(Float(Self.minPosition)), Double(Float(-Self.maxSpeed))],
                                    high: [Double(Float(Self.maxPosition)), Double(Float(Self.maxSpeed))])
    }

    public var state: [Double] { [position, velocity] }

    // MARK: reset

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) throws -> ResetInfo {
        if let seed { generator = Generator(seed: seed) }
        position = generator.uniform(-0.6, -0.4)
        velocity = 0
        return startEpisode(observation)
    }

    @discardableResult
    public func reset(state: [Double]) throws -> (observation: [Double], info: ResetInfo) {
        try validate(state: state)
        (position, velocity) = (state[0], state[1])
        var obs = [Double](repeating: 0, count: 2)
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
        velocity += Double(a - 1) * Self.force + cos(3 * position) * (-Self.gravity)
        velocity = clip(velocity, -Self.maxSpeed, Self.maxSpeed)
        position += velocity
        position = clip(position, Self.minPosition, Self.maxPosition)
        if position == Self.minPosition && velocity < 0 { velocity = 0 }
        let terminated = position >= Self.goalPosition && velocity >= Self.goalVelocity
        elapsedSteps += 1
        writeObservation(observation)
        return StepOutcome(reward: -1.0, terminated: terminated, truncated: elapsedSteps >= maxEpisodeSteps,
                           info: StepInfo())
    }

    /// NumPy's `np.clip` of a scalar: `minimum(maximum(x, low), high)`.
    private func clip(_ x: Double, _ low: Double, _ high: Double) -> Double { Swift.min(Swift.max(x, low), high) }

    private func writeObservation(_ o: UnsafeMutableBufferPointer<Double>) {
        precondition(o.count >= 2, "MountainCar writes 2 observation values")
        o[0] = Double(Float(position)); o[1] = Double(Float(velocity))
    }

    // MARK: checkpoint

    public func encodeState(into w: inout ByteWriter) {
        ClassicCheckpoint(state: state, elapsedSteps: elapsedSteps, generator: generator).write(name: name, into: &w)
    }

    public func decodeState(from r: inout ByteReader) throws {
        let c = try ClassicCheckpoint.read(from: &r, name: name, stateCount: 2)
        (position, velocity) = (c.state[0], c.state[1])
        elapsedSteps = c.elapsedSteps
        generator = c.generator
    }
}
