import CBuildInfo
import Foundation
import MuJoCo
import SparrowCore

/// Sparrow's version and what it was built with; `sparrow --version` prints `versionLine`.
public enum BuildInfo {
    public static let sparrowVersion = "0.14.0"
    /// The git commit of the build (read by Package.swift when the manifest is evaluated), or "unknown".
    public static var gitCommit: String { String(cString: sparrow_git_commit()) }
    public static var swiftVersion: String {
        #if compiler(>=6.4)
        return ">=6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }
    /// MuJoCo's version as the loaded library reports it.
    public static var mujoco: String { mujocoVersion }
    public static var versionLine: String {
        "sparrow \(sparrowVersion) (commit \(gitCommit)), Swift \(swiftVersion), MuJoCo \(mujoco)"
    }
}

/// `run.json`: what produced a run — Sparrow's version and commit, Swift and MuJoCo versions, the machine
/// (`MachineMetadata`, as under `machine` in config.json: CPU model and flags, BLAS library and core, threads,
/// host), when it started and ended, and SLURM's job and array ids when set. A resume keeps `started_at` and adds
/// the process to `sessions`; `ended_at` is written when the process closes its logs.
public struct RunMetadata: Codable, Equatable, Sendable {
    public struct Session: Codable, Equatable, Sendable {
        public var startedAt: String
        public var endedAt: String?
        public var host: String
        public var slurmJobID: String?
        public var slurmArrayJobID: String?
        public var slurmArrayTaskID: String?
        enum CodingKeys: String, CodingKey {
            case host
            case startedAt = "started_at", endedAt = "ended_at", slurmJobID = "slurm_job_id"
            case slurmArrayJobID = "slurm_array_job_id", slurmArrayTaskID = "slurm_array_task_id"
        }
    }
    public var sparrowVersion: String
    public var gitCommit: String
    public var swiftVersion: String
    public var mujocoVersion: String
    public var blasLibrary: String
    public var machine: MachineMetadata
    public var startedAt: String
    public var endedAt: String?
    public var sessions: [Session]

    enum CodingKeys: String, CodingKey {
        case machine, sessions
        case sparrowVersion = "sparrow_version", gitCommit = "git_commit", swiftVersion = "swift_version"
        case mujocoVersion = "mujoco_version", blasLibrary = "blas_library", startedAt = "started_at", endedAt = "ended_at"
    }

    static func timestamp(_ d: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: d)
    }

    /// This process's record, continuing `previous` (a resumed run's run.json) when given.
    public static func current(continuing previous: RunMetadata? = nil) -> RunMetadata {
        let env = ProcessInfo.processInfo.environment
        let now = timestamp()
        let session = Session(startedAt: now, endedAt: nil, host: ProcessInfo.processInfo.hostName,
                              slurmJobID: env["SLURM_JOB_ID"], slurmArrayJobID: env["SLURM_ARRAY_JOB_ID"],
                              slurmArrayTaskID: env["SLURM_ARRAY_TASK_ID"])
        return RunMetadata(sparrowVersion: BuildInfo.sparrowVersion, gitCommit: BuildInfo.gitCommit,
                           swiftVersion: BuildInfo.swiftVersion, mujocoVersion: BuildInfo.mujoco, blasLibrary: "OpenBLAS",
                           machine: .current, startedAt: previous?.startedAt ?? now, endedAt: nil,
                           sessions: (previous?.sessions ?? []) + [session])
    }

    public static func read(_ path: String) -> RunMetadata? {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(RunMetadata.self, from: d)
    }

    public func write(to path: String) throws {
        try PrettyJSON.write(self, to: path)
    }
}
