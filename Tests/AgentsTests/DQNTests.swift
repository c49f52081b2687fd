import Foundation
import SparrowCore
import XCTest
@testable import Agents
@testable import NeuralNet

/// DQN's pieces against direct computations: the ε schedule, greedy and exploratory actions, the TD loss and its
/// gradient (finite differences through the network, dense and truly sparse), terminal masking, the target sync.
final class DQNTests: XCTestCase {
    let obs = 4, choices = 3, batchSize = 8

    func config(_ method: AgentConfig.Method = .dense, loss: AgentConfig.TDLoss = .huber) -> AgentConfig {
        var c = AgentConfig()
        c.algorithm = .dqn
        c.method = method
        c.sparsity = method == .dense ? 0 : 0.6
        c.denseOutputLayer = false
        c.distribution = .erk
        c.hidden = [16, 16]
        c.batchSize = batchSize
        c.tdLoss = loss
        c.tau = 1
        c.targetUpdateInterval = 5
        c.criticLR = 1e-3
        c.weightDecay = 0
        return c
    }

    /// A random batch with large rewards (so some TD errors exceed Huber's δ = 1) and a few terminal samples.
    func batch(seed: UInt64) -> ReplayBatch {
        let b = ReplayBatch(size: batchSize, observationSize: obs, actionSize: 1)
        var g = Generator(seed: seed)
        for i in 0..<obs * batchSize { b.observations[i] = Float(g.normal()); b.nextObservations[i] = Float(g.normal()) }
        for i in 0..<batchSize {
            b.actions[i] = Float(g.nextInt(below: choices))
            b.rewards[i] = Float(g.normal() * 3)
            b.notTerminated[i] = i % 3 == 0 ? 0 : 1
        }
        return b
    }

    /// Q values of a network for a batch, [action][sample], computed by the network's forward pass.
    func qValues(_ net: MLP, _ x: UnsafePointer<Float>) -> [[Double]] {
        let ws = net.workspace(batch: batchSize)
        ws.input.pointer.update(from: x, count: obs * batchSize)
        net.forward(ws)
        return (0..<choices).map { a in (0..<batchSize).map { Double(ws.output[a * batchSize + $0]) } }
    }

    /// The loss written out directly: targets r + γ·(1 − terminated)·max Q̄(s′), then mean ℓ(Q(s, a) − y).
    func directLoss(_ net: MLP, target: MLP, _ b: ReplayBatch, gamma: Double, loss: AgentConfig.TDLoss) -> Double {
        let q = qValues(net, b.observations), next = qValues(target, b.nextObservations)
        var total = 0.0
        for i in 0..<batchSize {
            let best = (0..<choices).map { next[$0][i] }.max()!
            let y = Double(b.rewards[i]) + gamma * Double(b.notTerminated[i]) * best
            let d = q[Int(b.actions[i])][i] - y
            total += loss == .squared ? d * d : (abs(d) <= 1 ? 0.5 * d * d : abs(d) - 0.5)
        }
        return total / Double(batchSize)
    }

    func testEpsilonScheduleIsLinearThenFinal() {
        let s = EpsilonSchedule(start: 1, final: 0.1, decayUpdates: 100)
        XCTAssertEqual(s.value(afterUpdates: 0), 1)
        XCTAssertEqual(s.value(afterUpdates: 50), 0.55, accuracy: 1e-12)
        XCTAssertEqual(s.value(afterUpdates: 99), 1 + (0.1 - 1) * 0.99, accuracy: 1e-12)
        XCTAssertEqual(s.value(afterUpdates: 100), 0.1)
        XCTAssertEqual(s.value(afterUpdates: 10_000), 0.1)
        let constant = EpsilonSchedule(start: 1, final: 0.01, decayUpdates: 0)
        XCTAssertEqual(constant.value(afterUpdates: 0), 0.01)
        // The agent's schedule is a fraction of its updates.
        var c = config()
        c.epsilonStart = 0.5; c.epsilonFinal = 0.05; c.epsilonDecay = 0.25
        let agent = try! DQN(config: c, observationSize: obs, choices: choices, totalUpdates: 400, seed: 1)
        XCTAssertEqual(agent.epsilon, EpsilonSchedule(start: 0.5, final: 0.05, decayUpdates: 100))
    }

    func testGreedyActionIsTheArgmaxAndExplorationIsUniform() throws {
        var c = config()
        c.epsilonFinal = 1  // always explore
        let agent = try DQN(config: c, observationSize: obs, choices: choices, totalUpdates: 100, seed: 3)
        var g = Generator(seed: 9)
        var action: [Float] = [0]
        var counts = [Int](repeating: 0, count: choices)
        for _ in 0..<3000 {
            let o = (0..<obs).map { _ in g.normal() }
            // Greedy: the argmax of the network's outputs for this observation.
            let ws = agent.q.workspace(batch: 1)
            for i in 0..<obs { ws.input[i] = Float(o[i]) }
            agent.q.forward(ws)
            let values = (0..<choices).map { ws.output[$0] }
            o.withUnsafeBufferPointer { p in action.withUnsafeMutableBufferPointer { agent.act(p, deterministic: true, into: $0) } }
            XCTAssertEqual(Int(action[0]), values.firstIndex(of: values.max()!)!)
            o.withUnsafeBufferPointer { p in action.withUnsafeMutableBufferPointer { agent.act(p, deterministic: false, into: $0) } }
            XCTAssertEqual(action[0], action[0].rounded())
            counts[Int(action[0])] += 1
        }
        for n in counts { XCTAssertEqual(Double(n) / 3000, 1 / Double(choices), accuracy: 0.04, "\(counts)") }
    }

