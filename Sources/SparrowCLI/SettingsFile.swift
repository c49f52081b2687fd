import Foundation
import SparrowCore
import Yams

/// Reading a config file or a sweep spec (YAML, or JSON — which YAML reads too) with the checks that keep bad input
/// cheap and visible: a size bound before reading, a bound on values after YAML's aliases are expanded (a 1 KB
/// "alias bomb" would otherwise fill the memory), and duplicate keys refused by name (YAML and JSON parsers keep
/// one of them silently).
enum SettingsFile {
    /// Settings files are small; anything larger is a mistake (or an attack), refused before it is read.
    static let maximumBytes = 1 << 20
    /// Values after alias expansion: far above any real config or sweep (a 5 × 4 × 3 grid is ~50).
    static let maximumValues = 100_000

    /// The document's top-level value. `what` names the file in messages ("config file", "sweep spec"). With
    /// `jsonValues`, a file named *.json takes its values from Foundation's JSON reader (a run's own config.json:
    /// numbers as JSON spells them, e.g. 3e-05, which YAML 1.1 would read as text); the checks apply all the same.
    static func load(_ path: String, what: String, jsonValues: Bool = false) throws -> Any? {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size else { throw CLIError("cannot read \(what) \(path)") }
        guard size <= maximumBytes else {
            throw CLIError("\(what) \(path) is \(size) bytes; settings files are at most \(maximumBytes) bytes")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError("cannot read \(what) \(path) (not UTF-8 text)")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw CLIError("\(what) \(path) is not valid YAML or JSON: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let node else { return nil }
        var budget = maximumValues
        try check(node, path: "", budget: &budget, file: path, what: what)
        if jsonValues && path.lowercased().hasSuffix(".json") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else {
                throw CLIError("\(what) \(path) is not valid JSON")
            }
            return object
        }
        do { return try Yams.load(yaml: text) } catch {
            throw CLIError("\(what) \(path) is not valid YAML or JSON: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
    }

    /// Walks the composed document (aliases appear expanded, as copies sharing storage): counts values against the
    /// budget and refuses a mapping that repeats a key.
    static func check(_ node: Node, path: String, budget: inout Int, file: String, what: String) throws {
        budget -= 1
        guard budget >= 0 else {
            throw CLIError("\(what) \(file) expands to more than \(maximumValues) values (YAML aliases?); settings files are small")
        }
        switch node {
        case .scalar: break
        case .sequence(let s):
            for (i, child) in s.enumerated() { try check(child, path: "\(path)[\(i)]", budget: &budget, file: file, what: what) }
        case .mapping(let m):
            var seen = Set<String>()
            for (key, value) in m {
                let name = key.string ?? "\(key)"
                let full = path.isEmpty ? name : "\(path).\(name)"
                guard seen.insert(name).inserted else {
                    throw CLIError("\(what) \(file) repeats the key '\(NearMiss.shown(full))'; give each key once")
                }
                try check(value, path: full, budget: &budget, file: file, what: what)
            }
        }
    }
}
