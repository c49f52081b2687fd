import Foundation

/// The one JSON spelling of Sparrow's own files (`config.json`, `run.json`, `sweep.json`, `dense-path.json`,
/// `noise_robustness.json`, the dense-path cache): pretty-printed, keys sorted so two files diff line by line, and
/// a final newline.
public enum PrettyJSON {
    public static func string<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self) + "\n"
    }

    /// `string(value)` written atomically (`AtomicFile`).
    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        try AtomicFile.write(try string(value), to: path)
    }
}
