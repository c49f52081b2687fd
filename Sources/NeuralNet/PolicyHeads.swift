import Foundation

/// How a policy network's outputs become the evaluation (deterministic) action; the raw values are what policy
/// files store.
public enum PolicyHeadKind: String, Codable, CaseIterable, Sendable {
    /// SAC: 2A outputs, means first; action = tanh(mean)·scale + offset (`GaussianTanhHead`).
    case gaussianTanh = "gaussian-tanh"
    /// TD3: A outputs; action = tanh(output)·scale + offset (`DeterministicTanhHead`).
    case deterministicTanh = "deterministic-tanh"
    /// DQN: one Q value per discrete action; action = argmax (the first on ties, as `tf.argmax`/`np.argmax`).
    case argmax = "argmax"

    /// Network outputs for `actions` action dimensions (for `argmax`: the number of choices).
    public func outputs(actions: Int) -> Int { self == .gaussianTanh ? 2 * actions : actions }
}

/// How the raw log-std output of a Gaussian policy is bounded.
public enum LogStdBounding: Codable, Equatable, Sendable {
    /// CleanRL: log σ = min + ½(max − min)(tanh(raw) + 1), i.e. [−5, 2] smoothly.
    case tanhRescale(min: Float, max: Float)
    /// SB3 / ANF / TF-Agents: log σ = clamp(raw, min, max), e.g. [−20, 2] (gradient 0 outside).
    case clamp(min: Float, max: Float)
}

/// Action bounds: action = tanh(u)·scale + offset with scale = (high − low)/2, offset = (high + low)/2.
public struct ActionBounds: Codable, Equatable, Sendable {
    public var scale: [Float]
    public var offset: [Float]
    public init(low: [Float], high: [Float]) {
        precondition(low.count == high.count && zip(low, high).allSatisfy { $0 < $1 }, "need low < high")
        scale = zip(low, high).map { ($1 - $0) / 2 }
        offset = zip(low, high).map { ($1 + $0) / 2 }
    }
    public static func symmetric(_ limit: Float, dimensions: Int) -> ActionBounds {
        ActionBounds(low: .init(repeating: -limit, count: dimensions), high: .init(repeating: limit, count: dimensions))
    }
    public var dimensions: Int { scale.count }
}

/// SAC's squashed Gaussian policy head (CleanRL `Actor.get_action`, SB3 `SquashedDiagGaussianDistribution`).
///
/// Input: the actor MLP's output, feature-major (2A × batch): rows 0..<A are the means μ, rows A..<2A the raw
/// log-stds. With fixed noise ε ~ N(0, 1) (reparameterisation):
///   log σ = bound(raw), u = μ + σ·ε, y = tanh(u), action = y·scale + offset,
///   log π(a|s) = Σ_j [ −ε_j²/2 − log σ_j − ½ log 2π − log(scale_j (1 − y_j²) + 1e-6) ]   (CleanRL; SB3 is scale 1).
/// `backward` returns ∂L/∂(MLP output) given ∂L/∂action and ∂L/∂log π, with ε held fixed.
public struct GaussianTanhHead: Codable, Equatable, Sendable {
    public var bounds: ActionBounds
    public var logStd: LogStdBounding
    public var epsilon: Float

    public init(bounds: ActionBounds, logStd: LogStdBounding = .tanhRescale(min: -5, max: 2), epsilon: Float = 1e-6) {
        self.bounds = bounds; self.logStd = logStd; self.epsilon = epsilon
    }

    public var actionDimensions: Int { bounds.dimensions }
    /// Width the actor MLP must output.
    public var inputWidth: Int { 2 * bounds.dimensions }

    @inline(__always) func boundedLogStd(_ raw: Float) -> (value: Float, derivative: Float) {
        switch logStd {
        case .tanhRescale(let lo, let hi):
            let t = Foundation.tanh(raw)
            return (lo + 0.5 * (hi - lo) * (t + 1), 0.5 * (hi - lo) * (1 - t * t))
        case .clamp(let lo, let hi):
            return raw < lo ? (lo, 0) : (raw > hi ? (hi, 0) : (raw, 1))
        }
    }

