import SparrowCore
/// Errors an environment reports. Each prints as one line naming the problem and what was expected.
public enum EnvironmentError: Error, CustomStringConvertible, Equatable {
    case unknownEnvironment(String)
    /// A classic-control task where a MuJoCo robot is needed (e.g. `--xml`, `--init-state qpos/qvel`).
    case notARobot(String)
    case wrongActionSize(expected: Int, actual: Int)
    case nonFiniteAction(index: Int, value: Double)
    /// A discrete action that is not an integer in 0..<choices (non-integer, out of range or non-finite).
    case invalidDiscreteAction(value: Double, choices: Int)
    /// A start state for `reset(state:)` of the wrong length or with non-finite values.
    case invalidState(String)
    case modelFileNotFound(String)
    case invalidOption(String)
    case incompatibleModel(String)
    /// "ALE/<name>" that is no game ALE has; the closest game names.
    case unknownAtariGame(String, closest: [String])
    /// ALE (the shim library or a ROM) is not built; the text says how to build it.
    case atariUnavailable(String)
    /// ALE reported an error (one line).
    case atariFailure(String)

    public var description: String {
        switch self {
        case let .unknownEnvironment(name):
            let names = TaskID.all.map(\.name)
            let near = NearMiss.closest(to: name, among: names) ?? NearMiss.closest(to: name, among: names.map(TaskID.baseName))
                .flatMap { base in names.first { TaskID.baseName($0) == base } }
            return "unknown environment '\(NearMiss.shown(name))'; valid: \(names.joined(separator: ", "))"
                + (near.map { "; did you mean \($0)?" } ?? "")
        case let .notARobot(name):
            return "\(name) is not a MuJoCo robot; valid here: \(EnvironmentID.allCases.map(\.name).joined(separator: ", "))"
        case let .wrongActionSize(expected, actual):
            return "action has \(actual) components, the environment expects \(expected)"
        case let .nonFiniteAction(index, value):
            return "action component \(index) is \(value); actions must be finite (nothing was stepped)"
        case let .invalidDiscreteAction(value, choices):
            let shown = value.isFinite && value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
            return "action \(shown) is not valid for Discrete(\(choices)): expected one of "
                + "\((0..<choices).map(String.init).joined(separator: ", ")) (nothing was stepped)"
        case let .invalidState(detail):
            return "invalid state: \(detail)"
        case let .modelFileNotFound(detail):
            return "model file not found: \(detail)"
        case let .invalidOption(detail):
            return "invalid environment option: \(detail)"
        case let .incompatibleModel(detail):
            return "model does not fit this environment: \(detail)"
        case let .unknownAtariGame(name, closest):
            return "unknown Atari game '\(name)'; did you mean \(closest.joined(separator: ", "))? "
                + "(\(AtariGame.all.count) games, named ALE/<Game>-v5 as in Gymnasium)"
        case let .atariUnavailable(detail), let .atariFailure(detail):
            return detail
        }
    }
}
