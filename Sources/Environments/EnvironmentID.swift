/// The environments Sparrow provides, with Gymnasium's v5 names.
public enum EnvironmentID: String, CaseIterable, Codable, Sendable {
    case hopper, walker2d, halfCheetah, ant, humanoid, invertedPendulum

    /// Gymnasium's id, e.g. "Hopper-v5".
    public var name: String {
        switch self {
        case .hopper: return "Hopper-v5"
        case .walker2d: return "Walker2d-v5"
        case .halfCheetah: return "HalfCheetah-v5"
        case .ant: return "Ant-v5"
        case .humanoid: return "Humanoid-v5"
        case .invertedPendulum: return "InvertedPendulum-v5"
        }
    }

    /// Looks a robot up by name, as `TaskID(name:)` does ("Hopper-v5", "hopper", "half_cheetah", …); a
    /// classic-control name is an error naming the robots.
    public init(name: String) throws {
        guard case .locomotion(let id) = try TaskID(name: name) else {
            throw EnvironmentError.notARobot(name)
        }
        self = id
    }

    /// Our MJCF file for this robot, in models-xml/.
    public var modelFileName: String {
        switch self {
        case .hopper: return "hopper.xml"
        case .walker2d: return "walker2d.xml"
        case .halfCheetah: return "half_cheetah.xml"
        case .ant: return "ant.xml"
        case .humanoid: return "humanoid.xml"
        case .invertedPendulum: return "inverted_pendulum.xml"
        }
    }

    /// Gymnasium's v5 defaults for this task.
    public var defaultOptions: LocomotionOptions { LocomotionOptions.v5Defaults(for: self) }
}
