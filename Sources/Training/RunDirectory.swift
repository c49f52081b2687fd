import Agents
import Foundation
import SparrowCore

/// A run directory and the files in it — the layout every command reads:
///
///     config.json        the resolved settings (and a `machine` record), written when the run starts
///     metrics.csv        one row per log interval (`MetricsRow`)
///     evaluations.csv    one row per evaluation (`Evaluation`)
///     noise_robustness.json  `sparrow eval RUN --obs-noise …`'s returns per noise level (`NoiseRobustness`)
///     analysis.csv       one row per network measurement (`NetworkMeasurement`: gradient SNR, dormant neurons, ReDo)
///     checkpoint.sparrow the latest checkpoint (`CheckpointFile`, `TrainingCheckpoint`), replaced atomically
///     summary.json       written when the run finishes
///     run.lock           held by the one process training into the directory (`RunLock`)
///     run.json           what produced the run: versions, machine, times (`RunMetadata`, written by `RunLogs`)
///     dense-path.json    with `--dense-path timed`: the crossovers its layers chose their path by (`DensePathTable`)
///     events.out.tfevents.*  TensorBoard's copy of the metrics and evaluations (`RunLogs`)
public struct RunDirectory: Sendable {
    public let path: String
    public init(_ path: String) { self.path = path }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    public var config: String { file("config.json") }
    public var metrics: String { file("metrics.csv") }
    public var evaluations: String { file("evaluations.csv") }
    public var analysis: String { file("analysis.csv") }
    public var noiseRobustness: String { file("noise_robustness.json") }
    public var checkpoint: String { file(CheckpointFile.fileName) }
    public var summary: String { file("summary.json") }
    public var runMetadata: String { file("run.json") }
    public var densePath: String { file("dense-path.json") }

    public var hasCheckpoint: Bool { FileManager.default.fileExists(atPath: checkpoint) }

    /// The folder (and its parents); a failure is one line with the path and the reason.
    func create() throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            throw ConfigError("the run directory \(path) is a file, not a folder: choose another --run-dir")
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw ConfigError("cannot create the run directory: \(ErrorText.describe(error))")
        }
    }

    func writeConfig(_ config: TrainConfig) throws { try AtomicFile.write(try config.json(machine: .current), to: self.config) }

    /// `summary.json`: the keys `sparrow report` reads (`final_score`, `live_params`, `training_flops`, …).
    func writeSummary(_ s: TrainSummary, config: TrainConfig, agent: any Agent, episodes: Int) throws {
        var o: [String: Any] = ["env": config.env, "preset": config.preset, "steps": s.step, "seed": config.seed,
                                "evaluations": s.evaluations.count, "live_params": agent.liveParameters, "live_weights": agent.liveWeights,
                                "training_flops": agent.trainingFLOPs, "episodes": episodes,
                                // Kept here so reports need no checkpoint (Atari's are 6.7 GB and get deleted).
                                "inference_flops": agent.inferenceFLOPs]
        if let f = s.finalScore { o["final_score"] = f }
        if let last = s.evaluations.last { o["last_eval_return"] = last.meanReturn }
        let data = try JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(Array(data) + [10], to: summary)
    }
}

extension RunDirectory {
    /// The names of the files a run (or the sweep around it) owns: nothing but Sparrow's run code may write them.
    public static let ownFileNames: Set<String> = [
        "config.json", "metrics.csv", "evaluations.csv", "analysis.csv", "noise_robustness.json", CheckpointFile.fileName,
        "summary.json", "run.lock", "run.json", "train.log", "run.pid", "sweep.json", "dense-path.json",
    ]

    /// Whether `name` is one of a run's own files (the fixed names, TensorBoard's event files, checkpoint temporaries).
    public static func isOwnFileName(_ name: String) -> Bool {
        ownFileNames.contains(name) || name.hasPrefix("events.out.tfevents.") || name.hasPrefix(CheckpointFile.fileName + ".tmp")
    }

    /// Removes the temporary checkpoint files (`checkpoint.sparrow.tmp-PID`, see `AtomicFile.write`) that writers
    /// killed mid-write left behind — a 1M-step Humanoid run's is about 1.5 GB — and only those whose process is gone
    /// (`kill(pid, 0)` fails with ESRCH). Called by the training process once it holds the run's lock.
    @discardableResult
    public func removeDeadWritersTemporaries() -> [String] {
        let prefix = CheckpointFile.fileName + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH, (try? FileManager.default.removeItem(atPath: file(name))) != nil {
                removed.append(name)
            }
        }
        return removed
    }

    /// Whether `path` is a folder a run or a sweep lives in (it holds a run's config, checkpoint or a sweep's plan).
    static func looksLikeRun(_ path: String) -> Bool {
        ["config.json", CheckpointFile.fileName, "sweep.json", "metrics.csv"].contains {
            FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent($0))
        }
    }

    /// Refuses, in one line and before anything is written, an output path (`flag`'s value) that would replace one of
    /// a run's own files — `sparrow export RUN --onnx RUN/checkpoint.sparrow`, `eval --record RUN/metrics.csv` — or
    /// that is a folder. Symbolic links are followed, so another spelling of the same file is caught too.
    /// `folderAllowed`: the output may be a folder (a recording's PNG frames), which is then checked as well.
    public static func checkOutput(_ path: String, flag: String, folderAllowed: Bool = false) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        var isDirectory: ObjCBool = false
        if folderAllowed, looksLikeRun(url.path) {
            throw ConfigError("\(flag) \(NearMiss.shown(path)) is a run's folder; write the frames elsewhere")
        }
        if !folderAllowed, FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ConfigError("\(flag) \(NearMiss.shown(path)) is a folder; give a file path")
        }
        let folder = url.deletingLastPathComponent().path
        if isOwnFileName(url.lastPathComponent) && looksLikeRun(folder) {
            throw ConfigError("\(flag) \(NearMiss.shown(path)) would replace the run's own \(url.lastPathComponent) in \(NearMiss.shown(folder)); "
                              + "write elsewhere")
        }
    }
}

/// How a run ended.
public struct TrainSummary: Equatable, Sendable {
    public enum Outcome: String, Sendable { case finished, interrupted }
    public var outcome: Outcome
    public var step: Int
    public var finalScore: Double?
    public var evaluations: [Evaluation]
}
