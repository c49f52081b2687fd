/// NumPy's seeding and its default generator, bit for bit, for tasks whose parity with Gymnasium depends on NumPy's
/// random numbers: ale-py's AtariEnv derives the emulator's seed and the no-op count of Gymnasium's
/// AtariPreprocessing from `np.random.SeedSequence` and `np.random.Generator(PCG64)`.
///
/// Written from NumPy's sources: `numpy/random/bit_generator.pyx` (SeedSequence: `_coerce_to_uint32_array`,
/// `mix_entropy`, `generate_state`), `numpy/random/src/pcg64/pcg64.{h,c}` (`pcg64_set_seed`, XSL-RR output, the
/// 32-bit half buffer of `pcg64_next32`) and `numpy/random/src/distributions/distributions.c`
/// (`buffered_bounded_lemire_uint32`). Tests hold each against values recorded from NumPy 2.x.
/// Sparrow's own randomness stays on `Generator`; this exists only to reproduce another program's draws.

/// `np.random.SeedSequence(entropy)` without spawn keys: a pool of four 32-bit words mixed from the entropy.
public struct NumPySeedSequence: Equatable, Sendable {
    public private(set) var pool: [UInt32]

    static let initA: UInt32 = 0x43b0_d7e5, multA: UInt32 = 0x931e_8875
    static let initB: UInt32 = 0x8b51_f9dd, multB: UInt32 = 0x58f3_8ded
    static let mixMultL: UInt32 = 0xca01_f9dd, mixMultR: UInt32 = 0x4973_f715
    static let poolSize = 4

    /// `SeedSequence(entropy)` for a non-negative integer entropy (Python's int, here up to 64 bits).
    public init(_ entropy: UInt64) {
        // _coerce_to_uint32_array: the integer's little-endian 32-bit words; 0 is one word [0].
        var words: [UInt32] = []
        var x = entropy
        repeat { words.append(UInt32(truncatingIfNeeded: x)); x >>= 32 } while x > 0
        self.init(entropyWords: words)
    }

    /// `SeedSequence` from the entropy as 32-bit words (what NumPy assembles before mixing).
    public init(entropyWords entropy: [UInt32]) {
        var hashConst = Self.initA
        func hashmix(_ v: UInt32) -> UInt32 {
            var value = v ^ hashConst
            hashConst &*= Self.multA
            value &*= hashConst
            value ^= value >> 16
            return value
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            var r = Self.mixMultL &* x &- Self.mixMultR &* y
            r ^= r >> 16
            return r
        }
        var mixer = [UInt32](repeating: 0, count: Self.poolSize)
        for i in 0..<Self.poolSize { mixer[i] = hashmix(i < entropy.count ? entropy[i] : 0) }
        for src in 0..<Self.poolSize {
            for dst in 0..<Self.poolSize where src != dst { mixer[dst] = mix(mixer[dst], hashmix(mixer[src])) }
        }
        if entropy.count > Self.poolSize {
            for src in Self.poolSize..<entropy.count {
                for dst in 0..<Self.poolSize { mixer[dst] = mix(mixer[dst], hashmix(entropy[src])) }
            }
        }
        pool = mixer
    }

    /// `generate_state(n_words)` with dtype uint32.
    public func generateState(words n: Int) -> [UInt32] {
        var hashConst = Self.initB
        return (0..<n).map { i in
            var v = pool[i % Self.poolSize] ^ hashConst
            hashConst &*= Self.multB
            v &*= hashConst
            v ^= v >> 16
            return v
        }
    }

    /// `generate_state(n_words, np.uint64)`: twice as many 32-bit words, paired little-endian.
    public func generateState64(words n: Int) -> [UInt64] {
        let w = generateState(words: 2 * n)
        return (0..<n).map { UInt64(w[2 * $0]) | UInt64(w[2 * $0 + 1]) << 32 }
    }
}

/// NumPy's `PCG64` bit generator (PCG XSL-RR 128/64) with its 32-bit half buffer, and the `Generator.integers`
/// draw Gymnasium uses. A value type: copying forks the stream.
public struct NumPyPCG64: Equatable, Sendable {
    // The 128-bit state and increment as (high, low) words.
    public private(set) var stateHigh: UInt64, stateLow: UInt64
    public private(set) var incHigh: UInt64, incLow: UInt64
    /// `pcg64_next32` hands out the upper half of a 64-bit draw on the next call.
    public private(set) var hasUInt32 = false
    public private(set) var uinteger: UInt32 = 0

