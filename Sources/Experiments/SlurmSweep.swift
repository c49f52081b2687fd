import Foundation

/// The SLURM backend: one job array, one array task per unfinished run.
///
/// Each task runs `sparrow train --run-dir RUN --resume …` in the background of its batch script, appending to
/// RUN/train.log. `--signal=B:USR1@N` makes SLURM signal the batch script N seconds before the time limit; the
/// script passes the signal to the run, which writes a checkpoint and exits 0, and then requeues its own task
/// (`--requeue`), which resumes from that checkpoint. A SIGTERM (scancel, preemption, `scontrol requeue`) also
/// reaches the run, which checkpoints; SLURM decides whether the task comes back.
public enum SlurmSweep {
    /// The sbatch script for `plans` (the unfinished runs); `indices` are their array task ids (the runs' indices
    /// in the sweep, so a task id names the same run across resubmissions).
    public static func script(name: String, root: String, plans: [RunPlan], executable: String, resources: Resources) -> String {
        precondition(!plans.isEmpty)
        var array = plans.map { String($0.index) }.joined(separator: ",")
        if let m = resources.maxParallel { array += "%\(m)" }
        var lines = ["#!/bin/bash",
                     "#SBATCH --job-name=\(shellWord(name))",
                     "#SBATCH --array=\(array)",
                     "#SBATCH --cpus-per-task=\(resources.cpusPerTask)"]
        if let t = resources.time { lines.append("#SBATCH --time=\(t)") }
        if let m = resources.mem { lines.append("#SBATCH --mem=\(m)") }
        if let p = resources.partition { lines.append("#SBATCH --partition=\(p)") }
        if let a = resources.account { lines.append("#SBATCH --account=\(a)") }
        lines += ["#SBATCH --requeue",
                  "#SBATCH --signal=B:USR1@\(resources.signalBefore)",
                  "#SBATCH --open-mode=append",
                  "#SBATCH --output=\(slurmLogDirectory(root))/%A_%a.out",
                  "#",
                  "# Written by `sparrow sweep --backend slurm`: one array task per run (the task id is the run's index",
                  "# in the sweep). USR1 (sent \(resources.signalBefore) s before the time limit) makes the run write a checkpoint",
                  "# and exit; the task then requeues itself and continues from the checkpoint. Each run's output is",
                  "# appended to RUN/train.log.",
                  "set -u",
                  "SPARROW=\(shellWord(executable))",
                  "case \"$SLURM_ARRAY_TASK_ID\" in"]
        for plan in plans {
            let args = plan.trainArguments.map(shellWord).joined(separator: " ")
            lines.append("  \(plan.index)) DIR=\(shellWord(plan.directory)); ARGS=(\(args)) ;;")
        }
        lines += ["  *) echo \"no run for array task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;",
                  "esac",
                  "mkdir -p \"$DIR\"",
                  "TASK=\"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"",
                  "if [ -f \"$DIR/summary.json\" ]; then echo \"$DIR already finished\"; exit 0; fi",
                  "echo \"== slurm task $TASK (job $SLURM_JOB_ID, restart ${SLURM_RESTART_COUNT:-0}) on $(hostname) at $(date -Is) ==\" >> \"$DIR/train.log\"",
                  "echo \"$SLURM_JOB_ID\" > \"$DIR/slurm.job\"",
                  "signalled=''",
                  "trap 'signalled=USR1; kill -USR1 \"$child\" 2>/dev/null' USR1",
                  "trap 'signalled=TERM; kill -TERM \"$child\" 2>/dev/null' TERM",
                  "\"$SPARROW\" \"${ARGS[@]}\" >> \"$DIR/train.log\" 2>&1 &",
                  "child=$!",
                  "# wait returns early when a trapped signal arrives: keep waiting until the run has written its checkpoint.",
                  "while :; do",
                  "  wait \"$child\"; status=$?",
                  "  if [ \"$status\" -gt 128 ] && kill -0 \"$child\" 2>/dev/null; then continue; fi",
                  "  break",
                  "done",
                  "echo \"== exit status $status at $(date -Is) ==\" >> \"$DIR/train.log\"",
                  "if [ \"$signalled\" = USR1 ] && [ \"$status\" = 0 ] && [ ! -f \"$DIR/summary.json\" ]; then",
                  "  echo \"== requeueing $TASK to resume from its checkpoint ==\" >> \"$DIR/train.log\"",
                  "  scontrol requeue \"$TASK\"",
                  "fi",
                  "exit \"$status\""]
        return lines.joined(separator: "\n") + "\n"
    }

    public static func scriptPath(root: String) -> String { (root as NSString).appendingPathComponent("sweep.sbatch") }
    public static func slurmLogDirectory(_ root: String) -> String { (root as NSString).appendingPathComponent("slurm") }

    /// Writes the script and submits it; returns the array job's id.
    public static func submit(scriptText: String, root: String) throws -> String {
        try FileManager.default.createDirectory(atPath: slurmLogDirectory(root), withIntermediateDirectories: true)
        let path = scriptPath(root: root)
        try scriptText.write(toFile: path, atomically: true, encoding: .utf8)
        guard let result = Shell.run("sbatch", ["--parsable", path]) else {
            throw SweepError("sbatch not found: install SLURM's client tools or use --backend local")
        }
        guard result.status == 0 else {
            let line = result.stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(result.status)"
            throw SweepError("sbatch failed: \(line)")
        }
        let id = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else { throw SweepError("sbatch printed no job id: \(result.stdout)") }
        return id
    }

    /// SLURM's view of array tasks, "JOB_TASK" → state (RUNNING, PENDING, COMPLETED, FAILED, …): squeue for live
    /// tasks, sacct (where accounting is configured) for ended ones. Empty when neither tool answers.
    public static func taskStates(jobs: [String]) -> [String: String] {
        guard !jobs.isEmpty else { return [:] }
        var states: [String: String] = [:]
        let list = jobs.joined(separator: ",")
        if let r = Shell.run("sacct", ["-n", "-P", "-X", "-j", list, "-o", "JobID,State"]), r.status == 0 {
            for line in r.stdout.split(separator: "\n") {
                let f = line.split(separator: "|")
                guard f.count >= 2 else { continue }
                states[String(f[0])] = String(f[1].split(separator: " ").first ?? "")
            }
        }
        if let r = Shell.run("squeue", ["-h", "-r", "-j", list, "-o", "%i|%T"]), r.status == 0 {
            for line in r.stdout.split(separator: "\n") {
                let f = line.split(separator: "|")
                guard f.count >= 2 else { continue }
                states[String(f[0])] = String(f[1])
            }
        }
        return states
    }

    static func shellWord(_ s: String) -> String {
        let safe = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./=,:+@%"))
        if !s.isEmpty, s.unicodeScalars.allSatisfy(safe.contains) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Runs a command found on PATH and captures its output.
enum Shell {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func run(_ name: String, _ arguments: [String]) -> Result? {
        guard let exe = which(name) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
