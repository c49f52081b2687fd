import CPlatform

/// Runs MuJoCo code in IEEE mode (gradual underflow, no flush-to-zero), whatever the calling thread set: Sparrow's
/// networks flush subnormals (NeuralNet's `Subnormals`), its physics must not, or simulations would stop matching
/// Gymnasium's bit for bit. The guarded step and forward calls (mjguard.c) do the same in C.
@inline(__always) func inIEEEMode<R>(_ body: () throws -> R) rethrows -> R {
    let saved = sp_fpenv_ieee_begin()
    defer { sp_fpenv_restore(saved) }
    return try body()
}