    /// The reported loss is the directly computed one, and the gradient the update applied is the loss's
    /// derivative by central differences at every live weight and bias (dense and truly sparse layers).
    /// tanh hidden units: central differences are exact only where the loss is smooth (ReLU kinks are not).
    func checkGradient(_ method: AgentConfig.Method, loss: AgentConfig.TDLoss) throws {
        var c = config(method, loss: loss)
        c.activation = .tanh
        let agent = try DQN(config: c, observationSize: obs, choices: choices, totalUpdates: 100, seed: 5)
        let b = batch(seed: 11)
        let before = agent.q.copy(), target = agent.targetQ.copy()
        let expected = directLoss(before, target: target, b, gamma: c.gamma, loss: loss)
        let m = try agent.update(b)
        XCTAssertEqual(m.criticLoss, expected, accuracy: 1e-5 * max(1, expected))
        var checked = 0, hubers = 0
        let q = qValues(before, b.observations)
        for i in 0..<batchSize where abs(q[Int(b.actions[i])][i] - Double(b.rewards[i])) > 1 { hubers += 1 }
        if loss == .huber { XCTAssertGreaterThan(hubers, 0, "the batch should reach Huber's linear part") }
        for (l, layer) in agent.q.layers.enumerated() {
            for tensor in [\Layer.weight, \Layer.bias] {
                let grads = layer[keyPath: tensor].gradients
                for k in stride(from: 0, to: grads.count, by: max(1, grads.count / 25)) {
                    let probe = before.copy()
                    let p = probe.layers[l][keyPath: tensor]
                    let h: Float = 1e-3, v = p.values[k]
                    p.values[k] = v + h
                    let up = directLoss(probe, target: target, b, gamma: c.gamma, loss: loss)
                    p.values[k] = v - h
                    let down = directLoss(probe, target: target, b, gamma: c.gamma, loss: loss)
                    let numeric = (up - down) / (2 * Double(h))
                    XCTAssertEqual(Double(grads[k]), numeric, accuracy: 2e-3 + 2e-2 * abs(numeric),
                                   "\(method) \(loss) layer \(l) entry \(k)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 50)
    }

    func testTDLossGradientMatchesFiniteDifferencesDense() throws {
        try checkGradient(.dense, loss: .huber)
        try checkGradient(.dense, loss: .squared)
    }

    func testTDLossGradientMatchesFiniteDifferencesTrulySparse() throws {
        try checkGradient(.static, loss: .huber)
        XCTAssertTrue(try DQN(config: config(.static), observationSize: obs, choices: choices, totalUpdates: 100, seed: 5)
            .q.layers.contains { $0.backend == .sparse })
    }

    /// τ = 1 every `target-update-interval` updates: the target is the online network exactly then, and stale between.
    func testTargetSyncsEveryInterval() throws {
        let agent = try DQN(config: config(.static), observationSize: obs, choices: choices, totalUpdates: 100, seed: 7)
        for k in 1...10 {
            _ = try agent.update(batch(seed: UInt64(k)))
            let same = zip(agent.q.layers, agent.targetQ.layers).allSatisfy {
                $0.denseWeights() == $1.denseWeights() && $0.bias.values == $1.bias.values
            }
            XCTAssertEqual(same, k % 5 == 0, "update \(k)")
        }
    }

    /// A decoded agent continues exactly: same actions (ε draws included) and the same next updates.
    func testCheckpointStateContinuesExactly() throws {
        var c = config(.set)
        c.updateInterval = 3
        c.epsilonFinal = 0.3
        let a = try DQN(config: c, observationSize: obs, choices: choices, totalUpdates: 100, seed: 2)
        for k in 0..<7 { _ = try a.update(batch(seed: UInt64(k))) }
        var w = ByteWriter()
        try a.encode(into: &w)
        let b = try DQN(config: c, observationSize: obs, choices: choices, totalUpdates: 100, seed: 99)
        var r = ByteReader(w.bytes)
        try b.decode(from: &r)
        XCTAssertTrue(r.isAtEnd)
        var o = [0.1, -0.2, 0.3, 0.5], x: [Float] = [0], y: [Float] = [0]
        for k in 7..<14 {
            let ma = try a.update(batch(seed: UInt64(k))), mb = try b.update(batch(seed: UInt64(k)))
            XCTAssertEqual(ma.criticLoss, mb.criticLoss)
            XCTAssertEqual(ma.meanQ, mb.meanQ)
            o.withUnsafeBufferPointer { p in
                x.withUnsafeMutableBufferPointer { a.act(p, deterministic: false, into: $0) }
                y.withUnsafeMutableBufferPointer { b.act(p, deterministic: false, into: $0) }
            }
            XCTAssertEqual(x, y)
            o[k % 4] += 0.7
        }
        XCTAssertEqual(a.q.layers.map { $0.denseWeights() }, b.q.layers.map { $0.denseWeights() })
        XCTAssertEqual(a.trainingFLOPs, b.trainingFLOPs)
    }

    /// SAC on discrete actions and DQN on a box are one-line errors naming what fits.
    func testAlgorithmMustFitTheActions() {
        var sac = AgentConfig()
        sac.algorithm = .sac
        XCTAssertThrowsError(try makeAgent(config: sac, observationSize: 4, actions: .discrete(2), totalUpdates: 10, seed: 0)) {
            XCTAssertTrue("\($0)".contains("dqn"), "\($0)")
        }
        XCTAssertThrowsError(try makeAgent(config: config(), observationSize: 4, actions: .box(BoxSpace(low: [-1], high: [1])),
                                           totalUpdates: 10, seed: 0)) {
            XCTAssertTrue("\($0)".contains("sac or td3"), "\($0)")
        }
    }
}
