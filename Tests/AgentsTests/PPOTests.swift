import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Agents

/// The PPO agent's own machinery: streaming normalisers, the wiring of a rollout into values, bootstraps and
/// advantages, global-norm clipping, acting, and its checkpoint state.
final class PPOTests: XCTestCase {
    func config(_ method: AgentConfig.Method = .set, sparsity: Double = 0.9) -> AgentConfig {
        var c = AgentConfig()
        c.algorithm = .ppo
        c.method = method
        c.sparsity = method == .dense ? 0 : sparsity
        c.grow = method == .rigl ? .gradient : .random  // the method names its growth (AgentConfig.validate)
        c.distribution = .erk
        c.denseOutputLayer = false
        c.hidden = [16, 16]
        c.activation = .tanh
        c.valueActivation = .relu
        c.initialization = method == .dense ? .orthogonal : .sparsityAware
        c.batchSize = 8
        c.rolloutSteps = 32
        c.epochs = 2
        c.updateInterval = 3
        return c
    }

    func agent(_ c: AgentConfig, seed: UInt64 = 3) throws -> PPO {
        try PPO(config: c, observationSize: 5, actionLow: [-1, -2], actionHigh: [1, 0.5], totalIterations: 4, seed: seed)
    }

    /// Chunks merged one after another give the mean and population variance of the whole, per feature.
    func testRunningMeanStdMergesBatchesExactly() {
        var g = Generator(seed: 9)
        let d = 3, sizes = [1, 7, 30, 2]
        var all: [Float] = []
        var stats = RunningMeanStd(dimension: d)
        XCTAssertEqual(stats.variance, [1, 1, 1])  // before any data: unit variance
        for n in sizes {
            let chunk = (0..<n * d).map { i in Float(g.normal() * Double(i % d + 1) + Double(i % d) * 10) }
            all += chunk
            stats.update(chunk, rows: n)
        }
        let n = all.count / d
        for j in 0..<d {
            let column = (0..<n).map { Double(all[$0 * d + j]) }
            let mean = column.reduce(0, +) / Double(n)
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            XCTAssertEqual(stats.mean[j], mean, accuracy: 1e-9)
            XCTAssertEqual(stats.variance[j], variance, accuracy: 1e-9 * max(1, variance))
        }
        XCTAssertEqual(stats.count, Double(n))
        XCTAssertEqual(stats.normalize(stats.mean[1] + 100, feature: 1), 5)  // clipped at 5
        XCTAssertEqual(stats.scale(-1e9), -10)                                // rewards clipped at 10
    }

