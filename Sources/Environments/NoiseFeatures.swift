import SparrowCore

/// Grooten et al.'s noise features (ANF, AAMAS 2023, `--fake_features`): any environment whose observation gets
/// `noiseFeatures` extra features of i.i.d. N(0, 1) noise after its own, fresh at every step and reset. With a
/// fraction F of noise features, an environment with n real features gets round(n·F/(1 − F)) of them (F = 0.9:
/// nine for each real one), so noise makes up F of the observation.
///
/// The noise comes from the wrapper's own generator: reseeded from the seed a `reset(seed:)` is given (its stream
/// 0x4e4f495345 = "NOISE", so it never repeats the environment's own draws) and part of the checkpointed state, so
/// a resumed run sees the same noise as an uninterrupted one. The inner environment is untouched: rewards,
/// terminations and the real features are its own.
public final class NoiseFeaturesEnvironment: TrainingEnvironment {
    public let inner: any TrainingEnvironment
    public let realFeatures: Int
    public let noiseFeatures: Int
    public let observationSpace: BoxSpace
    private var generator: Generator
    private static let stream: UInt64 = 0x4e4f495345

    /// Noise features for a fraction `fraction` ∈ [0, 1) of the observation.
    public static func count(realFeatures n: Int, fraction: Double) -> Int {
        precondition(fraction >= 0 && fraction < 1)
        return Int((Double(n) * fraction / (1 - fraction)).rounded())
    }

    public init(_ inner: any TrainingEnvironment, fraction: Double, seed: UInt64 = 0) {
        self.inner = inner
        realFeatures = inner.observationSpace.dimension
        noiseFeatures = Self.count(realFeatures: realFeatures, fraction: fraction)
        observationSpace = BoxSpace(low: inner.observationSpace.low + .init(repeating: -.infinity, count: noiseFeatures),
                                    high: inner.observationSpace.high + .init(repeating: .infinity, count: noiseFeatures))
        generator = Generator(seed: seed).derived(Self.stream)
    }

    public var name: String { inner.name }
    public var actions: ActionSpace { inner.actions }
    public var dt: Double { inner.dt }

    private func fill(_ noise: UnsafeMutableBufferPointer<Double>) {
        for i in noise.indices { noise[i] = generator.normal() }
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) throws -> ResetInfo {
        if let seed { generator = Generator(seed: seed).derived(Self.stream) }
        let info = try inner.reset(seed: seed, observation: UnsafeMutableBufferPointer(rebasing: observation[0..<realFeatures]))
        fill(UnsafeMutableBufferPointer(rebasing: observation[realFeatures...]))
        return info
    }

    public func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws -> StepOutcome {
        let outcome = try inner.step(action: action, observation: UnsafeMutableBufferPointer(rebasing: observation[0..<realFeatures]))
        fill(UnsafeMutableBufferPointer(rebasing: observation[realFeatures...]))
        return outcome
    }

    public func encodeState(into w: inout ByteWriter) {
        inner.encodeState(into: &w)
        w.write(generator.stateWords)
    }

    public func decodeState(from r: inout ByteReader) throws {
        try inner.decodeState(from: &r)
        let words = try r.read([UInt64].self)
        guard words.count == 4 else { throw FormatError.corrupt("noise-feature generator has \(words.count) state words") }
        generator = Generator(stateWords: words)
    }
}
