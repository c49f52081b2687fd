/// Errors from the MuJoCo layer. Each prints as one line that says what went wrong and where.
public enum MuJoCoError: Error, CustomStringConvertible, Equatable {
    /// The model file could not be read or compiled; `message` is MuJoCo's own text.
    case loadFailed(path: String, message: String)
    /// mj_makeData (or another allocation) failed.
    case allocationFailed(String)
    /// MuJoCo raised a fatal error inside a call; the data must be reset before further use.
    case engineError(String)
    /// A state vector had the wrong length.
    case stateSizeMismatch(field: String, expected: Int, actual: Int)
    /// A name lookup failed.
    case unknownName(kind: String, name: String)

    public var description: String {
        switch self {
        case let .loadFailed(path, message):
            return "cannot load MuJoCo model \(path): \(message.oneLine())"
        case let .allocationFailed(message):
            return "MuJoCo could not allocate its data: \(message)"
        case let .engineError(message):
            return "MuJoCo error: \(message.oneLine())"
        case let .stateSizeMismatch(field, expected, actual):
            return "\(field) has \(actual) values, the model needs \(expected)"
        case let .unknownName(kind, name):
            return "the model has no \(kind) named '\(name)'"
        }
    }
}

extension String {
    /// MuJoCo's messages span lines ("XML Error: …\nElement 'body', line 3"); errors print as one line.
    func oneLine() -> String {
        split(whereSeparator: \.isNewline).map { $0.trimmingCharacters() }.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
