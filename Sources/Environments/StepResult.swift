/// The reward of one step, split into Gymnasium's terms (signed as they enter the reward: costs are ≤ 0).
/// A term the task does not have is nil, so printing shows exactly Gymnasium's `reward_*` info keys.
public struct RewardTerms: Equatable, Sendable {
    public var forward: Double?
    public var ctrl: Double?
    public var contact: Double?
    public var survive: Double?

    public init(forward: Double? = nil, ctrl: Double? = nil, contact: Double? = nil, survive: Double? = nil) {
        self.forward = forward; self.ctrl = ctrl; self.contact = contact; self.survive = survive
    }

    /// (Gymnasium info key, value) for the terms this task has, in a fixed order.
    public var named: [(key: String, value: Double)] {
        [("reward_forward", forward), ("reward_ctrl", ctrl), ("reward_contact", contact), ("reward_survive", survive)]
            .compactMap { k, v in v.map { (k, $0) } }
    }
}

/// Typed step information (Gymnasium's `info` dict, as a value).
public struct StepInfo: Equatable, Sendable {
    public var rewardTerms = RewardTerms()
    /// Position and velocity of the robot's reference point; y only for robots that move in the plane.
    public var xPosition: Double = 0
    public var yPosition: Double? = nil
    public var xVelocity: Double = 0
    public var yVelocity: Double? = nil
    /// Hopper/Walker2d: torso height relative to the initial one.
    public var zDistanceFromOrigin: Double? = nil
    /// Ant/Humanoid: ‖(x, y)‖ of the root.
    public var distanceFromOrigin: Double? = nil
    /// The physics diverged (MuJoCo flagged NaN/huge values or the state turned non-finite). The step then
    /// ends the episode as truncated, reports reward 0 and repeats the last finite observation.
    public var diverged = false
    /// MuJoCo's warning text when `diverged`.
    public var warning: String? = nil

    public init() {}
}

/// The outcome of `step`, without the observation (which the caller provides storage for on the fast path).
public struct StepOutcome: Equatable, Sendable {
    public var reward: Double
    /// The MDP ended (the robot fell): do not bootstrap.
    public var terminated: Bool
    /// The episode was cut (time limit or diverged physics): bootstrap from the next observation.
    public var truncated: Bool
    public var info: StepInfo
}

/// Gymnasium's `(observation, reward, terminated, truncated, info)`.
public struct StepResult: Equatable, Sendable {
    public var observation: [Double]
    public var reward: Double
    public var terminated: Bool
    public var truncated: Bool
    public var info: StepInfo
}

/// Information returned by `reset`.
public struct ResetInfo: Equatable, Sendable {
    public var xPosition: Double
    public var yPosition: Double?
}
