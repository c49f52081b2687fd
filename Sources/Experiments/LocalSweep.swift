import Foundation
import Training
#if canImport(Glibc)
import Glibc
#endif

/// Runs a sweep on this machine: at most `maxParallel` `sparrow train` processes at a time, each writing its output
/// to RUN/train.log, with a compact view of every active run. Finished runs are skipped; the others start with
/// `--resume`, so interrupted ones continue from their checkpoint. SIGINT/SIGTERM stop launching and ask every
/// running child to checkpoint (they exit cleanly); running the sweep again continues.
///
/// Two sweeps on one root (or a sweep and a `sparrow train` by hand) share the work safely: the run lock lets one
/// process train a run, a child refused with `RunInUseError.exitStatus` counts as "running elsewhere" (neither done
/// nor failed), and train.log is opened for appending so every writer's lines arrive whole.
public final class LocalSweep {
    public struct Outcome: Equatable, Sendable {
        /// Finished before this sweep could start them (by an earlier sweep or, meanwhile, another process).
        public var skipped = 0
        public var finished = 0
        public var failed: [String] = []
        public var interrupted = 0
        /// Runs another process was training when this sweep's child tried: not failed, not done.
        public var elsewhere: [String] = []
    }

    struct Active {
        let plan: RunPlan
        let process: Process
        let started: Date
    }

    let plans: [RunPlan]
    let executable: String
    let maxParallel: Int
    let interactive: Bool
    let write: (String) -> Void

    /// - Parameters:
    ///   - executable: the `sparrow` binary (the CLI passes its own, /proc/self/exe).
    ///   - interactive: redraw the view in place (a terminal); otherwise print one line per event and a summary
    ///     line every 30 s.
    public init(plans: [RunPlan], executable: String, maxParallel: Int, interactive: Bool,
                write: @escaping (String) -> Void = { print($0); fflush(stdout) }) {
        self.plans = plans
        self.executable = executable
        self.maxParallel = max(1, maxParallel)
        self.interactive = interactive
        self.write = write
    }

