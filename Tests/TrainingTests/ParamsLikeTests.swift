import Agents
import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Training

/// `--params-like p` / `dense-sac@0.9`: Graesser et al.'s parameter-equivalent dense baseline. Each network is
/// held to the live parameters of the sparse network it stands for, built for real.
final class ParamsLikeTests: XCTestCase {
    /// Trained parameters of each network, by name (targets excluded).
    func parameters(_ agent: any Agent) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: agent.trainedNetworks.map { ($0.name, $0.network.cost.parameters) })
    }

    func agent(_ preset: String, env: String, sparsity: Double? = nil) throws -> any Agent {
        var c = try Presets.config(named: preset, env: env)
        c.env = env
        if let sparsity { c.agent.sparsity = sparsity }
        c.agent.bufferSize = 1000
        return try AgentFactory.makeAgent(config: c, env: try c.makeEnvironment())
    }

    func testDenseNetworksComeClosestToTheSparseLiveParameters() throws {
        for (dense, sparse, env) in [("dense-sac", "ss-sac", "Hopper-v5"), ("dense-td3", "ss-td3", "HalfCheetah-v5"),
                                     ("dense-dqn", "static-dqn", "CartPole-v1"), ("dense-ppo", "static-ppo", "Hopper-v5")] {
            for p in [0.5, 0.9, 0.95] {
                let matched = try agent("\(dense)@\(p)", env: env), target = parameters(try agent(sparse, env: env, sparsity: p))
                let full = try agent(dense, env: env)
                for n in matched.trainedNetworks {
                    let got = n.network.cost.parameters, want = target[n.name]!
                    let hidden = Array(n.network.spec.widths.dropFirst().dropLast())
                    let configured = Array(full.trainedNetworks.first { $0.name == n.name }!.network.spec.widths.dropFirst().dropLast())
                    XCTAssertLessThan(hidden.max()!, configured.max()!, "\(dense)@\(p) \(n.name) is smaller")
                    // No other scale of the configured widths comes closer (the rule, checked by brute force).
                    let input = n.network.inputWidth, output = n.network.outputWidth, largest = configured.max()!
                    for k in 1...largest {
                        let scaled: [Int] = configured.map { (w: Int) -> Int in max(1, Int((Double(w * k) / Double(largest)).rounded())) }
                        let w: [Int] = [input] + scaled + [output]
                        var params = 0
                        for i in 0..<(w.count - 1) { params += w[i] * w[i + 1] + w[i + 1] }
                        XCTAssertGreaterThanOrEqual(abs(params - want), abs(got - want), "\(dense)@\(p) \(n.name) k=\(k)")
                    }
                    XCTAssertLessThan(abs(Double(got - want)) / Double(want), 0.06, "\(dense)@\(p) \(n.name): \(got) vs \(want)")
                    XCTAssertEqual(n.network.cost.sparsity, 0, "dense")
                }
            }
        }
    }

    func testPresetSuffixAndFlagAgreeAndBadValuesAreOneLine() throws {
        let suffixed = try Presets.config(named: "dense-sac@0.9", env: "Hopper-v5")
        XCTAssertEqual(suffixed.agent.paramsLike, 0.9)
        XCTAssertEqual(suffixed.agent.method, .dense)
        var flagged = try Presets.config(named: "dense-sac", env: "Hopper-v5")
        flagged.agent.paramsLike = 0.9
        XCTAssertEqual(flagged.agent, suffixed.agent)
        func message(_ preset: String) -> String {
            do { _ = try Presets.config(named: preset, env: "Hopper-v5"); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(message("tows-sac@0.9"), "preset tows-sac@0.9: only dense presets take @SPARSITY (dense-sac@0.9, dense-sac-graesser@0.9, dense-td3@0.9, dense-dqn@0.9, dense-ppo@0.9)")
        XCTAssertEqual(message("dense-sac@1.5"), "preset dense-sac@1.5: the sparsity after @ must be a number in (0, 1), got '1.5'")
        var c = try Presets.config(named: "tows-sac", env: "Hopper-v5").agent
        c.paramsLike = 0.9
        XCTAssertThrowsError(try c.validate()) { error in
            XCTAssertEqual("\(error)", "params-like 0.9 shrinks a dense network to a sparse one's parameter count; it needs method dense, got tows")
        }
    }
}
