import Foundation
import SparrowCore

/// `ROOT/sweep.json`: what a sweep planned (every run's directory and train arguments) and, for SLURM, the job ids
/// it submitted. `sparrow sweep status ROOT` reads it to know runs that have not started yet.
public struct SweepManifest: Codable, Equatable, Sendable {
    public struct Run: Codable, Equatable, Sendable {
        public var index: Int
        public var name: String
        public var directory: String
        public var arguments: [String]
    }

    public var name: String
    public var backend: String
    public var runs: [Run]
    /// SLURM array jobs submitted for this root, oldest first.
    public var slurmJobs: [String]

    enum CodingKeys: String, CodingKey { case name, backend, runs, slurmJobs = "slurm_jobs" }

    public static func path(root: String) -> String { (root as NSString).appendingPathComponent("sweep.json") }

    public init(name: String, backend: String, plans: [RunPlan], slurmJobs: [String] = []) {
        self.name = name
        self.backend = backend
        runs = plans.map { Run(index: $0.index, name: $0.name, directory: $0.directory, arguments: $0.trainArguments) }
        self.slurmJobs = slurmJobs
    }

    public static func load(root: String) -> SweepManifest? {
        guard let data = FileManager.default.contents(atPath: path(root: root)) else { return nil }
        return try? JSONDecoder().decode(SweepManifest.self, from: data)
    }

    public func write(root: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try PrettyJSON.write(self, to: Self.path(root: root))
    }
}