    /// Samples actions. `noise` (A × batch, feature-major) holds ε; writes `action` (A × batch) and `logProb` (batch).
    /// With `--threads` > 1 a training batch is split into ranges of samples (`Parallel.forRanges`); a sample's
    /// terms stay in one thread in the same order, so the numbers are the same for any thread count.
    public func sample(_ output: UnsafePointer<Float>, noise: UnsafePointer<Float>, batch: Int,
                       action: UnsafeMutablePointer<Float>, logProb: UnsafeMutablePointer<Float>) {
        let A = actionDimensions
        let halfLog2Pi = Float(0.5 * Foundation.log(2 * Double.pi))
        Self.splitBatch(batch, actions: A) { samples in
            for b in samples { logProb[b] = 0 }
            for j in 0..<A {
                let s = bounds.scale[j], c = bounds.offset[j]
                for b in samples {
                    let mu = output[j * batch + b]
                    let ls = boundedLogStd(output[(A + j) * batch + b]).value
                    let e = noise[j * batch + b]
                    let y = Foundation.tanh(mu + Foundation.exp(ls) * e)
                    action[j * batch + b] = y * s + c
                    logProb[b] += -0.5 * e * e - ls - halfLog2Pi - Foundation.log(s * (1 - y * y) + epsilon)
                }
            }
        }
    }

    /// Work (samples × action dimensions) below which the head stays on one thread: its libm calls cost ≈ 20 ns
    /// per sample and dimension, a parallel region about a microsecond, and acting (batch 1) never splits.
    static let parallelMinimumWork = 256

    /// Runs `body` over ranges of `0..<batch` (one range unless a split pays, see `parallelMinimumWork`).
    @inline(__always) static func splitBatch(_ batch: Int, actions: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forRanges(batch, totalWork: batch * actions, minimumWork: parallelMinimumWork, prefix: { $0 * actions },
                           body)
    }

    /// Deterministic (evaluation) action tanh(μ)·scale + offset.
    public func meanAction(_ output: UnsafePointer<Float>, batch: Int, action: UnsafeMutablePointer<Float>) {
        for j in 0..<actionDimensions {
            for b in 0..<batch { action[j * batch + b] = Foundation.tanh(output[j * batch + b]) * bounds.scale[j] + bounds.offset[j] }
        }
    }

    /// ∂L/∂output (2A × batch) from ∂L/∂action (A × batch) and ∂L/∂log π (batch), same `output` and `noise`.
    ///   ∂a/∂u = s(1 − y²);  ∂log π/∂u = 2 s y (1 − y²) / (s(1 − y²) + 1e-6);  ∂log π/∂log σ (direct) = −1;
    ///   ∂u/∂μ = 1;  ∂u/∂log σ = σε;  ∂log σ/∂raw from the bounding.
    public func backward(_ output: UnsafePointer<Float>, noise: UnsafePointer<Float>, batch: Int,
                         actionGradient: UnsafePointer<Float>, logProbGradient: UnsafePointer<Float>,
                         into outputGradient: UnsafeMutablePointer<Float>) {
        let A = actionDimensions
        Self.splitBatch(batch, actions: A) { samples in
            for j in 0..<A {
                let s = bounds.scale[j]
                for b in samples {
                    let mu = output[j * batch + b]
                    let (ls, dls) = boundedLogStd(output[(A + j) * batch + b])
                    let sigma = Foundation.exp(ls), e = noise[j * batch + b]
                    let y = Foundation.tanh(mu + sigma * e)
                    let q = 1 - y * y
                    let gL = logProbGradient[b]
                    let du = actionGradient[j * batch + b] * s * q + gL * 2 * s * y * q / (s * q + epsilon)
                    outputGradient[j * batch + b] = du
                    outputGradient[(A + j) * batch + b] = (du * sigma * e - gL) * dls
                }
            }
        }
    }
}

/// TD3's deterministic head: action = tanh(z)·scale + offset on the actor MLP's A × batch output.
public struct DeterministicTanhHead: Codable, Equatable, Sendable {
    public var bounds: ActionBounds
    public init(bounds: ActionBounds) { self.bounds = bounds }

    public var inputWidth: Int { bounds.dimensions }

    public func action(_ output: UnsafePointer<Float>, batch: Int, into action: UnsafeMutablePointer<Float>) {
        for j in 0..<bounds.dimensions {
            for b in 0..<batch { action[j * batch + b] = Foundation.tanh(output[j * batch + b]) * bounds.scale[j] + bounds.offset[j] }
        }
    }

    /// ∂L/∂z = ∂L/∂a · scale · (1 − tanh²z).
    public func backward(_ output: UnsafePointer<Float>, batch: Int, actionGradient: UnsafePointer<Float>,
                         into outputGradient: UnsafeMutablePointer<Float>) {
        for j in 0..<bounds.dimensions {
            for b in 0..<batch {
                let y = Foundation.tanh(output[j * batch + b])
                outputGradient[j * batch + b] = actionGradient[j * batch + b] * bounds.scale[j] * (1 - y * y)
            }
        }
    }
}
