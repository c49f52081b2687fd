import Foundation

/// PPO's clipped surrogate for a diagonal Gaussian policy in TF-Agents' parameterisation (rigl/rl
/// `sparse_ppo_actor_network.py`): the network's A outputs o give the mean μ = mid + half·tanh(o) inside the action
/// bounds, and a state-independent parameter ρ per action gives σ = softplus(ρ).
///
///     log π(a|s) = Σ_j −½((a_j − μ_j)/σ_j)² − log σ_j − ½ log 2π
///     r = exp(log π(a|s) − log π_old(a|s))
///     loss = −mean_b min(r_b·Â_b, clip(r_b, 1 − ε, 1 + ε)·Â_b)
///
/// Â are the minibatch's advantages, already normalised. Where the clipped term is the smaller one the sample's
/// gradient is 0 (it is constant in θ); elsewhere ∂loss/∂log π = −r·Â/B.
public struct GaussianPolicy: Sendable {
    public let mid: [Float]
    public let half: [Float]

    public init(low: [Double], high: [Double]) {
        mid = zip(low, high).map { Float(($0 + $1) / 2) }
        half = zip(low, high).map { Float(($1 - $0) / 2) }
    }

    public var actionCount: Int { mid.count }

    static let halfLogTwoPi = Float(0.5 * Foundation.log(2 * Double.pi))

    @inline(__always) static func softplus(_ x: Float) -> Float { x > 20 ? x : Foundation.log1p(Foundation.exp(x)) }
    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    /// The parameter ρ whose softplus is σ (TF-Agents' initial σ 0.35: ρ = log(e^0.35 − 1)).
    public static func rho(forStd std: Double) -> Float { Float(Foundation.log(Foundation.expm1(std))) }

    /// Mean actions of a batch (feature-major outputs [A][B]) into `action` ([A][B]).
    public func mean(_ output: UnsafePointer<Float>, batch B: Int, into action: UnsafeMutablePointer<Float>) {
        for j in 0..<actionCount {
            for b in 0..<B { action[j * B + b] = mid[j] + half[j] * Foundation.tanh(output[j * B + b]) }
        }
    }

    /// Samples a = μ + σ·noise and returns each sample's log-probability.
    public func sample(_ output: UnsafePointer<Float>, rho: UnsafePointer<Float>, noise: UnsafePointer<Float>, batch B: Int,
                       action: UnsafeMutablePointer<Float>, logProb: UnsafeMutablePointer<Float>) {
        mean(output, batch: B, into: action)
        for b in 0..<B { logProb[b] = 0 }
        for j in 0..<actionCount {
            let sigma = Self.softplus(rho[j]), logSigma = Foundation.log(sigma)
            for b in 0..<B {
                let z = noise[j * B + b]
                action[j * B + b] += sigma * z
                logProb[b] += -0.5 * z * z - logSigma - Self.halfLogTwoPi
            }
        }
    }

    /// log π(a|s) of given actions ([A][B]).
    public func logProb(_ output: UnsafePointer<Float>, rho: UnsafePointer<Float>, actions: UnsafePointer<Float>, batch B: Int,
                        into logProb: UnsafeMutablePointer<Float>) {
        for b in 0..<B { logProb[b] = 0 }
        for j in 0..<actionCount {
            let sigma = Self.softplus(rho[j]), logSigma = Foundation.log(sigma)
            for b in 0..<B {
                let mu = mid[j] + half[j] * Foundation.tanh(output[j * B + b])
                let z = (actions[j * B + b] - mu) / sigma
                logProb[b] += -0.5 * z * z - logSigma - Self.halfLogTwoPi
            }
        }
    }

    /// The clipped surrogate loss of a minibatch; writes ∂loss/∂output ([A][B]) and ∂loss/∂ρ (A values, overwritten).
    /// Returns the loss, the fraction of samples whose ratio was clipped and CleanRL's approximate KL divergence
    /// mean((ρ − 1) − log ρ) between the policy that collected the rollout and this one (PPO diagnostics).
    public func clippedSurrogate(_ output: UnsafePointer<Float>, rho: UnsafePointer<Float>, actions: UnsafePointer<Float>,
                                 oldLogProb: UnsafePointer<Float>, advantages: UnsafePointer<Float>, batch B: Int,
                                 clip epsilon: Float, scratch logProb: UnsafeMutablePointer<Float>,
                                 outputGradient: UnsafeMutablePointer<Float>, rhoGradient: UnsafeMutablePointer<Float>)
        -> (loss: Double, clipFraction: Double, approxKL: Double) {
        self.logProb(output, rho: rho, actions: actions, batch: B, into: logProb)
        var loss = 0.0, clipped = 0, kl = 0.0
        // Reuse the log-prob scratch for ∂loss/∂log π per sample.
        for b in 0..<B {
            let logRatio = logProb[b] - oldLogProb[b]
            let ratio = Foundation.exp(logRatio), adv = advantages[b]
            kl += Double(ratio - 1 - logRatio)
            let bounded = min(max(ratio, 1 - epsilon), 1 + epsilon)
            let unclippedTerm = ratio * adv, clippedTerm = bounded * adv
            if bounded != ratio { clipped += 1 }
            loss -= Double(min(unclippedTerm, clippedTerm))
            logProb[b] = unclippedTerm <= clippedTerm ? -ratio * adv / Float(B) : 0
        }
        for j in 0..<actionCount {
            let sigma = Self.softplus(rho[j]), dSigma = Self.sigmoid(rho[j])
            var dRho: Float = 0
            for b in 0..<B {
                let t = Foundation.tanh(output[j * B + b])
                let diff = actions[j * B + b] - (mid[j] + half[j] * t)
                let g = logProb[b]  // ∂loss/∂log π of sample b
                // ∂log π/∂μ = diff/σ², ∂μ/∂o = half·(1 − t²); ∂log π/∂σ = diff²/σ³ − 1/σ.
                outputGradient[j * B + b] = g * diff / (sigma * sigma) * half[j] * (1 - t * t)
                dRho += g * (diff * diff / (sigma * sigma * sigma) - 1 / sigma) * dSigma
            }
            rhoGradient[j] = dRho
        }
        return (loss / Double(B), Double(clipped) / Double(B), kl / Double(B))
    }
}
