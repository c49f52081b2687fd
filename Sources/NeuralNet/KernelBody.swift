import CKernels

/// Which body the hot C kernels (CKernels: sparse products, Adam, activations) run: the widest instruction set the
/// CPU has, chosen before `main`. Tests switch it to hold every body against the plain twins; `sparrow bench nn
/// --kernel-body` times each in one run. Results never depend on the thread count, but they may differ between
/// bodies in the last bits (see kernels.c: spmm, Adam and activations agree exactly between AVX2 and AVX-512).
public enum KernelBody: String, CaseIterable, Sendable {
    case portable, avx2, avx512

    var level: Int32 {
        switch self {
        case .portable: return Int32(SK_ISA_PORTABLE)
        case .avx2: return Int32(SK_ISA_AVX2)
        case .avx512: return Int32(SK_ISA_AVX512)
        }
    }

    init(level: Int32) {
        self = level == Int32(SK_ISA_AVX512) ? .avx512 : level == Int32(SK_ISA_AVX2) ? .avx2 : .portable
    }

    /// The body in use now.
    public static var current: KernelBody { KernelBody(level: sk_isa()) }
    /// The body chosen at load time (the widest this CPU runs).
    public static var best: KernelBody { KernelBody(level: sk_best_isa()) }
    /// Bodies this CPU can run, widest first.
    public static var available: [KernelBody] { allCases.reversed().filter { $0.level <= sk_best_isa() } }

    /// Switches to `body`; false (and nothing changed) if this CPU cannot run it.
    @discardableResult
    public static func use(_ body: KernelBody) -> Bool { sk_set_isa(body.level) == 1 }
}
