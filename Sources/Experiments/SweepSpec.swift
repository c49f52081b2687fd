import Foundation
import Training

/// A sweep: a grid of `sparrow train` settings, where its runs go, and what each run may use on a cluster.
///
/// Spec file (YAML or JSON; the CLI parses it, this type reads the resulting mapping):
///
///     root: runs/hopper-sparsity        # output root (a relative path starts at the working directory)
///     name: hopper-sparsity             # optional, SLURM job name (default: the root's last component)
///     grid:                             # every combination becomes one run; a scalar is a fixed setting
///       env: [Hopper-v5, Walker2d-v5]
///       preset: [tows-sac, dense-sac]
///       sparsity: [0.8, 0.9]
///       seed: [0, 1, 2, 3, 4]
///       steps: 1000000                  # any `sparrow train` flag, by its name
///     set: {eval-episodes: 10}          # optional, fixed settings for every run (same as scalars in grid)
///     resources:                        # SLURM; all optional
///       time: "24:00:00"
///       cpus-per-task: 1
///       mem: 4G
///       partition: gpu
///       account: my-lab
///       signal-before: 300              # seconds before the time limit at which runs checkpoint (default 300)
///       max-parallel: 20                # array throttle (`--array=0-N%20`)
///
/// A grid value that is a list of lists (e.g. `hidden: [[256, 256], [64, 64]]`) sweeps over the inner lists.
public struct SweepSpec: Equatable, Sendable {
    /// One swept or fixed setting: the `sparrow train` flag and its values in the order given.
    public struct Axis: Equatable, Sendable {
        public var key: String
        public var values: [Setting]
    }

    public var name: String
    public var root: String
    /// Settings with more than one value, in sweep order (the run order is their Cartesian product).
    public var axes: [Axis]
    /// Settings shared by every run.
    public var fixed: [String: Setting]
    public var resources: Resources

    /// Keys a grid may use: every config key plus `lr` (sets the three learning rates at once).
    public static var validKeys: [String] { TrainConfig.keys + ["lr"] }
    /// The order axes are swept in (earlier keys vary slowest); other keys follow alphabetically.
    static let leadingKeys = ["env", "preset", "algorithm", "method", "sparsity"]

    /// Reads a parsed spec file. `baseDirectory` resolves a relative `root`.
    public init(object: Any, baseDirectory: String = ".") throws {
        guard let top = object as? [String: Any] else { throw SweepError("the sweep spec must be a mapping with keys root, grid, set, resources") }
        let known: Set = ["root", "name", "grid", "set", "resources"]
        if let bad = top.keys.sorted().first(where: { !known.contains($0) }) {
            throw SweepError("unknown key '\(bad)' in the sweep spec; valid: name, root, grid, set, resources")
        }
        guard let rootText = top["root"] as? String, !rootText.isEmpty else {
            throw SweepError("the sweep spec needs 'root: DIR' (where the run directories go)")
        }
        root = rootText.hasPrefix("/") ? rootText : (baseDirectory as NSString).appendingPathComponent(rootText)
        root = (root as NSString).standardizingPath
        name = (top["name"] as? String) ?? (root as NSString).lastPathComponent

        guard let grid = top["grid"] as? [String: Any], !grid.isEmpty else {
            throw SweepError("the sweep spec needs 'grid:' with at least env or seed, e.g. grid: {env: [Hopper-v5], seed: [0, 1]}")
        }
        let set = (top["set"] as? [String: Any]) ?? [:]
        if top["set"] != nil && top["set"] as? [String: Any] == nil { throw SweepError("'set' must be a mapping of train flags to values") }
        let valid = Set(Self.validKeys)
        var axes: [Axis] = [], fixed: [String: Setting] = [:]
        for (key, value) in grid.merging(set, uniquingKeysWith: { g, _ in g }) {
            guard valid.contains(key) else {
                throw SweepError("unknown setting '\(key)' in the sweep spec; valid: \(Self.validKeys.joined(separator: ", "))")
            }
            if grid[key] != nil && set[key] != nil { throw SweepError("'\(key)' is in both grid and set") }
            let values = try Setting.values(key: key, value, sweeping: grid[key] != nil)
            guard !values.isEmpty else { throw SweepError("'\(key)' has an empty list of values") }
            if values.count == 1 { fixed[key] = values[0] } else { axes.append(Axis(key: key, values: values)) }
        }
        axes.sort { Self.axisOrder($0.key) < Self.axisOrder($1.key) }
        self.axes = axes
        self.fixed = fixed
        resources = try Resources(object: top["resources"])
    }

    static func axisOrder(_ key: String) -> (Int, String) {
        if let i = leadingKeys.firstIndex(of: key) { return (i, "") }
        if key == "seed" { return (Int.max, "") }  // seeds vary fastest: a run's repeats sit together
        return (leadingKeys.count, key)
    }

