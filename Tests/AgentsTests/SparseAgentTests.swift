import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Agents

/// Agent-level sparse-training invariants on random replay batches (no environment needed).
final class SparseAgentTests: XCTestCase {
    func filledBuffer(obs: Int, act: Int, seed: UInt64) -> ReplayBuffer {
        let buffer = ReplayBuffer(capacity: 2000, observationSize: obs, actionSize: act)
        var g = Generator(seed: seed)
        var o = [Double](repeating: 0, count: obs), n = o, a = [Float](repeating: 0, count: act)
        for _ in 0..<2000 {
            for i in 0..<obs { o[i] = g.normal(); n[i] = g.normal() }
            for i in 0..<act { a[i] = Float(g.uniform(-1, 1)) }
            o.withUnsafeBufferPointer { ob in n.withUnsafeBufferPointer { nb in a.withUnsafeBufferPointer { ab in
                buffer.add(observation: ob, action: ab, reward: g.normal(), nextObservation: nb, terminated: g.nextDouble() < 0.05)
            } } }
        }
        return buffer
    }

    func config(_ method: AgentConfig.Method, _ algorithm: AgentConfig.Algorithm) -> AgentConfig {
        var c = AgentConfig()
        c.algorithm = algorithm
        c.method = method
        c.hidden = [32, 32]
        c.sparsity = 0.8
        c.batchSize = 16
        c.updateInterval = 10
        c.updateOffset = 2
        c.dropFraction = 0.2
        return c
    }

    /// DS (Sokar): masked layers with unmasked moments, signed drop, and targets that keep exactly the online
    /// live count after every soft update ("maintain sparsity").
    func testDSTargetsKeepTheOnlineLiveCount() throws {
        var c = config(.ds, .td3)
        c.distribution = .erEpsilon
        c.erEpsilon = [3, 6]
        c.backend = .masked
        c.moments = .unmasked
        c.drop = .signedMagnitude
        c.targetTopology = .maintainSparsity
        let agent = try TD3(config: c, observationSize: 5, actionLow: [-1, -1], actionHigh: [1, 1], totalUpdates: 300, seed: 3)
        let buffer = filledBuffer(obs: 5, act: 2, seed: 4)
        let batch = ReplayBatch(size: 16, observationSize: 5, actionSize: 2)
        var g = Generator(seed: 5)
        var changed = 0
        let start = agent.critics[0].layers[0].positions
        for _ in 0..<120 {
            buffer.sample(into: batch, generator: &g)
            _ = try agent.update(batch)
            if agent.critics[0].layers[0].positions != start { changed += 1 }
            guard agent.updates % c.policyDelay == 0 else { continue }
            for (online, target) in [(agent.critics[0], agent.targetCritics[0]), (agent.critics[1], agent.targetCritics[1]),
                                     (agent.actor, agent.targetActor)] {
                for (lo, lt) in zip(online.layers, target.layers) where lo.backend != .dense {
                    let onlineNonZero = lo.liveWeights.filter { $0 != 0 }.count
                    XCTAssertLessThanOrEqual(lt.liveConnections, lo.liveConnections)
                    XCTAssertEqual(lt.liveConnections, onlineNonZero, "update \(agent.updates)")
                }
            }
        }
        XCTAssertGreaterThan(changed, 0, "the topology should have evolved")
    }

