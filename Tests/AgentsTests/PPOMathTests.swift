import Foundation
import SparrowCore
import XCTest
@testable import Agents

/// GAE against the direct sum on a hand-made trajectory, and PPO's clipped surrogate and its gradient against
/// finite differences.
final class PPOMathTests: XCTestCase {
    /// Nine steps: an episode that terminates at t = 2, one truncated (time limit) at t = 5, and one still running
    /// when the rollout ends at t = 8. Direct computation: A_t = Σ_k (γλ)^k δ_{t+k} over the steps up to and including
    /// the end of t's episode (or the rollout), δ_t = r_t + γ v′_t − V_t with v′ = 0 at the termination, V(final
    /// observation) at the truncation and V(s_{t+1}) elsewhere.
    func testGAEMatchesTheDirectSumWithATerminationAndATruncation() {
        let rewards: [Float] = [1, 0.5, -1, 2, 0, 1.5, 0.25, -0.5, 1]
        let values: [Float] = [0.3, -0.2, 0.8, 0.1, 0.4, -0.6, 0.9, 0.2, -0.1]
        let finalValueAtTruncation: Float = 0.7  // V of the observation the truncated episode ended in
        let nextAfterRollout: Float = 0.35       // V of the observation after the last step
        let ends: [Bool] = [false, false, true, false, false, true, false, false, false]
        var boot = [Float](repeating: 0, count: 9)
        for t in 0..<9 {
            if t == 2 { boot[t] = 0 } else if t == 5 { boot[t] = finalValueAtTruncation }
            else if t == 8 { boot[t] = nextAfterRollout } else { boot[t] = values[t + 1] }
        }
        let gamma: Float = 0.99, lambda: Float = 0.95
        var adv = [Float](repeating: .nan, count: 9), ret = adv
        generalizedAdvantages(rewards: rewards, values: values, bootstrapValues: boot, episodeEnds: ends, count: 9,
                              gamma: gamma, lambda: lambda, advantages: &adv, returns: &ret)
        let delta = (0..<9).map { Double(rewards[$0]) + Double(gamma) * Double(boot[$0]) - Double(values[$0]) }
        let lastOfEpisode = [2, 2, 2, 5, 5, 5, 8, 8, 8]
        for t in 0..<9 {
            var direct = 0.0
            for k in t...lastOfEpisode[t] { direct += pow(Double(gamma * lambda), Double(k - t)) * delta[k] }
            XCTAssertEqual(Double(adv[t]), direct, accuracy: 1e-5, "A_\(t)")
            XCTAssertEqual(Double(ret[t]), direct + Double(values[t]), accuracy: 1e-5, "R_\(t)")
        }
        // The truncated episode bootstraps: its last advantage is r + γ·V(final) − V, not r − V.
        XCTAssertEqual(Double(adv[5]), 1.5 + 0.99 * 0.7 + 0.6, accuracy: 1e-6)
        XCTAssertEqual(Double(adv[2]), -1 - 0.8, accuracy: 1e-6)
    }

    struct Minibatch {
        var output: [Float], rho: [Float], actions: [Float], oldLogProb: [Float], advantages: [Float]
    }

    /// Actions near the mean and old log-probs perturbed around the current ones, so some ratios fall inside
    /// [1 − ε, 1 + ε] and some outside on both sides, with advantages of both signs.
    func minibatch(policy: GaussianPolicy, B: Int, seed: UInt64) -> Minibatch {
        var g = Generator(seed: seed)
        let A = policy.actionCount
        let output = (0..<A * B).map { _ in Float(g.normal()) }
        let rho = (0..<A).map { _ in Float(g.uniform(-1, 0.5)) }
        let actions = (0..<A * B).map { _ in Float(g.uniform(-0.9, 0.9)) }
        var lp = [Float](repeating: 0, count: B)
        policy.logProb(output, rho: rho, actions: actions, batch: B, into: &lp)
        let old = lp.map { $0 + Float(g.uniform(-0.5, 0.5)) }
        let adv = (0..<B).map { _ in Float(g.normal()) }
        return Minibatch(output: output, rho: rho, actions: actions, oldLogProb: old, advantages: adv)
    }

