import Agents
import Foundation
import Training
import XCTest

/// `sparrow methods` lists what the registries hold: every method and algorithm by its declaration, each preset
/// under the method and the algorithm it runs, as a list and as JSON lines.
final class MethodsCLITests: XCTestCase {
    func testListsEveryMethodAndAlgorithmWithTheirPresets() throws {
        let json = try CLI.run(["methods", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let objects = try json.lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let methods = objects.filter { $0["kind"] as? String == "method" }
        let algorithms = objects.filter { $0["kind"] as? String == "algorithm" }
        XCTAssertEqual(methods.compactMap { $0["name"] as? String }, AgentConfig.Method.spellings)
        XCTAssertEqual(algorithms.compactMap { $0["name"] as? String }, AgentConfig.Algorithm.allCases.map(\.rawValue))
        // Each preset appears once under its method and once under its algorithm.
        let byMethod = methods.flatMap { $0["presets"] as? [String] ?? [] }
        let byAlgorithm = algorithms.flatMap { $0["presets"] as? [String] ?? [] }
        XCTAssertEqual(byMethod.sorted(), Presets.names.sorted())
        XCTAssertEqual(byAlgorithm.sorted(), Presets.names.sorted())
        let granet = try XCTUnwrap(methods.first { $0["name"] as? String == "granet" })
        XCTAssertEqual(granet["presets"] as? [String], ["granet-sac", "granet-dqn", "granet-ppo"])
        XCTAssertEqual(granet["keeps_live_count"] as? Bool, false)
        let dqn = try XCTUnwrap(algorithms.first { $0["name"] as? String == "dqn" })
        XCTAssertEqual(dqn["actions"] as? String, "discrete")
        XCTAssertEqual(dqn["networks"] as? [String], ["q", "target_q"])

        let list = try CLI.run(["methods"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("granet: GraNet (Liu et al. 2021)"), list.stdout)
        XCTAssertTrue(list.stdout.contains("ppo: PPO (Schulman et al. 2017)"), list.stdout)
    }
}
