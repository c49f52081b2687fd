import Foundation
@testable import NeuralNet
import SparrowCore
import XCTest
@testable import Agents

/// Agents name their networks by role; everything around them (checkpoints, policy files, accounting) reads roles.
final class AgentRolesTests: XCTestCase {
    func agent(_ algorithm: AgentConfig.Algorithm) throws -> ActorCriticAgent & OffPolicyAgent {
        var c = AgentConfig()
        c.algorithm = algorithm
        c.method = .static
        c.sparsity = 0.8
        c.hidden = [32, 32]
        c.batchSize = 8
        let agent = try makeAgent(config: c, observationSize: 5, actions: .box(BoxSpace(low: [-1, -2], high: [1, 2])), totalUpdates: 100, seed: 3)
        return agent as! ActorCriticAgent & OffPolicyAgent
    }

    func testRolesNamesAndOrder() throws {
        let sac = try agent(.sac), td3 = try agent(.td3)
        XCTAssertEqual(sac.networks.map(\.name), ["actor", "critic1", "critic2", "target_critic1", "target_critic2"])
        XCTAssertEqual(td3.networks.map(\.name), ["actor", "critic1", "critic2", "target_critic1", "target_critic2", "target_actor"])
        XCTAssertEqual(td3.networks.map(\.role), [.policy, .value, .value, .target(of: "critic1"), .target(of: "critic2"),
                                                  .target(of: "actor")])
        XCTAssertTrue(sac.networks.allSatisfy { ($0.optimizer == nil) == $0.role.isTarget }, "targets have no optimizer")
        for a in [sac, td3] as [ActorCriticAgent & OffPolicyAgent] {
            XCTAssertTrue(a.policyNetwork === a.actor)
            XCTAssertEqual(a.valueNetworks.count, 2)
            XCTAssertTrue(zip(a.valueNetworks, a.critics).allSatisfy { $0 === $1 })
            XCTAssertEqual(a.policyNetwork.outputWidth, a.policyHead.outputs(actions: 2))
            let counted = ([a.actor] + a.critics).reduce(0) { $0 + $1.cost.liveWeights + $1.cost.biases }
            XCTAssertEqual(a.liveParameters, counted, "live parameters count the trained networks only")
        }
        XCTAssertEqual(sac.policyHead, .gaussianTanh)
        XCTAssertEqual(td3.policyHead, .deterministicTanh)
        XCTAssertTrue(td3.networks.last!.network === (td3 as! TD3).targetActor)
    }

    /// A checkpointed agent decodes into another with every network in its role (TD3's target actor included).
    func testStateRoundTripsThroughTheRoles() throws {
        let a = try agent(.td3), b = try agent(.td3)
        for n in a.networks { for p in n.network.parameters { for i in p.values.indices where p.values[i] != 0 { p.values[i] += 0.25 } } }
        var w = ByteWriter()
        try a.encode(into: &w)
        var r = ByteReader(w.bytes)
        try b.decode(from: &r)
        XCTAssertTrue(r.isAtEnd)
        for (x, y) in zip(a.networks, b.networks) {
            XCTAssertEqual(x.name, y.name)
            XCTAssertEqual(x.network.parameters.map(\.values), y.network.parameters.map(\.values), x.name)
        }
    }
}
