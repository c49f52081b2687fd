import Foundation

/// One live training process per run directory: an exclusive `flock` on `run.lock`, held by the training loop from
/// `init` until its run finishes or a stop signal ends it (or the trainer goes away). A second `sparrow train` on the same directory (a double launch, a SLURM requeue racing its
/// predecessor) stops with one line naming the holder instead of interleaving checkpoints and metrics. The
/// kernel drops the lock when the holder exits, however it dies, so a stale `run.lock` never blocks a resume.
final class RunLock {
    static let fileName = "run.lock"
    private let fd: Int32

    /// Takes the lock of `directory` (which must exist) or throws naming the process that holds it.
    init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TrainingError("cannot create \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw RunInUseError(directory: directory, holder: holder)
        }
        // Who holds it, for the message above: "pid N on host H".
        let text = "pid \(getpid()) on host \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }  // releases the flock
}

/// `sparrow train` on a run directory another process trains in. `sparrow train` prints the same one line as for
/// any error and exits with `exitStatus` rather than 1, so a sweep tells "running elsewhere" from a failure.
public struct RunInUseError: Error, CustomStringConvertible {
    /// EX_TEMPFAIL (sysexits.h): not a failure of this run, try again later.
    public static let exitStatus: Int32 = 75
    public let directory: String
    /// What the holder wrote into run.lock ("pid N on host H"); empty when unknown.
    public let holder: String

    public var description: String {
        "\(directory) is in use by another training process (\(holder.isEmpty ? "holder unknown" : holder)); "
            + "wait for it to stop, or use another --run-dir"
    }
}

/// The process a run directory's run.lock names ("pid N on host H", written by the holder), read without taking
/// the lock (taking it, even shared, could make a starting `sparrow train` refuse the run).
public struct RunLockHolder: Equatable, Sendable, CustomStringConvertible {
    public var pid: Int32
    public var host: String

    public static func read(directory: String) -> RunLockHolder? {
        let path = (directory as NSString).appendingPathComponent(RunLock.fileName)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count == 5, words[0] == "pid", words[2] == "on", words[3] == "host", let pid = Int32(words[1]), pid > 0
        else { return nil }
        return RunLockHolder(pid: pid, host: String(words[4]))
    }

    /// The holder runs on this host and is alive. The lock file keeps the last holder's line after it exits, so a
    /// reused pid can answer yes; a holder on another host cannot be checked from here (no).
    public var isAliveHere: Bool { host == ProcessInfo.processInfo.hostName && (kill(pid, 0) == 0 || errno == EPERM) }

    public var description: String { "pid \(pid) on host \(host)" }
}
