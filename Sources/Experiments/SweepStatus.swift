import Foundation
import Training
#if canImport(Glibc)
import Glibc
#endif

/// Where each run of a sweep stands, from its directory (summary.json, train.log, run.pid, run.lock, metrics.csv)
/// and, for SLURM sweeps, squeue/sacct where they answer.
public struct RunStatus: Equatable, Sendable {
    public enum State: String, Sendable, CaseIterable { case pending, running, done, failed }
    public var name: String
    public var directory: String
    public var state: State
    /// Final score (done), the failing line (failed), progress or SLURM's state (running, pending).
    public var detail: String
    public var step: Int?
    public var slurmState: String?
    /// A running run's recent speed (`RunLog.Progress.stepsPerSecond`) and the time it needs at that speed.
    public var stepsPerSecond: Double?
    public var secondsLeft: Double?
    /// A finished run's training time (its last metrics row's `wall_time_s`), what pending runs like it are priced by.
    public var wallTime: Double?

    /// What a sweep still needs, in run time (one run after another; divide by the runs that run at once).
    public struct Estimate: Equatable, Sendable {
        /// Running runs' time left plus each priced pending run's expected time.
        public var seconds: Double
        /// Pending runs priced by finished runs of the same setting (the run name without its `_seed<N>`), at the
        /// median of their training times; running runs with a time left.
        public var pricedPending = 0, running = 0
        /// Pending runs with no finished run of their setting, and running runs with no time left yet (warming up,
        /// no speed): not in `seconds`.
        public var unpriced = 0
    }

    /// The run name without its seed: runs that differ only in seed take about as long.
    static func setting(_ name: String) -> String {
        guard let r = name.range(of: "_seed", options: .backwards),
              !name[r.upperBound...].isEmpty, name[r.upperBound...].allSatisfy(\.isNumber) else { return name }
        return String(name[..<r.lowerBound])
    }

    /// The time the sweep's runs still need: running ones at their speed, pending ones at the median training time of
    /// the finished runs of their setting.
    public static func estimate(_ statuses: [RunStatus]) -> Estimate {
        var times: [String: [Double]] = [:]
        for s in statuses where s.state == .done { if let t = s.wallTime, t > 0 { times[setting(s.name), default: []].append(t) } }
        var e = Estimate(seconds: 0)
        for s in statuses {
            switch s.state {
            case .running:
                if let left = s.secondsLeft { e.seconds += left; e.running += 1 } else { e.unpriced += 1 }
            case .pending:
                if let t = times[setting(s.name)].flatMap(RunLog.median) {
                    e.seconds += t
                    e.pricedPending += 1
                } else { e.unpriced += 1 }
            case .done, .failed: break
            }
        }
        return e
    }

    /// Every run of the sweep at `root`: from its sweep.json when there is one, else every run directory in it.
    public static func survey(root: String) throws -> [RunStatus] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw SweepError("no sweep at \(root): not a directory")
        }
        let manifest = SweepManifest.load(root: root)
        var runs: [(index: Int?, name: String, directory: String)] = manifest?.runs.map { ($0.index, $0.name, $0.directory) } ?? []
        let listed = Set(runs.map(\.directory))
        for dir in RunResults.runDirectories(root: root) where !listed.contains(dir) {
            runs.append((nil, (dir as NSString).lastPathComponent, dir))
        }
        guard !runs.isEmpty else { throw SweepError("no runs under \(root) (no sweep.json and no run directories)") }
        let states = SlurmSweep.taskStates(jobs: manifest?.slurmJobs ?? [])
        return runs.map { status(name: $0.name, directory: $0.directory, index: $0.index, jobs: manifest?.slurmJobs ?? [], slurm: states) }
    }

    static func status(name: String, directory: String, index: Int?, jobs: [String], slurm: [String: String]) -> RunStatus {
        let path = { (file: String) in (directory as NSString).appendingPathComponent(file) }
        // The latest job that knows this run's task decides.
        var slurmState: String?
        if let index { for job in jobs.reversed() { if let s = slurm["\(job)_\(index)"] { slurmState = s; break } } }
        let progress = RunLog.progress(directory)
        var s = RunStatus(name: name, directory: directory, state: .pending, detail: "", step: progress?.step, slurmState: slurmState)
        if FileManager.default.fileExists(atPath: path("summary.json")) {
            s.state = .done
            s.detail = RunLog.finalScore(directory).map { String(format: "final score %.2f", $0) } ?? "finished"
            s.wallTime = progress?.wallTime
            return s
        }
        let total = (try? Data(contentsOf: URL(fileURLWithPath: path("config.json"))))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["steps"] as? Int
        let progressText = progress.map { p in "step \(p.step)" + (total.map { "/\($0)" } ?? "") } ?? "not started"
        // Speed and time left only while it runs: a stopped run's last speed says nothing of when it will end.
        let speed = progress?.stepsPerSecond, left = total.flatMap { progress?.secondsLeft(total: $0) }
        let runningText = progressText + (progress?.speedText(total: total) ?? "")
        func running(_ detail: String) -> RunStatus {
            s.state = .running; s.detail = detail; s.stepsPerSecond = speed; s.secondsLeft = left
            return s
        }
        switch slurmState {
        case "RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SIGNALING", "RESIZING":
            return running("\(runningText) (SLURM \(slurmState!))")
        case "PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED", "RESV_DEL_HOLD":
            s.state = .pending; s.detail = "\(progressText) (SLURM \(slurmState!))"; return s
        default: break
        }
        if let pidText = try? String(contentsOfFile: path("run.pid"), encoding: .utf8),
           let pid = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0 {
            return running(runningText)
        }
        // Whoever trains it (another sweep on this root, a `sparrow train` by hand) holds its run lock.
        if let holder = RunLockHolder.read(directory: directory), holder.isAliveHere {
            return running("\(runningText) (\(holder))")
        }
        let log = path("train.log")
        // A child refused because another process held the run is no failure of the run.
        let exit = RunLog.lastExitStatus(log).flatMap { $0 == RunInUseError.exitStatus ? nil : $0 }
        let slurmFailed: Set = ["FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "CANCELLED", "BOOT_FAIL", "DEADLINE", "PREEMPTED"]
        if let exit, exit != 0 {
            s.state = .failed
            s.detail = RunLog.failingLine(log) ?? "exit status \(exit)"
        } else if let st = slurmState, slurmFailed.contains(st) {
            s.state = .failed
            s.detail = "SLURM \(st)" + (RunLog.failingLine(log).map { ": \($0)" } ?? "")
        } else {
            s.detail = FileManager.default.fileExists(atPath: path("checkpoint.sparrow")) ? "\(progressText), checkpoint written" : progressText
        }
        return s
    }
}