    /// Every run of the grid, with its resolved config (so a bad value fails before anything starts).
    /// A grid larger than this is refused before any run is built (`sparrow sweep --max-runs` raises it).
    public static let defaultMaximumRuns = 10_000

    /// The number of runs the grid's axes multiply to (before dense runs fold their sparsity axis), without building
    /// them; saturates instead of overflowing.
    public var gridSize: Int {
        axes.reduce(1) { n, axis in n.multipliedReportingOverflow(by: max(axis.values.count, 1)).overflow ? Int.max : n * max(axis.values.count, 1) }
    }

    public func runs(maximum: Int = SweepSpec.defaultMaximumRuns) throws -> [RunPlan] {
        guard gridSize <= maximum else {
            let sizes = axes.map { "\($0.values.count) \($0.key)" }.joined(separator: " × ")
            throw SweepError("the grid has \(gridSize == Int.max ? "more than \(Int.max)" : "\(gridSize)") runs (\(sizes)); "
                             + "a sweep builds at most \(maximum) (--max-runs raises the bound)")
        }
        var combos: [[String: Setting]] = [fixed]
        for axis in axes {
            combos = combos.flatMap { c in axis.values.map { v in c.merging([axis.key: v]) { $1 } } }
        }
        var plans: [RunPlan] = []
        var seen: [String: Int] = [:]
        for var settings in combos {
            // Dense runs have no sparsity: a sparsity axis crossed with a dense preset yields one dense run.
            let dense = settings["method"].map { $0.description == "dense" } ?? (settings["preset"]?.description.hasPrefix("dense") ?? false)
            if dense, axes.contains(where: { $0.key == "sparsity" }) { settings["sparsity"] = nil }
            let i = plans.count
            var plan = try RunPlan(index: i, settings: settings, swept: Set(axes.map(\.key)), root: root)
            plan.threads = resources.cpusPerTask
            if dense, seen[plan.name] != nil { continue }
            if let other = seen[plan.name] {
                throw SweepError("runs \(other) and \(i) would share the directory \(plan.name)")
            }
            seen[plan.name] = i
            plans.append(plan)
        }
        return plans
    }
}

/// A setting's value as written in the spec; it becomes one `sparrow train` argument.
public enum Setting: Equatable, Sendable, CustomStringConvertible {
    case text(String)
    case integer(Int)
    case number(Double)
    case flag(Bool)
    case list([Double])

    /// The values of one spec entry: a list sweeps (in `grid`), a scalar is fixed.
    static func values(key: String, _ value: Any, sweeping: Bool) throws -> [Setting] {
        let listKeys: Set = ["hidden", "er-epsilon"]
        if let array = value as? [Any] {
            if listKeys.contains(key) {
                // [[256, 256], [64, 64]] sweeps; [256, 256] is one value.
                if array.allSatisfy({ $0 is [Any] }) { return try array.map { try single(key: key, $0) } }
                return [try single(key: key, array)]
            }
            guard sweeping else { throw SweepError("'\(key)' in set must be a single value, got a list") }
            return try array.map { try single(key: key, $0) }
        }
        return [try single(key: key, value)]
    }

    static func single(key: String, _ value: Any) throws -> Setting {
        switch value {
        case let b as Bool where type(of: value) == Bool.self: return .flag(b)
        case let i as Int: return .integer(i)
        case let d as Double: return .number(d)
        case let s as String:
            if s.contains(","), let list = try? parseList(s) { return .list(list) }
            return .text(s)
        case let a as [Any]:
            let numbers = a.compactMap { ($0 as? Int).map(Double.init) ?? ($0 as? Double) }
            guard numbers.count == a.count, !a.isEmpty else { throw SweepError("'\(key)' takes numbers, got \(a)") }
            return .list(numbers)
        default:
            throw SweepError("'\(key)' has a value of an unsupported type: \(value)")
        }
    }

    static func parseList(_ s: String) throws -> [Double] {
        let items = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let numbers = items.compactMap(Double.init)
        guard numbers.count == items.count else { throw SweepError("not a list of numbers: \(s)") }
        return numbers
    }

    /// The command-line text of the value (lists comma-separated).
    public var description: String {
        switch self {
        case .text(let s): return s
        case .integer(let i): return String(i)
        case .number(let d): return Self.format(d)
        case .flag(let b): return b ? "true" : "false"
        case .list(let l): return l.map(Self.format).joined(separator: ",")
        }
    }

    /// The value as it goes into a config mapping (for `TrainConfig.resolve`).
    var configValue: Any {
        switch self {
        case .text(let s): return s
        case .integer(let i): return i
        case .number(let d): return d
        case .flag(let b): return b
        case .list(let l): return l.map { $0 == $0.rounded() ? Int($0) as Any : $0 as Any }
        }
    }