    /// TowS: truly sparse layers; at a topology update, grown connections start with value 0 and zero Adam moments,
    /// dropped ones are gone, and the live count is unchanged.
    func testTowSRegrownConnectionsStartWithZeroMoments() throws {
        var c = config(.tows, .sac)
        c.backend = .sparse
        c.moments = .masked
        c.growInit = .zero
        let agent = try SAC(config: c, observationSize: 5, actionLow: [-1, -1], actionHigh: [1, 1], totalUpdates: 300, seed: 7)
        let buffer = filledBuffer(obs: 5, act: 2, seed: 8)
        let batch = ReplayBatch(size: 16, observationSize: 5, actionSize: 2)
        var g = Generator(seed: 9)
        var checked = 0
        for _ in 0..<45 {
            buffer.sample(into: batch, generator: &g)
            let before = agent.critics.map { net in net.layers.map { Set($0.positions) } }
            let counts = agent.critics.map { net in net.layers.map { $0.liveConnections } }
            _ = try agent.update(batch)
            guard agent.updates % c.updateInterval == c.updateOffset else { continue }
            for (k, net) in agent.critics.enumerated() {
                for (l, layer) in net.layers.enumerated() where layer.backend == .sparse {
                    XCTAssertEqual(layer.liveConnections, counts[k][l])
                    let positions = layer.positions
                    let grown = positions.indices.filter { !before[k][l].contains(positions[$0]) }
                    XCTAssertFalse(grown.isEmpty, "update \(agent.updates) layer \(l) grew nothing")
                    for i in grown {
                        XCTAssertEqual(layer.weight.values[i], 0)
                        XCTAssertEqual(layer.weight.firstMoment[i], 0)
                        XCTAssertEqual(layer.weight.secondMoment[i], 0)
                    }
                    // Kept connections carry state: some moments are non-zero.
                    XCTAssertTrue(layer.weight.secondMoment.contains { $0 != 0 })
                    checked += grown.count
                }
            }
        }
        XCTAssertGreaterThan(checked, 0)
    }

    func testReplayBufferRoundTripAndBootstrapMask() throws {
        let b = filledBuffer(obs: 3, act: 1, seed: 1)
        var w = ByteWriter()
        b.encode(into: &w)
        let c = ReplayBuffer(capacity: 2000, observationSize: 3, actionSize: 1)
        var r = ByteReader(w.bytes)
        try c.decode(from: &r)
        let x = ReplayBatch(size: 64, observationSize: 3, actionSize: 1), y = ReplayBatch(size: 64, observationSize: 3, actionSize: 1)
        var g1 = Generator(seed: 2), g2 = Generator(seed: 2)
        b.sample(into: x, generator: &g1); c.sample(into: y, generator: &g2)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: x.observations, count: 192)), Array(UnsafeBufferPointer(start: y.observations, count: 192)))
        let mask = Array(UnsafeBufferPointer(start: x.notTerminated, count: 64))
        XCTAssertTrue(mask.allSatisfy { $0 == 0 || $0 == 1 })
        let wrong = ReplayBuffer(capacity: 10, observationSize: 3, actionSize: 1)
        var r2 = ByteReader(w.bytes)
        XCTAssertThrowsError(try wrong.decode(from: &r2))
    }
}

final class BudgetTests: XCTestCase {
    /// Graesser's actor:critic split: one budget over actor + both critics, divided by the given ratio.
    func testActorCriticRatioSplitsOneBudget() throws {
        var c = AgentConfig()
        c.method = .static
        c.sparsity = 0.9
        c.actorCriticRatio = 1  // as many live actor weights as live critic weights (both critics together)
        let agent = try SAC(config: c, observationSize: 11, actionLow: [-1, -1, -1], actionHigh: [1, 1, 1],
                            totalUpdates: 10, seed: 1)
        func live(_ n: MLP) -> Int { n.layers.reduce(0) { $0 + $1.liveConnections } }
        func all(_ n: MLP) -> Int { n.layers.reduce(0) { $0 + $1.shape.count } }
        let actorLive = live(agent.actor), criticLive = live(agent.critics[0]) + live(agent.critics[1])
        XCTAssertEqual(Double(actorLive) / Double(criticLive), 1, accuracy: 0.03)
        let total = all(agent.actor) + all(agent.critics[0]) + all(agent.critics[1])
        XCTAssertEqual(1 - Double(actorLive + criticLive) / Double(total), 0.9, accuracy: 0.01)
        c.actorCriticRatio = 1000
        XCTAssertThrowsError(try SAC(config: c, observationSize: 11, actionLow: [-1, -1, -1], actionHigh: [1, 1, 1],
                                     totalUpdates: 10, seed: 1))
    }
}