    /// A rollout with a termination, a truncation and a running episode at its end: the values are V of the
    /// normalised observations, the truncated step bootstraps from V(final observation) — not from the next
    /// stored observation — the terminated one from 0, the last from V(next); advantages are GAE over them.
    func testBeginLearningBootstrapsTruncationsFromTheFinalObservation() throws {
        var c = config(.dense)
        c.normalizeRewards = false
        let ppo = try agent(c)
        let rollout = RolloutBuffer(capacity: 32, observationSize: 5, actionSize: 2)
        var g = Generator(seed: 1)
        func observation() -> [Double] { (0..<5).map { _ in g.normal() * 2 + 1 } }
        var obs = observation()
        var finals: [Int: [Double]] = [:]
        for t in 0..<32 {
            let next = observation()
            var action = [Float](repeating: 0, count: 2)
            let lp = obs.withUnsafeBufferPointer { o in action.withUnsafeMutableBufferPointer { ppo.sample(o, into: $0) } }
            let terminated = t == 9, truncated = t == 20
            if truncated || t == 31 { finals[t] = next }
            obs.withUnsafeBufferPointer { o in
                action.withUnsafeBufferPointer { a in
                    next.withUnsafeBufferPointer { n in
                        rollout.add(observation: o, action: a, logProb: lp, reward: Double(t % 3) - 0.5,
                                    terminated: terminated, truncated: truncated, next: n)
                    }
                }
            }
            obs = (terminated || truncated) ? observation() : next  // a reset after an episode's end
        }
        XCTAssertTrue(rollout.isFull)
        ppo.beginLearning(rollout)
        XCTAssertTrue(rollout.isLearning)
        let stats = ppo.observationStats
        XCTAssertEqual(stats.count, 32)  // updated with the rollout before the values
        func v(_ o: [Float]) -> Float {
            let input = (0..<5).map { stats.normalize(Double(o[$0]), feature: $0) }
            return ppo.value.predict(input, batch: 1)[0]
        }
        for t in 0..<32 {
            let o = Array(rollout.observations[t * 5..<(t + 1) * 5])
            XCTAssertEqual(rollout.values[t], v(o), accuracy: 1e-5, "V_\(t)")
        }
        XCTAssertEqual(rollout.bootstrapValues[9], 0)
        XCTAssertEqual(rollout.bootstrapValues[20], v(finals[20]!.map(Float.init)), accuracy: 1e-5)
        XCTAssertNotEqual(rollout.bootstrapValues[20], rollout.values[21])
        XCTAssertEqual(rollout.bootstrapValues[31], v(finals[31]!.map(Float.init)), accuracy: 1e-5)
        XCTAssertEqual(rollout.bootstrapValues[5], rollout.values[6])
        // GAE over the stored values, rewards and bootstraps.
        var adv = [Float](repeating: 0, count: 32), ret = adv
        let rewards = (0..<32).map { Float($0 % 3) - 0.5 }
        generalizedAdvantages(rewards: rewards, values: rollout.values, bootstrapValues: rollout.bootstrapValues,
                              episodeEnds: rollout.episodeEnds, count: 32, gamma: 0.99, lambda: 0.95,
                              advantages: &adv, returns: &ret)
        XCTAssertEqual(adv, rollout.advantages)
        XCTAssertEqual(ret, rollout.returns)
        XCTAssertEqual(Set(rollout.permutation), Set(0..<32))
        // Learning runs 2 epochs × 4 minibatches, then the rollout is free again.
        for k in 0..<8 {
            XCTAssertTrue(rollout.isLearning)
            let m = try ppo.learnMinibatch(rollout)
            XCTAssertTrue(m.actorLoss.isFinite && m.criticLoss.isFinite, "minibatch \(k)")
        }
        XCTAssertFalse(rollout.isLearning)
        XCTAssertEqual(rollout.count, 0)
        XCTAssertEqual(ppo.updates, 8)
        XCTAssertEqual(ppo.iterations, 1)
    }

    /// Gradients above the limit are scaled to global norm exactly `max-grad-norm` (over both networks and ρ,
    /// absent connections of masked layers excluded); below it they are untouched.
    func testGlobalNormClipping() throws {
        for backend in [LayerBackend.sparse, .masked] {
            var c = config(.static)
            c.backend = backend
            c.maxGradNorm = 0.5
            let ppo = try agent(c)
            var g = Generator(seed: 4)
            let tensors = ppo.actor.parameters + ppo.value.parameters + [ppo.rho]
            func fill(_ scale: Double) {
                for p in tensors { p.gradients = p.gradients.indices.map { _ in Float(g.normal() * scale) } }
            }
            func norm() -> Double {
                tensors.reduce(0.0) { sum, p in
                    sum + p.gradients.indices.reduce(0.0) { s, i in
                        (p.mask?[i] ?? 1) == 0 ? s : s + Double(p.gradients[i]) * Double(p.gradients[i])
                    }
                }.squareRoot()
            }
            fill(1)
            let before = norm(), copy = tensors.map(\.gradients)
            XCTAssertGreaterThan(before, 0.5)
            ppo.clipGlobalNorm()
            XCTAssertEqual(norm(), 0.5, accuracy: 1e-5, "\(backend)")
            for (p, old) in zip(tensors, copy) {
                for i in old.indices { XCTAssertEqual(p.gradients[i], old[i] * Float(0.5 / before), accuracy: 1e-6) }
            }
            fill(1e-4)
            let small = tensors.map(\.gradients)
            ppo.clipGlobalNorm()
            XCTAssertEqual(tensors.map(\.gradients), small)
        }
    }

