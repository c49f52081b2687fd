import CPlatform

/// The CPU Sparrow runs on, as CPUID and the OS report it (the features the kernels and the BLAS choice use).
public struct CPUInfo: Sendable, Equatable {
    public let brand: String
    public let vendor: String
    public let family: Int
    public let model: Int
    public let hasAVX2FMA: Bool
    public let hasAVX512: Bool
    public let hasAVX512BF16: Bool

    public static let current: CPUInfo = {
        let f = sp_cpu()!.pointee
        let brand = withUnsafeBytes(of: f.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return CPUInfo(brand: brand.isEmpty ? "unknown" : brand, vendor: f.amd != 0 ? "AMD" : "other",
                       family: Int(f.family), model: Int(f.model), hasAVX2FMA: f.avx2_fma != 0,
                       hasAVX512: f.avx512 != 0, hasAVX512BF16: f.avx512_bf16 != 0)
    }()

    /// The vector features that matter here, e.g. ["avx2", "fma", "avx512"].
    public var features: [String] {
        (hasAVX2FMA ? ["avx2", "fma"] : []) + (hasAVX512 ? ["avx512f", "avx512bw", "avx512dq", "avx512vl"] : [])
            + (hasAVX512BF16 ? ["avx512_bf16"] : [])
    }

    /// "AMD EPYC (family 25 model 1; avx2 fma)".
    public var summary: String {
        "\(brand) (family \(family) model \(model); \(features.isEmpty ? "no AVX2" : features.joined(separator: " ")))"
    }
}

/// Which OpenBLAS kernel family runs the dense layers, and how it was chosen (see CPlatform/blascore.c: a generic
/// fallback on a CPU that OpenBLAS's model table does not know is replaced, before `main`, by the best family the
/// CPU's features support; a user's OPENBLAS_CORETYPE always wins).
public struct BLASCore: Sendable, Equatable {
    /// What OpenBLAS picked by itself at load time ("" if the BLAS is not OpenBLAS).
    public let detected: String
    /// The core in use.
    public let inUse: String
    /// OPENBLAS_CORETYPE was set by the user.
    public let userSet: Bool
    /// Sparrow replaced a generic fallback.
    public let changed: Bool
    /// A small sgemm on the core in use matched a plain reference (nil: not checked).
    public let verified: Bool?
    /// That check raised an illegal instruction: the core needs instructions this CPU lacks.
    public let illegalInstruction: Bool
    /// One line saying what happened.
    public let note: String

    public static var current: BLASCore {
        let i = sp_blas_core()!.pointee
        func text<T>(_ t: T) -> String { withUnsafeBytes(of: t) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
        return BLASCore(detected: text(i.detected), inUse: String(cString: sp_blas_core_name()), userSet: i.user_set != 0,
                        changed: i.changed != 0, verified: i.verified < 0 ? nil : i.verified == 1,
                        illegalInstruction: i.illegal != 0, note: text(i.note))
    }

    /// Whether `core` is one of OpenBLAS's pre-AVX2 families (a "model unknown" fallback on an AVX2 CPU).
    public static func isGeneric(_ core: String) -> Bool { sp_blas_core_is_generic(core) != 0 }
}