    func loss(_ policy: GaussianPolicy, _ m: Minibatch, B: Int, clip: Float) -> Double {
        var lp = [Float](repeating: 0, count: B)
        policy.logProb(m.output, rho: m.rho, actions: m.actions, batch: B, into: &lp)
        var total = 0.0
        for b in 0..<B {
            let r = exp(Double(lp[b] - m.oldLogProb[b])), a = Double(m.advantages[b])
            total -= min(r * a, min(max(r, 1 - Double(clip)), 1 + Double(clip)) * a)
        }
        return total / Double(B)
    }

    func testClippedSurrogateAndItsGradientMatchFiniteDifferences() {
        let policy = GaussianPolicy(low: [-1, -2, 0], high: [1, 2, 3])
        let B = 32, A = policy.actionCount, clip: Float = 0.2
        var m = minibatch(policy: policy, B: B, seed: 4)
        var scratch = [Float](repeating: 0, count: B), dOut = [Float](repeating: 0, count: A * B), dRho = [Float](repeating: 0, count: A)
        let (value, fraction, approxKL) = policy.clippedSurrogate(m.output, rho: m.rho, actions: m.actions, oldLogProb: m.oldLogProb,
                                                                  advantages: m.advantages, batch: B, clip: clip, scratch: &scratch,
                                                                  outputGradient: &dOut, rhoGradient: &dRho)
        XCTAssertEqual(value, loss(policy, m, B: B, clip: clip), accuracy: 1e-6)
        // CleanRL's approx_kl, computed directly: mean((ρ − 1) − log ρ) ≥ 0; and the clip fraction counted directly.
        var lp = [Float](repeating: 0, count: B)
        policy.logProb(m.output, rho: m.rho, actions: m.actions, batch: B, into: &lp)
        let logRatios = (0..<B).map { Double(lp[$0] - m.oldLogProb[$0]) }
        XCTAssertEqual(approxKL, logRatios.map { exp($0) - 1 - $0 }.reduce(0, +) / Double(B), accuracy: 1e-6)
        XCTAssertGreaterThan(approxKL, 0)
        XCTAssertEqual(fraction, Double(logRatios.filter { abs(exp($0) - 1) > Double(clip) }.count) / Double(B), accuracy: 1e-9)
        XCTAssertGreaterThan(fraction, 0.1, "some ratios should be clipped")
        XCTAssertLessThan(fraction, 0.9, "some ratios should not be clipped")
        XCTAssertTrue(dOut.contains(0), "clipped samples have no gradient")
        let h: Float = 1e-3
        for i in 0..<A * B {
            let v = m.output[i]
            m.output[i] = v + h; let up = loss(policy, m, B: B, clip: clip)
            m.output[i] = v - h; let down = loss(policy, m, B: B, clip: clip)
            m.output[i] = v
            XCTAssertEqual(Double(dOut[i]), (up - down) / (2 * Double(h)), accuracy: 1e-3, "output \(i)")
        }
        for j in 0..<A {
            let v = m.rho[j]
            m.rho[j] = v + h; let up = loss(policy, m, B: B, clip: clip)
            m.rho[j] = v - h; let down = loss(policy, m, B: B, clip: clip)
            m.rho[j] = v
            let numeric = (up - down) / (2 * Double(h))
            XCTAssertEqual(Double(dRho[j]), numeric, accuracy: 1e-3 + 2e-3 * abs(numeric), "rho \(j)")
        }
    }

    /// Sampled actions have the log-probability `logProb` gives them, and σ starts at TF-Agents' 0.35.
    func testSampledLogProbabilitiesAndInitialStd() {
        let policy = GaussianPolicy(low: [-1, -1], high: [1, 1])
        let rho0 = GaussianPolicy.rho(forStd: 0.35)
        XCTAssertEqual(Double(GaussianPolicy.softplus(rho0)), 0.35, accuracy: 1e-6)
        var g = Generator(seed: 8)
        let B = 16
        let out = (0..<2 * B).map { _ in Float(g.normal()) }, noise = (0..<2 * B).map { _ in Float(g.normal()) }
        let rho: [Float] = [rho0, -0.3]
        var a = [Float](repeating: 0, count: 2 * B), lp = [Float](repeating: 0, count: B), lp2 = lp
        policy.sample(out, rho: rho, noise: noise, batch: B, action: &a, logProb: &lp)
        policy.logProb(out, rho: rho, actions: a, batch: B, into: &lp2)
        for b in 0..<B { XCTAssertEqual(lp[b], lp2[b], accuracy: 1e-4) }
    }
}
