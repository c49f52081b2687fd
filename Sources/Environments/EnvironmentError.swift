/// Errors an environment reports. Each prints as one line naming the problem and what was expected.
public enum EnvironmentError: Error, CustomStringConvertible, Equatable {
    case unknownEnvironment(String)
    case wrongActionSize(expected: Int, actual: Int)
    case nonFiniteAction(index: Int, value: Double)
    case modelFileNotFound(String)
    case invalidOption(String)
    case incompatibleModel(String)

    public var description: String {
        switch self {
        case let .unknownEnvironment(name):
            return "unknown environment '\(name)'; valid: \(EnvironmentID.allCases.map(\.name).joined(separator: ", "))"
        case let .wrongActionSize(expected, actual):
            return "action has \(actual) components, the environment expects \(expected)"
        case let .nonFiniteAction(index, value):
            return "action component \(index) is \(value); actions must be finite (nothing was stepped)"
        case let .modelFileNotFound(detail):
            return "model file not found: \(detail)"
        case let .invalidOption(detail):
            return "invalid environment option: \(detail)"
        case let .incompatibleModel(detail):
            return "model does not fit this environment: \(detail)"
        }
    }
}
