import Foundation
import XCTest

final class RolloutCLITests: XCTestCase {
    struct Fixture: Decodable {
        struct Reset: Decodable { let qpos: [Double]; let qvel: [Double] }
        struct Step: Decodable { let action: [Double]; let obs: [Double]; let reward: Double; let terminated: Bool }
        let reset: Reset
        let steps: [Step]
    }
    struct Line: Decodable {
        let t: Int; let obs: [Double]; let reward: Double; let terminated: Bool; let truncated: Bool
        let reward_terms: [String: Double]; let x_position: Double; let qpos: [Double]; let qvel: [Double]
    }

    /// The environments' own fixture, pushed through the command line: the JSON round trip keeps full precision.
    func testRolloutReproducesGymnasiumTrajectoryFromARecordedState() throws {
        let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../EnvironmentsTests/Fixtures/Walker2d-v5.json").standardized
        let fx = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: fixtureURL))
        let dir = try CLI.temporaryDirectory()
        let actions = dir.appendingPathComponent("actions.json"), state = dir.appendingPathComponent("state.json")
        try JSONEncoder().encode(fx.steps.map(\.action)).write(to: actions)
        try JSONSerialization.data(withJSONObject: ["qpos": fx.reset.qpos, "qvel": fx.reset.qvel]).write(to: state)

        let r = try CLI.run(["rollout", "walker2d", "--actions", actions.path, "--init-state", state.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try r.lines.map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        XCTAssertEqual(lines.count, fx.steps.count)  // keeps stepping after termination
        for (line, step) in zip(lines, fx.steps) {
            for (a, b) in zip(line.obs, step.obs) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(abs(b), 1e-3)) }
            XCTAssertEqual(line.reward, step.reward, accuracy: 1e-9 * max(abs(step.reward), 1e-3))
            XCTAssertEqual(line.terminated, step.terminated)
            XCTAssertEqual(Set(line.reward_terms.keys), ["reward_forward", "reward_ctrl", "reward_survive"])
            XCTAssertEqual(line.qpos.count, 9)
        }
        XCTAssertTrue(lines.contains { $0.terminated })
    }

    func testSameSeedSameRolloutDifferentSeedDifferent() throws {
        let dir = try CLI.temporaryDirectory()
        let actions = dir.appendingPathComponent("a.json")
        try "[[0.1,0.2,0.3],[0,0,0],[-1,1,0.5]]".write(to: actions, atomically: true, encoding: .utf8)
        let a = try CLI.run(["rollout", "Hopper-v5", "--actions", actions.path, "--seed", "3"])
        let b = try CLI.run(["rollout", "hopper", "--actions", actions.path, "--seed", "3"])
        let c = try CLI.run(["rollout", "hopper", "--actions", actions.path, "--seed", "4"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.lines.count, 3)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertNotEqual(a.stdout, c.stdout)
    }

    func testBadInputGivesOneLineErrors() throws {
        let dir = try CLI.temporaryDirectory()
        let good = dir.appendingPathComponent("good.json"), bad = dir.appendingPathComponent("bad.json")
        let short = dir.appendingPathComponent("short.json"), state = dir.appendingPathComponent("state.json")
        try "[[0,0,0]]".write(to: good, atomically: true, encoding: .utf8)
        try "[[0,0,0], [1, \"x\"]".write(to: bad, atomically: true, encoding: .utf8)
        try "[[0,0,0],[0,0]]".write(to: short, atomically: true, encoding: .utf8)
        try "{\"qpos\": [1, 2], \"qvel\": [0,0,0,0,0,0]}".write(to: state, atomically: true, encoding: .utf8)

        assertCleanFailure(try CLI.run(["rollout", "Hoppr-v5", "--actions", good.path]), contains: "valid: Hopper-v5")
        assertCleanFailure(try CLI.run(["rollout", "hopper", "--actions", dir.appendingPathComponent("none.json").path]),
                           contains: "cannot read")
        assertCleanFailure(try CLI.run(["rollout", "hopper", "--actions", bad.path]), contains: "not a valid actions file")
        assertCleanFailure(try CLI.run(["rollout", "hopper", "--actions", short.path]),
                           contains: "action 1: action has 2 components, the environment expects 3")
        assertCleanFailure(try CLI.run(["rollout", "hopper", "--actions", good.path, "--init-state", state.path]),
                           contains: "qpos has 2 values, the model needs 6")
        assertCleanFailure(try CLI.run(["rollout", "hopper", "--actions", good.path, "--xml", bad.path]),
                           contains: "cannot load MuJoCo model")
        // A model that loads but is not a variant of the task's: refused with both sizes, not reported as Hopper-v5.
        let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models-xml")
        assertCleanFailure(try CLI.run(["rollout", "hopper", "--actions", good.path, "--xml", models.appendingPathComponent("walker2d.xml").path]),
                           contains: "walker2d.xml gives 17 observations and 6 actions; Hopper-v5 has 11 and 3: --xml must be a variant of Hopper-v5's model")
        // A copy of the stock model elsewhere (a variant with the same sizes) is accepted.
        let copy = dir.appendingPathComponent("my-hopper.xml")
        try FileManager.default.copyItem(at: models.appendingPathComponent("hopper.xml"), to: copy)
        XCTAssertEqual(try CLI.run(["rollout", "hopper", "--actions", good.path, "--xml", copy.path]).status, 0)
        let r = try CLI.run(["rollout", "hopper", "--actions", good.path, "--bogus"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("Unknown option '--bogus'"), r.stderr)
    }
}
