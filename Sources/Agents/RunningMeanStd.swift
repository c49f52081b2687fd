import SparrowCore

/// Per-feature streaming mean and variance, merged one batch at a time (Chan, Golub & LeVeque's parallel update, in
/// Double, so the result does not depend on how the data was split into batches beyond rounding). PPO normalises
/// observations and scales rewards with it, as TF-Agents' `StreamingTensorNormalizer` in `PPOClipAgent`.
///
/// Before the first batch the statistics are mean 0 and variance 1 (CleanRL's `RunningMeanStd` start), so the
/// first rollout sees its observations almost unchanged. TF-Agents starts from a zero variance, which multiplies
/// the first rollout's observations by 1/√ε ≈ 32 before clipping; Sparrow does not copy that.
public struct RunningMeanStd: Equatable, Sendable {
    public private(set) var count: Double = 0
    public private(set) var mean: [Double]
    /// Population variance.
    public private(set) var variance: [Double]

    /// TF-Agents' observation normalisation: ε under the square root, clip to ±5.
    public static let observationEpsilon = 1e-3, observationClip = 5.0

    public init(dimension: Int) {
        mean = [Double](repeating: 0, count: dimension)
        variance = [Double](repeating: 1, count: dimension)
    }

    public var dimension: Int { mean.count }

    /// Merges `rows` samples stored sample-major (`rows × dimension`, sample after sample).
    public mutating func update(_ samples: UnsafePointer<Float>, rows n: Int) {
        guard n > 0 else { return }
        let d = dimension, nb = Double(n)
        for j in 0..<d {
            var s = 0.0
            for i in 0..<n { s += Double(samples[i * d + j]) }
            let batchMean = s / nb
            var q = 0.0
            for i in 0..<n { let e = Double(samples[i * d + j]) - batchMean; q += e * e }
            if count == 0 {
                mean[j] = batchMean
                variance[j] = q / nb
            } else {
                let total = count + nb, delta = batchMean - mean[j]
                let m2 = variance[j] * count + q + delta * delta * count * nb / total
                mean[j] += delta * nb / total
                variance[j] = m2 / total
            }
        }
        count += nb
    }

    /// (x − μ)/√(σ² + ε), clipped to ±`clip` (TF-Agents' `normalize`: ε 1e-3, clip 5 for observations).
    @inline(__always)
    public func normalize(_ x: Double, feature j: Int, epsilon: Double = observationEpsilon,
                          clip: Double = observationClip) -> Float {
        let z = (x - mean[j]) / (variance[j] + epsilon).squareRoot()
        return Float(min(max(z, -clip), clip))
    }

    /// `normalize` with these statistics frozen, for an exported policy.
    public func normalization(epsilon: Double = observationEpsilon, clip: Double = observationClip) -> DeterministicPolicy.InputNormalization {
        DeterministicPolicy.InputNormalization(mean: mean, std: variance.map { ($0 + epsilon).squareRoot() }, clip: clip)
    }

    /// x/√(σ² + ε), clipped to ±`clip`: TF-Agents' reward normalisation (`center_mean=False`, clip 10).
    @inline(__always)
    public func scale(_ x: Double, feature j: Int = 0, epsilon: Double = 1e-3, clip: Double = 10) -> Float {
        let z = x / (variance[j] + epsilon).squareRoot()
        return Float(min(max(z, -clip), clip))
    }

    func encode(into w: inout ByteWriter) {
        w.write(count); w.write(mean); w.write(variance)
    }

    static func decode(from r: inout ByteReader, dimension: Int) throws -> RunningMeanStd {
        var s = RunningMeanStd(dimension: dimension)
        s.count = try r.read(Double.self)
        s.mean = try r.read([Double].self)
        s.variance = try r.read([Double].self)
        guard s.mean.count == dimension && s.variance.count == dimension else {
            throw FormatError.corrupt("normalizer has \(s.mean.count) features, expected \(dimension)")
        }
        return s
    }
}
