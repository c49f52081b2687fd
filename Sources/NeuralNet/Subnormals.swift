import CPlatform

/// Network arithmetic runs with subnormal floats flushed to zero.
///
/// Why: weights, Adam's second moments and the gradients of dead units decay toward zero during long runs, and
/// once they are subnormal (|x| < 1.2e-38) each x86 float operation on them takes a microcode assist of about a
/// hundred cycles. Measured on a Xeon (issue 10): tows-sac went from 294 to 78 steps/s between its first 900 and
/// its first 6000 steps, and back to a steady 343 with flush-to-zero. Values that small carry no information in a
/// float32 network (TensorFlow and Eigen flush them on their CPU threads by default; PyTorch has
/// `set_flush_denormal`).
///
/// How: `flushed` sets FTZ and DAZ for the calling thread for the duration of `body` and then restores what was
/// there, so a library user's own code and, in particular, MuJoCo's double-precision physics are untouched (the
/// MuJoCo guard also forces IEEE mode around each step, so a step called from inside a network scope is the
/// same). The entry points of NeuralNet (forward, backward, Adam) and of the agents (act, update) wrap themselves;
/// nested scopes cost two register reads.
public enum Subnormals {
    @inline(__always)
    public static func flushed<R>(_ body: () throws -> R) rethrows -> R {
        let saved = sp_fpenv_flush_begin()
        defer { sp_fpenv_restore(saved) }
        return try body()
    }

    /// Whether the calling thread flushes subnormals right now.
    public static var areFlushed: Bool { sp_fpenv_flushing() != 0 }

    /// How many values in `values` are subnormal (non-zero and smaller in magnitude than the least normal float).
    public static func count<C: Collection>(in values: C) -> Int where C.Element == Float {
        values.reduce(0) { $0 + ($1.isSubnormal ? 1 : 0) }
    }
}
