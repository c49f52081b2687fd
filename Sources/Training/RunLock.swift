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
            throw TrainingError("\(directory) is in use by another training process (\(holder.isEmpty ? "holder unknown" : holder)); "
                                + "wait for it to stop, or use another --run-dir")
        }
        // Who holds it, for the message above: "pid N on host H".
        let text = "pid \(getpid()) on host \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }  // releases the flock
}
