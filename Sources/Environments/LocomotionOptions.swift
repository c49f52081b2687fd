/// An open interval (a, b) or closed interval [a, b] used by the health checks; which one is Gymnasium's
/// choice per task (Hopper, Walker2d, Humanoid strict; Ant inclusive).
public struct Bounds: Equatable, Codable, Sendable {
    public var low: Double
    public var high: Double
    public init(_ low: Double, _ high: Double) { self.low = low; self.high = high }

    @inline(__always) func containsStrictly(_ x: Double) -> Bool { low < x && x < high }
    @inline(__always) func containsInclusive(_ x: Double) -> Bool { low <= x && x <= high }
}

/// Gymnasium v5's constructor options, typed. Fields that a task does not use are ignored by it.
/// `LocomotionOptions.v5Defaults(for:)` gives Gymnasium's defaults; change any field to get v5's variants.
public struct LocomotionOptions: Equatable, Codable, Sendable {
    /// A different MJCF file for the same robot (Gymnasium's `xml_file`); nil = ours in models-xml/.
    public var xmlFile: String? = nil
    public var frameSkip: Int
    public var forwardRewardWeight: Double = 1
    public var ctrlCostWeight: Double = 0
    public var contactCostWeight: Double = 0
    public var healthyReward: Double = 1
    public var terminateWhenUnhealthy = true
    /// Hopper: every entry of state_vector()[2:] must lie strictly inside.
    public var healthyStateRange: Bounds? = nil
    public var healthyZRange: Bounds? = nil
    public var healthyAngleRange: Bounds? = nil
    /// Ant: cfrc_ext is clipped to this range in the observation and the contact cost.
    public var contactForceRange = Bounds(-1, 1)
    /// Humanoid: the contact cost is clipped to at most this.
    public var contactCostMax = Double.infinity
    public var resetNoiseScale: Double
    public var excludeCurrentPositionsFromObservation = true
    /// Ant/Humanoid observation parts.
    public var includeCfrcExtInObservation = true
    public var includeCinertInObservation = true
    public var includeCvelInObservation = true
    public var includeQfrcActuatorInObservation = true
    /// Ant: the body whose xy motion is "forward" progress (Gymnasium's main_body = 1, the torso).
    public var mainBody = "torso"
    /// Episode length before `truncated` (Gymnasium registers every v5 task with max_episode_steps=1000).
    public var maxEpisodeSteps = 1000

    public init(frameSkip: Int, resetNoiseScale: Double) {
        self.frameSkip = frameSkip
        self.resetNoiseScale = resetNoiseScale
    }

    /// Gymnasium 1.x v5 defaults (gymnasium/envs/mujoco/*_v5.py constructor arguments).
    public static func v5Defaults(for id: EnvironmentID) -> LocomotionOptions {
        switch id {
        case .hopper:
            var o = LocomotionOptions(frameSkip: 4, resetNoiseScale: 5e-3)
            o.ctrlCostWeight = 1e-3
            o.healthyStateRange = Bounds(-100, 100)
            o.healthyZRange = Bounds(0.7, .infinity)
            o.healthyAngleRange = Bounds(-0.2, 0.2)
            return o
        case .walker2d:
            var o = LocomotionOptions(frameSkip: 4, resetNoiseScale: 5e-3)
            o.ctrlCostWeight = 1e-3
            o.healthyZRange = Bounds(0.8, 2.0)
            o.healthyAngleRange = Bounds(-1, 1)
            return o
        case .halfCheetah:
            var o = LocomotionOptions(frameSkip: 5, resetNoiseScale: 0.1)
            o.ctrlCostWeight = 0.1
            o.healthyReward = 0
            o.terminateWhenUnhealthy = false
            return o
        case .ant:
            var o = LocomotionOptions(frameSkip: 5, resetNoiseScale: 0.1)
            o.ctrlCostWeight = 0.5
            o.contactCostWeight = 5e-4
            o.healthyZRange = Bounds(0.2, 1.0)
            return o
        case .humanoid:
            var o = LocomotionOptions(frameSkip: 5, resetNoiseScale: 1e-2)
            o.forwardRewardWeight = 1.25
            o.ctrlCostWeight = 0.1
            o.contactCostWeight = 5e-7
            o.contactCostMax = 10
            o.healthyReward = 5
            o.healthyZRange = Bounds(1.0, 2.0)
            return o
        case .invertedPendulum:
            var o = LocomotionOptions(frameSkip: 2, resetNoiseScale: 0.01)
            o.forwardRewardWeight = 0
            o.excludeCurrentPositionsFromObservation = false
            return o
        }
    }

    func validate() throws {
        guard frameSkip >= 1 else { throw EnvironmentError.invalidOption("frame_skip must be ≥ 1, got \(frameSkip)") }
        guard maxEpisodeSteps >= 1 else {
            throw EnvironmentError.invalidOption("max_episode_steps must be ≥ 1, got \(maxEpisodeSteps)")
        }
        guard resetNoiseScale >= 0, resetNoiseScale.isFinite else {
            throw EnvironmentError.invalidOption("reset_noise_scale must be finite and ≥ 0, got \(resetNoiseScale)")
        }
    }
}