    public func run() throws -> Outcome {
        var outcome = Outcome()
        var queue: [RunPlan] = []
        for plan in plans {
            if plan.isFinished { outcome.skipped += 1 } else { queue.append(plan) }
        }
        write("sweep: \(plans.count) runs, \(outcome.skipped) already finished, \(queue.count) to run, "
              + "at most \(maxParallel) at a time")
        var active: [Active] = []
        var stopping = false
        var drawnLines = 0
        var lastDraw = Date.distantPast, lastSummary = Date()
        StopSignal.install()

        while !queue.isEmpty || !active.isEmpty {
            if StopSignal.requested && !stopping {
                stopping = true
                write("sweep: \(StopSignal.signalName) received; asking \(active.count) runs to checkpoint")
                for a in active { kill(a.process.processIdentifier, SIGTERM) }
            }
            while !stopping && active.count < maxParallel && !queue.isEmpty {
                let plan = queue.removeFirst()
                if plan.isFinished {  // another process finished it since the sweep started
                    outcome.skipped += 1
                    if !interactive { write("skipped  \(plan.name) (finished elsewhere)") }
                    continue
                }
                do {
                    active.append(try launch(plan))
                    if !interactive { write("started  \(plan.name)\(plan.hasCheckpoint ? " (resuming)" : "")") }
                } catch {
                    outcome.failed.append(plan.name)
                    write("failed   \(plan.name): cannot start: \(ErrorText.describe(error))")
                }
            }
            // Collect finished children.
            var still: [Active] = []
            for a in active {
                if a.process.isRunning { still.append(a); continue }
                let status = a.process.terminationStatus
                Self.removePID(a.process.processIdentifier, directory: a.plan.directory)
                let refused = a.process.terminationReason == .exit && status == RunInUseError.exitStatus
                Self.appendLog(a.plan.logPath, "== exit status \(status) at \(Self.timestamp())\(refused ? ": running elsewhere" : "") ==")
                if refused && a.plan.isFinished {
                    outcome.skipped += 1
                    if !interactive { write("skipped  \(a.plan.name) (finished elsewhere)") }
                } else if refused {
                    outcome.elsewhere.append(a.plan.name)
                    let holder = RunLockHolder.read(directory: a.plan.directory).map { " (\($0))" } ?? ""
                    write((interactive ? "\r\u{1B}[K" : "") + "elsewhere \(a.plan.name): another process is training it\(holder)")
                    if interactive { drawnLines = 0 }
                } else if a.plan.isFinished {
                    outcome.finished += 1
                    if !interactive { write("done     \(a.plan.name)\(Self.scoreText(a.plan))") }
                } else if status == 0 {
                    outcome.interrupted += 1
                    if !interactive { write("stopped  \(a.plan.name) (checkpoint written)") }
                } else {
                    outcome.failed.append(a.plan.name)
                    let line = RunLog.failingLine(a.plan.logPath) ?? "exit status \(status)"
                    write((interactive ? "\r\u{1B}[K" : "") + "failed   \(a.plan.name): \(line)")
                    if interactive { drawnLines = 0 }
                }
            }
            active = still
            if stopping { queue.removeAll() }

            let now = Date()
            if interactive, now.timeIntervalSince(lastDraw) >= 1 || active.isEmpty {
                lastDraw = now
                let view = Self.view(active: active.map(\.plan), waiting: queue.count, outcome: outcome, total: plans.count)
                var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A\u{1B}[J" : ""
                text += view.joined(separator: "\n")
                FileHandle.standardOutput.write(Data((text + "\n").utf8))
                drawnLines = view.count
            } else if !interactive, now.timeIntervalSince(lastSummary) >= 30 {
                lastSummary = now
                for line in Self.view(active: active.map(\.plan), waiting: queue.count, outcome: outcome, total: plans.count) {
                    write(line)
                }
            }
            if !active.isEmpty || !queue.isEmpty { usleep(200_000) }
        }
        write("sweep: \(outcome.finished) finished, \(outcome.skipped) skipped (already finished), "
              + "\(outcome.interrupted) stopped with a checkpoint, "
              + (outcome.elsewhere.isEmpty ? "" : "\(outcome.elsewhere.count) running elsewhere, ")
              + "\(outcome.failed.count) failed")
        return outcome
    }

    func launch(_ plan: RunPlan) throws -> Active {
        try FileManager.default.createDirectory(atPath: plan.directory, withIntermediateDirectories: true)
        Self.appendLog(plan.logPath, "== sparrow sweep (local, pid \(getpid())): \(plan.hasCheckpoint ? "resuming" : "starting") at \(Self.timestamp()) ==")
        // The child appends too (O_APPEND is on the open file it inherits): its lines land whole after anyone else's.
        let fd = open(plan.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SweepError("cannot write \(plan.logPath): \(String(cString: strerror(errno)))") }
        let log = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = plan.trainArguments
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        try? log.close()
        try? "\(p.processIdentifier)\n".write(toFile: Self.pidPath(plan.directory), atomically: true, encoding: .utf8)
        return Active(plan: plan, process: p, started: Date())
    }

    /// The compact view: a header line, then one line per active run (bar, steps, latest evaluation).
    static func view(active: [RunPlan], waiting: Int, outcome: Outcome, total: Int) -> [String] {
        var lines = ["[\(outcome.finished + outcome.skipped)/\(total) done, \(active.count) running, "
                     + (outcome.elsewhere.isEmpty ? "" : "\(outcome.elsewhere.count) running elsewhere, ")
                     + "\(waiting) waiting, \(outcome.failed.count) failed]"]
        let width = active.map(\.name.count).max() ?? 0
        for plan in active {
            let progress = RunLog.progress(plan.directory)
            let steps = plan.config.steps
            let fraction = Double(progress?.step ?? 0) / Double(max(steps, 1))
            let filled = Int(fraction * 20)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
            let eval = progress?.evalReturn.map { String(format: "eval %.1f", $0) } ?? "eval -"
            let left = progress?.speedText(total: steps) ?? ""
            lines.append("  " + plan.name.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: " [%@] %3.0f%% %d/%d %@", bar, fraction * 100, progress?.step ?? 0, steps, eval) + left)
        }
        return lines
    }

    static func scoreText(_ plan: RunPlan) -> String {
        guard let s = RunLog.finalScore(plan.directory) else { return "" }
        return String(format: ": final score %.2f", s)
    }

    static func pidPath(_ directory: String) -> String { (directory as NSString).appendingPathComponent("run.pid") }

    static func timestamp() -> String { ISO8601DateFormatter().string(from: Date()) }