    static let multHigh: UInt64 = 2_549_297_995_355_413_924, multLow: UInt64 = 4_865_540_595_714_422_341

    /// `PCG64(seed_seq)`: state and increment from `seed_seq.generate_state(4, np.uint64)`.
    public init(_ seq: NumPySeedSequence) {
        let v = seq.generateState64(words: 4)
        // pcg64_set_seed: seed = (v[0] << 64) | v[1], inc = (v[2] << 64) | v[3]; pcg_setseq_128_srandom_r.
        let initSeq = (high: v[2], low: v[3])
        incHigh = initSeq.high << 1 | initSeq.low >> 63
        incLow = initSeq.low << 1 | 1
        stateHigh = 0; stateLow = 0
        step()
        let (low, carry) = stateLow.addingReportingOverflow(v[1])
        stateLow = low
        stateHigh = stateHigh &+ v[0] &+ (carry ? 1 : 0)
        step()
    }

    /// `np.random.default_rng(seed)` / Gymnasium's `seeding.np_random(seed)`: PCG64 over `SeedSequence(seed)`.
    public init(seed: UInt64) { self.init(NumPySeedSequence(seed)) }

    /// state = state × multiplier + increment (mod 2¹²⁸).
    @inline(__always)
    mutating func step() {
        let lowProduct = stateLow.multipliedFullWidth(by: Self.multLow)
        let high = lowProduct.high &+ stateHigh &* Self.multLow &+ stateLow &* Self.multHigh
        let (low, carry) = lowProduct.low.addingReportingOverflow(incLow)
        stateLow = low
        stateHigh = high &+ incHigh &+ (carry ? 1 : 0)
    }

    /// `pcg64_next64`: advance, then the XSL-RR output of the new state.
    public mutating func next64() -> UInt64 {
        step()
        let x = stateHigh ^ stateLow
        let rot = stateHigh >> 58
        return x >> rot | x << ((64 &- rot) & 63)
    }

    /// `pcg64_next32`: the low half of a 64-bit draw, keeping the high half for the next call.
    public mutating func next32() -> UInt32 {
        if hasUInt32 { hasUInt32 = false; return uinteger }
        let n = next64()
        hasUInt32 = true
        uinteger = UInt32(truncatingIfNeeded: n >> 32)
        return UInt32(truncatingIfNeeded: n)
    }

    /// `Generator.integers(low, high)` (int64, high exclusive) for a range that fits 32 bits, as NumPy draws it:
    /// Lemire's multiply-and-reject on `next32` (`buffered_bounded_lemire_uint32`).
    public mutating func integers(_ low: Int, _ high: Int) -> Int {
        precondition(high > low && high - low <= 1 << 32, "integers(\(low), \(high)): an empty or too wide range")
        let rng = UInt32(truncatingIfNeeded: high - 1 - low)  // NumPy's inclusive span
        if rng == 0 { return low }
        if rng == .max { return low + Int(next32()) }
        let rngExcl = rng + 1
        var m = UInt64(next32()) * UInt64(rngExcl)
        var leftover = UInt32(truncatingIfNeeded: m)
        if leftover < rngExcl {
            let threshold = (UInt32.max - rng) % rngExcl
            while leftover < threshold {
                m = UInt64(next32()) * UInt64(rngExcl)
                leftover = UInt32(truncatingIfNeeded: m)
            }
        }
        return low + Int(m >> 32)
    }

    /// The whole state as words, for checkpoints.
    public var stateWords: [UInt64] { [stateHigh, stateLow, incHigh, incLow, hasUInt32 ? 1 : 0, UInt64(uinteger)] }

    public init?(stateWords w: [UInt64]) {
        guard w.count == 6, w[4] <= 1, w[5] <= UInt64(UInt32.max), w[3] & 1 == 1 else { return nil }
        stateHigh = w[0]; stateLow = w[1]; incHigh = w[2]; incLow = w[3]
        hasUInt32 = w[4] == 1; uinteger = UInt32(w[5])
    }
}
