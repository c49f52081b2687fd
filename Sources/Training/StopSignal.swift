#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// SIGINT/SIGTERM set a flag that the training loop checks after every step; it then writes a checkpoint and
/// returns cleanly. (SLURM sends SIGTERM, or a chosen signal, before the time limit.)
public enum StopSignal {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0
    nonisolated(unsafe) static var received: Int32 = 0

    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { sig in
            StopSignal.received = sig
            StopSignal.flag = 1
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        signal(SIGUSR1, handler)
    }

    public static var requested: Bool { flag != 0 }
    public static var signalName: String {
        switch received {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGUSR1: return "SIGUSR1"
        default: return "signal \(received)"
        }
    }
    /// For tests: simulate or clear a request.
    public static func set(_ on: Bool) { flag = on ? 1 : 0 }
}
