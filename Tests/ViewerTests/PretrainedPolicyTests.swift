import Environments
import Foundation
import Training
import XCTest
@testable import Viewer

/// The policy shipped in assets/ loads, is small, and hops: it is the trained agent, not a random one.
final class PretrainedPolicyTests: XCTestCase {
    static let asset = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../assets/hopper-tows-sac-0.9.policy").standardized.path

    func testShippedHopperPolicyLoadsAndHops() throws {
        let size = try FileManager.default.attributesOfItem(atPath: Self.asset)[.size] as! Int
        XCTAssertLessThan(size, 1 << 20)
        let policy = try PolicyFile.read(Self.asset)
        XCTAssertEqual(policy.config.env, "Hopper-v5")
        XCTAssertEqual(policy.config.preset, "tows-sac")
        XCTAssertEqual(policy.config.agent.sparsity, 0.9)
        XCTAssertEqual(policy.header.actorSparsity, 0.9, accuracy: 0.05)  // the dense output layer counts too

        let session = try ReplaySession(env: try makeEnvironment("Hopper-v5"), source: .exported(policy), seed: 0)
        while session.finishedReturns.isEmpty { try session.advance() }
        XCTAssertGreaterThan(session.finishedReturns[0], 1500, "a trained hopper earns thousands; random actions earn ~20")
        XCTAssertGreaterThan(session.step, 300)
        XCTAssertEqual(Set(session.lastTerms.named.map(\.key)), ["reward_forward", "reward_ctrl", "reward_survive"])
    }

    func testZeroAndRandomSessionsStepAndReportTheirTerms() throws {
        for source in [ActionSource.zero, .random] {
            let session = try ReplaySession(env: try makeEnvironment("Walker2d-v5"), source: source, seed: 2)
            for _ in 0..<20 { try session.advance() }
            XCTAssertEqual(session.step + (session.finishedReturns.isEmpty ? 0 : 1), 20, "zero actions stay up for 20 steps")
            XCTAssertEqual(session.simulatedTime, 20 * session.env.dt, accuracy: 1e-9)
            let (titles, values) = session.overlayLines()
            XCTAssertTrue(titles.contains("Return") && titles.contains("forward"), titles)
            XCTAssertEqual(titles.split(separator: "\n").count, values.split(separator: "\n").count)
        }
        XCTAssertEqual(format(-0.004), "0.00")
        XCTAssertEqual(format(-1.256), "-1.26")
        XCTAssertEqual(format(3000.5, decimals: 0), "3001")
    }

    func testAPolicyForAnotherRobotIsRefused() throws {
        let policy = try PolicyFile.read(Self.asset)
        XCTAssertThrowsError(try ReplaySession(env: try makeEnvironment("Ant-v5"), source: .exported(policy), seed: 0)) {
            XCTAssertTrue("\($0)".contains("observations"), "\($0)")
        }
    }
}
