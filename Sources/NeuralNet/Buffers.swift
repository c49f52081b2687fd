import COpenBLAS

/// A fixed-size, zero-initialised Float32 buffer that owns its memory (`deinit` frees it).
///
/// Workspaces are made of these so the hot path hands raw pointers to kernels without copy-on-write checks or
/// exclusivity conflicts between buffers. They are sized once (per batch size) and reused: nothing in a training
/// step allocates.
public final class FloatBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Alignment of every buffer: a cache line, so that a row whose length is a multiple of 16 floats (batch 256,
    /// 64, 32) starts a line and no AVX-512 load of it straddles two. malloc's 16 bytes left each such load split
    /// over two lines whenever the buffer happened to start 16, 32 or 48 bytes into one: the sparse kernels ran at
    /// two speeds (~60 µs and ~78 µs for one 256 × 256 product at density 0.1) from one run to the next.
    public static let alignment = 64

    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: Self.alignment)
            .bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    @inline(__always) public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    /// Copies `values` to the start of the buffer (`values.count ≤ count`).
    public func copy(from values: [Float]) {
        precondition(values.count <= count, "copy of \(values.count) values into a buffer of \(count)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }
}

/// Feature-major batch layout used by every layer: value of feature `f` for sample `b` is at `f * batch + b`.
///
/// Agents usually hold samples batch-major (one observation after another); these helpers transpose.
public enum BatchLayout {
    /// `rows` samples of `features` values each, sample-major → feature-major into `out`.
    public static func featureMajor(_ sampleMajor: UnsafePointer<Float>, samples: Int, features: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        for s in 0..<samples {
            for f in 0..<features { out[f * samples + s] = sampleMajor[s * features + f] }
        }
    }

    /// Feature-major → sample-major.
    public static func sampleMajor(_ featureMajor: UnsafePointer<Float>, samples: Int, features: Int,
                                   into out: UnsafeMutablePointer<Float>) {
        for f in 0..<features {
            for s in 0..<samples { out[s * features + f] = featureMajor[f * samples + s] }
        }
    }
}

/// OpenBLAS threading. Sparrow uses one BLAS thread by default (set the first time a network or dense layer is
/// built): the sparse kernels are single-threaded, and several training runs usually share the machine.
public enum BLASThreads {
    static let defaultOnce: Void = { openblas_set_num_threads(1) }()

    /// Applies the default (1 thread) unless `set` was called first.
    public static func ensureConfigured() { _ = defaultOnce }

    /// Sets the number of OpenBLAS threads used by dense layers.
    public static func set(_ n: Int) {
        precondition(n >= 1, "BLAS thread count must be ≥ 1, got \(n)")
        _ = defaultOnce
        openblas_set_num_threads(Int32(n))
    }
}

extension Array where Element: Numeric {
    /// Makes the count `n`, keeping the storage: a uniquely held array shrinks in place and grows within its
    /// capacity (appending zeros), so a target layer whose live count drifts by a few entries does not reallocate.
    /// Contents up to the old count are kept; callers that need zeros fill them.
    mutating func resize(to n: Int) {
        if count > n {
            removeLast(count - n)
        } else if count < n {
            append(contentsOf: repeatElement(0, count: n - count))
        }
    }
}
