import SparrowCore
import Agents
import Training

/// The setting flags of `sparrow train`, read from `TrainConfig.knobs`: `--key VALUE` or `--key=VALUE` for
/// values, `--key` / `--no-key` for on/off knobs. `env` and `preset` have their own options (`TrainOptions`).
enum KnobArguments {
    /// Keys that are settings but not given as setting flags.
    static let ownOptions: Set = ["env", "preset"]

    static var flagKnobs: [Knob<TrainConfig>] { TrainConfig.knobs.filter { !ownOptions.contains($0.key) } }

    /// Parses the flags into config keys and values (what a config file would hold). Later flags win.
    static func parse(_ arguments: [String]) throws -> [String: Any] {
        var values: [String: Any] = [:]
        var i = 0
        while i < arguments.count {
            let token = arguments[i]
            i += 1
            guard token.hasPrefix("--"), token.count > 2 else {
                throw CLIError("unexpected argument '\(token)'; settings are given as --key value (see sparrow train --help)")
            }
            var name = String(token.dropFirst(2)), inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if let knob = knob(name), knob.isSwitch {
                values[name] = try inline.map { try knob.parse($0) } ?? true
            } else if name.hasPrefix("no-"), inline == nil, let knob = knob(String(name.dropFirst(3))), knob.isSwitch {
                values[knob.key] = false
            } else if let knob = knob(name) {
                let text: String
                if let inline { text = inline } else {
                    guard i < arguments.count else { throw CLIError("--\(name) needs a value: \(knob.expects)") }
                    text = arguments[i]
                    i += 1
                }
                do { values[name] = try knob.parse(text) } catch { throw CLIError(error) }
            } else {
                throw CLIError("unknown option '--\(name)'\(suggestion(for: name)) (sparrow train --help lists the settings)")
            }
        }
        return values
    }

    static func knob(_ name: String) -> Knob<TrainConfig>? {
        ownOptions.contains(name) ? nil : TrainConfig.knob(name)
    }

    /// "; did you mean --batch-size?" for a near miss (edit distance ≤ 2), else "".
    static func suggestion(for name: String) -> String {
        let names = flagKnobs.map(\.key) + ["env", "preset", "config", "lr", "run-dir", "resume", "threads", "progress"]
        let best = names.map { ($0, editDistance($0, name)) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= 2 else { return "" }
        return "; did you mean --\(best.0)?"
    }

    static func editDistance(_ a: String, _ b: String) -> Int { NearMiss.editDistance(a, b) }

    /// The settings section of `sparrow train --help`: every setting flag by section, with its values and the value
    /// in the default preset (tows-sac on Hopper-v5).
    static var help: String {
        let defaults = try? Presets.config(named: "tows-sac", env: "Hopper-v5")
        var lines = ["SETTINGS (flag = config-file key; default = the tows-sac preset on Hopper-v5, --preset changes it):"]
        for section in TrainConfig.sections {
            let knobs = section.knobs.filter { !ownOptions.contains($0.key) }
            guard !knobs.isEmpty else { continue }
            lines.append("")
            lines.append("  \(section.title)")
            for knob in knobs {
                let flag = "    " + (knob.isSwitch ? "--[no-]\(knob.key)" : "--\(knob.key) \(knob.valueHelp)")
                let value = defaults.flatMap { knob.value(in: $0) }.map { " (default: \($0))" } ?? ""
                lines += columns(flag, knob.help + value)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `flag` in the first column, `text` wrapped in the second; every line under 80 characters, so
    /// ArgumentParser prints them as they are.
    static func columns(_ flag: String, _ text: String, column: Int = 34, width: Int = 79) -> [String] {
        var wrapped: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width - column { wrapped.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { wrapped.append(line) }
        let pad = String(repeating: " ", count: column)
        var out: [String] = []
        if flag.count < column - 1, let first = wrapped.first {
            out.append(flag + String(repeating: " ", count: column - flag.count) + first)
            wrapped.removeFirst()
        } else {
            out.append(flag)
        }
        return out + wrapped.map { pad + $0 }
    }
}
