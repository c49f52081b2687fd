import Agents
import XCTest
@testable import NeuralNet
@testable import Training

/// Subnormal floats (|x| < 1.2e-38) in a network make every x86 operation on them ~100× slower; issue 10 measured
/// long runs at a fifth of their speed from this alone. After thousands of real SAC updates on a 90%-sparse network,
/// nothing the networks hold or compute may be subnormal.
final class SubnormalTests: XCTestCase {
    func testLongSparseSACRunHoldsNoSubnormals() throws {
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try smallConfig("tows-sac", env: "Hopper-v5",
                                     ["steps": 5000, "start-steps": 1000, "eval-every": 10_000, "batch-size": 64,
                                      "checkpoint-every": 10_000, "log-every": 1000])
        let trainer = try OffPolicyTrainer(config: config, runDirectory: dir, resume: false)
        try trainer.run(finalCheckpoint: false)
        XCTAssertEqual(trainer.agent.updates, 4000)
        var checked = 0
        for (name, net) in trainer.agent.namedNetworks {
            for (l, layer) in net.layers.enumerated() {
                for (what, values) in [("weights", layer.weight.values), ("biases", layer.bias.values),
                                       ("first moments", layer.weight.firstMoment), ("second moments", layer.weight.secondMoment),
                                       ("bias second moments", layer.bias.secondMoment),
                                       ("weight gradients", layer.weight.gradients), ("bias gradients", layer.bias.gradients)] {
                    XCTAssertEqual(Subnormals.count(in: values), 0, "\(name) layer \(l) \(what)")
                    checked += values.count
                }
            }
            let ws = net.workspace(batch: config.agent.batchSize)
            for (k, buffer) in (ws.activations + ws.gradients + [ws.outputPreActivationGradient]).enumerated() {
                XCTAssertEqual(Subnormals.count(in: UnsafeBufferPointer(start: buffer.pointer, count: buffer.count)), 0,
                               "\(name) workspace buffer \(k)")
                checked += buffer.count
            }
        }
        XCTAssertGreaterThan(checked, 400_000)
    }
}
