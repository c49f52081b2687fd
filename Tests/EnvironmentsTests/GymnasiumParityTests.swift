import Foundation
import XCTest
@testable import Environments

/// Trajectories recorded from Gymnasium 1.4's own v5 environments (on MuJoCo 2.2.2) by
/// tools/parity/make_fixtures.py. Each starts from Gymnasium's post-reset state (its reset noise comes from
/// NumPy's generator, so parity starts from the recorded state) and covers contacts, out-of-bounds actions
/// and a termination; stepping continues after termination.
struct GymFixture: Decodable {
    struct Reset: Decodable { let qpos: [Double]; let qvel: [Double]; let obs: [Double] }
    struct Step: Decodable {
        let t: Int
        let action: [Double]
        let obs: [Double]
        let reward: Double
        let terminated: Bool
        let info: [String: InfoValue]
        let qpos: [Double]
        let qvel: [Double]
    }
    /// Gymnasium's info values: numbers, booleans, or arrays (tendon lengths), which we ignore.
    enum InfoValue: Decodable {
        case number(Double), other
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .other }
        }
        var number: Double? { if case let .number(d) = self { return d } else { return nil } }
    }
    let env: String
    let reset: Reset
    let steps: [Step]

    static func load(_ name: String) throws -> GymFixture {
        let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json")
            ?? Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures")
        guard let url else { throw CocoaError(.fileNoSuchFile) }
        return try JSONDecoder().decode(GymFixture.self, from: Data(contentsOf: url))
    }
}

final class GymnasiumParityTests: XCTestCase {
    /// |ours − gym| ≤ 1e-9 · max(|gym|, 1e-3): 1e-9 relative, with a floor for values that are ~0.
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(abs(b), 1e-3) }

    func check(_ id: EnvironmentID, minimumSteps: Int = 150) throws {
        let fx = try GymFixture.load(id.name)
        XCTAssertGreaterThanOrEqual(fx.steps.count, minimumSteps)
        let env = try LocomotionEnv(id, options: id.defaultOptions)
        let (obs0, _) = try env.reset(qpos: fx.reset.qpos, qvel: fx.reset.qvel)
        XCTAssertEqual(obs0.count, fx.reset.obs.count, "\(id.name) observation size")
        for (a, b) in zip(obs0, fx.reset.obs) where !Self.close(a, b) {
            return XCTFail("\(id.name) reset observation differs: \(a) vs \(b)")
        }
        var sawTermination = false
        for s in fx.steps {
            let r = try env.step(s.action)
            let where_ = "\(id.name) step \(s.t)"
            XCTAssertFalse(r.info.diverged, where_)
            guard r.observation.count == s.obs.count else { return XCTFail("\(where_): obs size") }
            if let i = s.obs.indices.first(where: { !Self.close(r.observation[$0], s.obs[$0]) }) {
                return XCTFail("\(where_): obs[\(i)] \(r.observation[i]) vs Gymnasium \(s.obs[i])")
            }
            guard Self.close(r.reward, s.reward) else { return XCTFail("\(where_): reward \(r.reward) vs \(s.reward)") }
            XCTAssertEqual(r.terminated, s.terminated, where_)
            sawTermination = sawTermination || s.terminated
            for (key, value) in r.info.rewardTerms.named {
                guard let g = s.info[key]?.number else { return XCTFail("\(where_): Gymnasium has no \(key)") }
                guard Self.close(value, g) else { return XCTFail("\(where_): \(key) \(value) vs \(g)") }
            }
            let gymTerms = s.info.keys.filter { $0.hasPrefix("reward_") }.sorted()
            XCTAssertEqual(r.info.rewardTerms.named.map(\.key).sorted(), gymTerms, where_)
            if let x = s.info["x_position"]?.number { XCTAssertTrue(Self.close(r.info.xPosition, x), where_) }
            if let v = s.info["x_velocity"]?.number { XCTAssertTrue(Self.close(r.info.xVelocity, v), where_) }
            if let y = s.info["y_velocity"]?.number { XCTAssertTrue(Self.close(r.info.yVelocity ?? .nan, y), where_) }
            if let z = s.info["z_distance_from_origin"]?.number {
                XCTAssertTrue(Self.close(r.info.zDistanceFromOrigin ?? .nan, z), where_)
            }
            if let d = s.info["distance_from_origin"]?.number {
                XCTAssertTrue(Self.close(r.info.distanceFromOrigin ?? .nan, d), where_)
            }
            let q = Array(env.simulation.qpos) + Array(env.simulation.qvel)
            let g = s.qpos + s.qvel
            if let i = g.indices.first(where: { !Self.close(q[$0], g[$0]) }) {
                return XCTFail("\(where_): state[\(i)] \(q[i]) vs \(g[i])")
            }
        }
        if id != .halfCheetah { XCTAssertTrue(sawTermination, "\(id.name) fixture should include a termination") }
    }

    func testHopper() throws { try check(.hopper) }
    func testWalker2d() throws { try check(.walker2d) }
    func testHalfCheetah() throws { try check(.halfCheetah) }
    func testAnt() throws { try check(.ant) }
    func testHumanoid() throws { try check(.humanoid) }
    func testInvertedPendulum() throws { try check(.invertedPendulum) }
}