    /// Deterministic actions are the mean mid + half·tanh(o), inside the bounds; sampled ones clipped to them.
    func testActionsStayInBounds() throws {
        let ppo = try agent(config(.dense))
        var g = Generator(seed: 5)
        for _ in 0..<50 {
            let o = (0..<5).map { _ in g.normal() * 3 }
            var a = [Float](repeating: 0, count: 2), s = a
            o.withUnsafeBufferPointer { p in a.withUnsafeMutableBufferPointer { ppo.act(p, deterministic: true, into: $0) } }
            o.withUnsafeBufferPointer { p in s.withUnsafeMutableBufferPointer { ppo.act(p, deterministic: false, into: $0) } }
            let out = ppo.actor.predict(o.map(Float.init).enumerated().map { ppo.observationStats.normalize(Double($0.element), feature: $0.offset) }, batch: 1)
            XCTAssertEqual(a[0], tanh(out[0]), accuracy: 1e-6)
            XCTAssertEqual(a[1], -0.75 + 1.25 * tanh(out[1]), accuracy: 1e-6)
            XCTAssertTrue(s[0] >= -1 && s[0] <= 1 && s[1] >= -2 && s[1] <= 0.5)
        }
    }

    /// The checkpoint state restores an agent that acts, samples and learns exactly as the original.
    func testCheckpointStateContinuesExactly() throws {
        let c = config(.rigl)
        let a = try agent(c), b = try agent(c, seed: 99)
        let rollout = RolloutBuffer(capacity: 32, observationSize: 5, actionSize: 2)
        var g = Generator(seed: 2)
        func fill(_ ppo: PPO, _ r: RolloutBuffer) {
            for t in 0..<32 {
                let o = (0..<5).map { _ in g.normal() }
                var act = [Float](repeating: 0, count: 2)
                let lp = o.withUnsafeBufferPointer { p in act.withUnsafeMutableBufferPointer { ppo.sample(p, into: $0) } }
                o.withUnsafeBufferPointer { p in act.withUnsafeBufferPointer { q in
                    r.add(observation: p, action: q, logProb: lp, reward: Double(t % 4), terminated: t == 12, truncated: false, next: p)
                } }
            }
        }
        fill(a, rollout)
        a.beginLearning(rollout)
        for _ in 0..<5 { _ = try a.learnMinibatch(rollout) }  // mid-epoch, after topology updates at 3
        var w = ByteWriter()
        try a.encode(into: &w)
        var rw = ByteWriter()
        rollout.encode(into: &rw)
        var r = ByteReader(w.bytes)
        try b.decode(from: &r)
        XCTAssertTrue(r.isAtEnd)
        let copy = RolloutBuffer(capacity: 32, observationSize: 5, actionSize: 2)
        var rr = ByteReader(rw.bytes)
        try copy.decode(from: &rr)
        XCTAssertTrue(rr.isAtEnd)
        for _ in 0..<3 {
            let ma = try a.learnMinibatch(rollout), mb = try b.learnMinibatch(copy)
            XCTAssertEqual(ma.actorLoss, mb.actorLoss)
            XCTAssertEqual(ma.criticLoss, mb.criticLoss)
        }
        let o = [0.1, -0.2, 0.3, 0.4, -0.5]
        var x = [Float](repeating: 0, count: 2), y = x
        _ = o.withUnsafeBufferPointer { p in x.withUnsafeMutableBufferPointer { a.sample(p, into: $0) } }
        _ = o.withUnsafeBufferPointer { p in y.withUnsafeMutableBufferPointer { b.sample(p, into: $0) } }
        XCTAssertEqual(x, y)
        XCTAssertEqual(a.actor.layers.map(\.positions), b.actor.layers.map(\.positions))
        XCTAssertEqual(a.value.parameters.map(\.values), b.value.parameters.map(\.values))
    }

    /// ppo needs continuous actions and its rollout must split into whole minibatches.
    func testConfigErrors() {
        var c = config(.dense)
        c.rolloutSteps = 30
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("rollout-steps (30)"), "\($0)") }
        var r = config(.set)
        r.actorCriticRatio = 0.5
        XCTAssertThrowsError(try agent(r)) { XCTAssertTrue("\($0)".contains("actor-critic-ratio"), "\($0)") }
        XCTAssertThrowsError(try makeAgent(config: config(.dense), observationSize: 4, actions: .box(BoxSpace(low: [-1], high: [1])),
                                           totalUpdates: 10, seed: 0))
    }
}