    static func format(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
}

/// One run of a sweep: its directory and the `sparrow train` arguments that produce (or resume) it.
public struct RunPlan: Equatable, Sendable {
    public var index: Int
    /// Directory name, stable for the settings: ENV_PRESET_sSPARSITY[_KEYVALUE…]_seedN.
    public var name: String
    public var directory: String
    public var settings: [String: Setting]
    public var config: TrainConfig
    /// `sparrow train --threads` (from `resources.cpus-per-task`): a run uses the cores its job asks for. Not a
    /// setting (results do not depend on it), so it is not in the directory name.
    public var threads = 1

    init(index: Int, settings: [String: Setting], swept: Set<String>, root: String) throws {
        self.index = index
        self.settings = settings
        var flags: [String: Any] = [:]
        for (k, v) in settings where k != "env" && k != "preset" {
            if k == "lr" { for key in ["actor-lr", "critic-lr", "alpha-lr"] where settings[key] == nil { flags[key] = v.configValue } } else {
                flags[k] = v.configValue
            }
        }
        do {
            config = try TrainConfig.resolve(preset: settings["preset"]?.description, env: settings["env"]?.description,
                                             file: nil, flags: flags)
        } catch {
            let described = settings.keys.sorted().map { "\($0)=\(settings[$0]!)" }.joined(separator: " ")
            throw SweepError("run \(index) (\(described)): \(error)")
        }
        name = Self.directoryName(config: config, settings: settings.filter { swept.contains($0.key) })
        directory = (root as NSString).appendingPathComponent(name)
    }

    /// ENV_PRESET_sSPARSITY_seedN as `sparrow train` names runs, with every other swept setting inserted before the
    /// seed as `_KEYVALUE` (sorted by key), so runs of one sweep never share a directory. Fixed settings are not in
    /// the name (they are in config.json); changing one later makes `--resume` refuse the old checkpoint.
    static func directoryName(config: TrainConfig, settings: [String: Setting]) -> String {
        var parts = [config.env, config.preset, "s\(config.agent.sparsity)"]
        let named: Set = ["env", "preset", "sparsity", "seed"]
        for key in settings.keys.sorted() where !named.contains(key) {
            let value = settings[key]!.description.replacingOccurrences(of: ",", with: "-")
            parts.append(key + value)
        }
        parts.append("seed\(config.seed)")
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._"))
        return parts.joined(separator: "_").unicodeScalars.map { allowed.contains($0) ? String($0) : "-" }.joined()
    }

    /// `sparrow train` arguments (after the executable): run directory, resume, no progress bar, every setting.
    public var trainArguments: [String] {
        var args = ["train", "--run-dir", directory, "--resume", "--no-progress"]
        if threads > 1 { args += ["--threads", String(threads)] }
        for key in settings.keys.sorted() {
            switch settings[key]! {
            case .flag(let b): args.append(b ? "--\(key)" : "--no-\(key)")
            case let v: args += ["--\(key)", v.description]
            }
        }
        return args
    }

    public var logPath: String { (directory as NSString).appendingPathComponent("train.log") }
    public var isFinished: Bool { FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("summary.json")) }
    public var hasCheckpoint: Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("checkpoint.sparrow"))
    }
}

public struct SweepError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What each SLURM array task may use.
public struct Resources: Equatable, Sendable {
    public var time: String?
    public var cpusPerTask: Int = 1
    public var mem: String?
    public var partition: String?
    public var account: String?
    /// Seconds before the time limit at which the batch script receives SIGUSR1 (runs checkpoint and requeue).
    public var signalBefore: Int = 300
    public var maxParallel: Int?

    public init() {}

    init(object: Any?) throws {
        guard let object else { return }
        guard let d = object as? [String: Any] else { throw SweepError("'resources' must be a mapping") }
        let known = ["time", "cpus-per-task", "mem", "partition", "account", "signal-before", "max-parallel"]
        if let bad = d.keys.sorted().first(where: { !known.contains($0) }) {
            throw SweepError("unknown resource '\(bad)'; valid: \(known.joined(separator: ", "))")
        }
        func text(_ k: String) -> String? { d[k].map { "\($0)" } }
        func int(_ k: String) throws -> Int? {
            guard let v = d[k] else { return nil }
            guard let i = v as? Int, i > 0 else { throw SweepError("resource '\(k)' must be a positive integer, got \(v)") }
            return i
        }
        time = text("time"); mem = text("mem"); partition = text("partition"); account = text("account")
        cpusPerTask = try int("cpus-per-task") ?? 1
        signalBefore = try int("signal-before") ?? 300
        maxParallel = try int("max-parallel")
    }
}
