import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Agents

/// Every agent's `deterministicPolicy` — what `sparrow export` writes as ONNX and C — computes exactly the action
/// its own `act(…, deterministic: true)` does, bit for bit: SAC (truly sparse), TD3 (masked layers), PPO with its
/// observation normaliser (after it has seen data, with observations far enough out to be clipped) and DQN.
final class DeterministicPolicyTests: XCTestCase {
    let observationSize = 5

    func config(_ algorithm: AgentConfig.Algorithm, backend: LayerBackend = .sparse) -> AgentConfig {
        var c = AgentConfig()
        c.algorithm = algorithm
        c.method = .static
        c.sparsity = 0.8
        c.backend = backend
        c.hidden = [24, 16]
        c.batchSize = 8
        if algorithm == .ppo { c.rolloutSteps = 32; c.epochs = 1; c.activation = .tanh }
        return c
    }

    func observations(_ n: Int, seed: UInt64, scale: Double = 1, shift: Double = 0) -> [[Double]] {
        var g = Generator(seed: seed)
        return (0..<n).map { _ in (0..<observationSize).map { _ in g.normal() * scale + shift } }
    }

    func assertPolicyActsAsTheAgent(_ agent: any Agent, actions: Int, _ obs: [[Double]], file: StaticString = #filePath,
                                    line: UInt = #line) {
        let policy = agent.deterministicPolicy
        XCTAssertEqual(policy.observationSize, observationSize, file: file, line: line)
        XCTAssertEqual(policy.output.actionComponents, actions, file: file, line: line)
        for (i, o) in obs.enumerated() {
            var fromAgent = [Float](repeating: .nan, count: actions), fromPolicy = fromAgent
            o.withUnsafeBufferPointer { p in
                fromAgent.withUnsafeMutableBufferPointer { agent.act(p, deterministic: true, into: $0) }
                fromPolicy.withUnsafeMutableBufferPointer { policy.act(p, into: $0) }
            }
            XCTAssertEqual(fromPolicy, fromAgent, "observation \(i)", file: file, line: line)
        }
    }

    func testSACAndTD3PoliciesActAsTheAgents() throws {
        let box = ActionSpace.box(BoxSpace(low: [-1, -2, 0], high: [1, 2, 3]))
        for (algorithm, backend) in [(AgentConfig.Algorithm.sac, LayerBackend.sparse), (.td3, .masked)] {
            let agent = try makeAgent(config: config(algorithm, backend: backend), observationSize: observationSize,
                                      actions: box, totalUpdates: 100, seed: 4)
            XCTAssertEqual(agent.deterministicPolicy.network.layers.first?.backend, backend)
            XCTAssertNil(agent.deterministicPolicy.normalization)
            assertPolicyActsAsTheAgent(agent, actions: 3, observations(50, seed: 1, scale: 3))
        }
    }

    func testDQNPolicyIsTheGreedyAction() throws {
        let agent = try DQN(config: config(.dqn), observationSize: observationSize, choices: 4, totalUpdates: 100, seed: 2)
        XCTAssertEqual(agent.deterministicPolicy.output, .argmax(choices: 4))
        assertPolicyActsAsTheAgent(agent, actions: 1, observations(50, seed: 2, scale: 3))
    }

    func testPPOPolicyCarriesTheObservationNormaliser() throws {
        let ppo = try PPO(config: config(.ppo), observationSize: observationSize, actionLow: [-1, -2], actionHigh: [1, 0.5],
                          totalIterations: 4, seed: 3)
        // One rollout of observations around 3 ± 2 updates the normaliser (PPO.beginLearning).
        let rollout = RolloutBuffer(capacity: 32, observationSize: observationSize, actionSize: 2)
        let seen = observations(33, seed: 5, scale: 2, shift: 3)
        for t in 0..<32 {
            var action = [Float](repeating: 0, count: 2)
            let lp = seen[t].withUnsafeBufferPointer { o in action.withUnsafeMutableBufferPointer { ppo.sample(o, into: $0) } }
            seen[t].withUnsafeBufferPointer { o in
                action.withUnsafeBufferPointer { a in
                    seen[t + 1].withUnsafeBufferPointer { n in
                        rollout.add(observation: o, action: a, logProb: lp, reward: 1, terminated: false, truncated: false, next: n)
                    }
                }
            }
        }
        ppo.beginLearning(rollout)
        let n = try XCTUnwrap(ppo.deterministicPolicy.normalization)
        XCTAssertEqual(n.mean, ppo.observationStats.mean)
        XCTAssertEqual(n.std, ppo.observationStats.variance.map { ($0 + RunningMeanStd.observationEpsilon).squareRoot() })
        // Some observations far out, so the ±5 clip is exercised too.
        assertPolicyActsAsTheAgent(ppo, actions: 2, observations(40, seed: 6, scale: 2, shift: 3) + observations(10, seed: 7, scale: 40))
    }
}