    /// Removes RUN/run.pid if it still names `pid` (another sweep may have written its own child's since).
    static func removePID(_ pid: Int32, directory: String) {
        let path = pidPath(directory)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == pid else { return }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Appends one whole line with one write to an O_APPEND descriptor, so lines of other writers (another sweep,
    /// a train child) never split it or land on it. (Not `AtomicFile.appendWhole`: cutting a failed write back
    /// could cut another writer's lines.)
    static func appendLog(_ path: String, _ line: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}

/// Reading a run directory while it trains.
public enum RunLog {
    public struct Progress: Equatable, Sendable {
        public var step: Int
        public var evalReturn: Double?
        /// The median of the last few rows' `steps_per_s` (up to `speedRows`), nil where none has one: what the
        /// time left is estimated from, steady against one slow row (an evaluation, a checkpoint, a resume). Once
        /// the run learns, only rows that learned count.
        public var stepsPerSecond: Double?
        /// True while no update has run yet (the last row's cumulative `training_flops` is 0: the random or
        /// warm-up steps before learning starts, 20k for Atari DQN), when the speed is that of acting alone, often
        /// 10-50× the learning speed, so no time left is estimated from it.
        public var warmingUp = false
        /// The last whole row's `wall_time_s`: the run's training time so far, across resumes.
        public var wallTime: Double?

        /// Seconds to reach `total` steps at `stepsPerSecond`, nil without a speed or while warming up.
        public func secondsLeft(total: Int) -> Double? {
            warmingUp ? nil : stepsPerSecond.map { Double(max(total - step, 0)) / $0 }
        }

        /// ", 50 steps/s, 10.6 h left" (", 1368 steps/s, before learning starts" while warming up; no time left
        /// without `total`), "" without a speed: what progress lines append to the step count.
        public func speedText(total: Int?) -> String {
            guard let v = stepsPerSecond else { return "" }
            let left = total.flatMap(secondsLeft).map { ", " + RunLog.duration($0) + " left" }
            return String(format: ", %.0f steps/s", v) + (left ?? (warmingUp ? ", before learning starts" : ""))
        }
    }

    static let speedRows = 5

    /// The last metrics row's step and evaluation return, and the recent speed (reads only the file's tail).
    public static func progress(_ directory: String) -> Progress? {
        let path = (directory as NSString).appendingPathComponent("metrics.csv")
        guard let text = tail(path, bytes: 4096) else { return nil }
        // Whole rows only (`tail` drops a cut first line): a row being written has no newline yet.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if text.last != "\n" { lines = lines.dropLast() }
        let rows = lines.filter { $0.first?.isNumber == true }.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard let last = rows.last, let step = Int(last[0]) else { return nil }
        // Rows that learned (cumulative training FLOPs above 0); files without the column count every row.
        func learned(_ row: [Substring]) -> Bool? { row.count > flopsColumn ? Double(row[flopsColumn]).map { $0 > 0 } : nil }
        let warmingUp = learned(last) == false
        let counted = warmingUp ? rows : rows.filter { learned($0) != false }
        let speeds = counted.suffix(speedRows).compactMap { $0.count > 2 ? Double($0[2]) : nil }.filter { $0 > 0 && $0.isFinite }
        return Progress(step: step, evalReturn: last.count > 4 ? Double(last[4]) : nil, stepsPerSecond: median(speeds),
                        warmingUp: warmingUp, wallTime: last.count > 1 ? Double(last[1]) : nil)
    }

    /// `training_flops`' place among metrics.csv's columns (a fixed order, read here from a tail without its header).
    static let flopsColumn = MetricsRow.columns.firstIndex { $0.name == "training_flops" }!

    /// The middle value (the mean of the two middle ones for an even count), nil for none.
    static func median(_ values: [Double]) -> Double? {
        let v = values.sorted()
        return v.isEmpty ? nil : v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    /// "20 min", "2.5 h": a run's length or time left.
    public static func duration(_ seconds: Double) -> String {
        seconds < 5400 ? String(format: "%.0f min", seconds / 60) : String(format: "%.1f h", seconds / 3600)
    }

    public static func finalScore(_ directory: String) -> Double? {
        let path = (directory as NSString).appendingPathComponent("summary.json")
        guard let data = FileManager.default.contents(atPath: path),
              let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return (o["final_score"] as? NSNumber)?.doubleValue
    }

    /// The line that explains a failure in a train.log: the last "Error: …" line of the latest attempt, else a
    /// Swift runtime trap, else the attempt's last line.
    public static func failingLine(_ logPath: String) -> String? {
        guard let text = tail(logPath, bytes: 16384) else { return nil }
        var lines = text.split(separator: "\n").map(String.init)
        if let start = lines.lastIndex(where: { $0.hasPrefix("== sparrow sweep") || $0.hasPrefix("== slurm task") }) {
            lines = Array(lines[(start + 1)...])
        }
        let content = lines.filter { !$0.hasPrefix("==") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        if let e = content.last(where: { $0.hasPrefix("Error:") }) { return e }
        if let e = content.last(where: { $0.contains("Fatal error") || $0.contains("Illegal instruction") }) { return e }
        return content.last
    }

    /// The exit status the latest attempt recorded ("== exit status N … =="), if it ended.
    public static func lastExitStatus(_ logPath: String) -> Int32? {
        guard let text = tail(logPath, bytes: 16384) else { return nil }
        let lines = text.split(separator: "\n")
        guard let last = lines.last(where: { $0.hasPrefix("== ") }), last.hasPrefix("== exit status ") else { return nil }
        return Int32(last.dropFirst("== exit status ".count).prefix { $0.isNumber || $0 == "-" })
    }

    static func tail(_ path: String, bytes: Int) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        let size = h.seekToEndOfFile()
        let start = size > UInt64(bytes) ? size - UInt64(bytes) : 0
        h.seek(toFileOffset: start)
        let data = h.readDataToEndOfFile()
        var text = String(decoding: data, as: UTF8.self)
        if start > 0, let nl = text.firstIndex(of: "\n") { text = String(text[text.index(after: nl)...]) }
        return text
    }
}
