import Foundation
import XCTest

/// `sparrow rollout` and `sparrow bench env` on the classic-control tasks (discrete actions, `{"state": [...]}`).
final class ClassicRolloutTests: XCTestCase {
    struct Fixture: Decodable {
        struct Step: Decodable {
            let action: Int; let obs: [Double]; let reward: Double; let terminated: Bool; let truncated: Bool
            let state: [Double]
        }
        struct Segment: Decodable { let name: String; let start_state: [Double]; let steps: [Step] }
        let env: String
        let segments: [Segment]
    }
    struct Line: Decodable {
        let t: Int; let obs: [Double]; let reward: Double; let terminated: Bool; let truncated: Bool; let state: [Double]
    }

    static func fixture(_ name: String) throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../EnvironmentsTests/Fixtures/\(name).json").standardized
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                        nan: "nan")
        return try decoder.decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// Every recorded Gymnasium segment, pushed through the command line from its start state: the JSON round trip
    /// keeps full precision, so the values match the environments' own parity tolerance, and the run goes on after
    /// termination and past the time limit.
    func testRolloutReproducesGymnasiumTrajectoriesFromRecordedStates() throws {
        let dir = try CLI.temporaryDirectory()
        var sawTermination = false, sawTruncation = false
        for name in ["CartPole-v1", "Acrobot-v1", "MountainCar-v0"] {
            let fx = try Self.fixture(name)
            for seg in fx.segments {
                let actions = dir.appendingPathComponent("\(name)-\(seg.name)-actions.json")
                let state = dir.appendingPathComponent("\(name)-\(seg.name)-state.json")
                try JSONEncoder().encode(seg.steps.map(\.action)).write(to: actions)
                try JSONSerialization.data(withJSONObject: ["state": seg.start_state]).write(to: state)
                let r = try CLI.run(["rollout", name, "--actions", actions.path, "--init-state", state.path])
                XCTAssertEqual(r.status, 0, r.stderr)
                let lines = try r.lines.map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
                XCTAssertEqual(lines.count, seg.steps.count, "\(name) \(seg.name)")
                for (i, (line, step)) in zip(lines, seg.steps).enumerated() {
                    let at = "\(name) \(seg.name) step \(i)"
                    XCTAssertEqual(line.t, i, at)
                    guard zip(line.obs, step.obs).allSatisfy({ abs($0 - $1) <= 1e-12 * max(abs($1), 1) }),
                          zip(line.state, step.state).allSatisfy({ abs($0 - $1) <= 1e-12 * max(abs($1), 1) }),
                          line.obs.count == step.obs.count, line.state.count == step.state.count
                    else { return XCTFail("\(at): \(line) vs Gymnasium \(step)") }
                    XCTAssertEqual(line.reward, step.reward, at)
                    XCTAssertEqual(line.terminated, step.terminated, at)
                    XCTAssertEqual(line.truncated, step.truncated, at)
                }
                sawTermination = sawTermination || lines.contains { $0.terminated }
                sawTruncation = sawTruncation || lines.contains { $0.truncated }
            }
        }
        XCTAssertTrue(sawTermination)
        XCTAssertTrue(sawTruncation)
    }

    /// Classic-control lines carry `state` and none of the MuJoCo-only keys.
    func testLinesHaveTheClassicKeysOnly() throws {
        let r = try CLI.run(["rollout", "mountain_car", "--random-steps", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines.count, 3)
        for text in r.lines {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
            XCTAssertEqual(Set(o.keys), ["t", "obs", "reward", "terminated", "truncated", "state"], text)
            XCTAssertEqual((o["obs"] as? [Double])?.count, 2)
            XCTAssertEqual(o["reward"] as? Double, -1)
        }
    }

    func testRandomStepsAreSeeded() throws {
        let a = try CLI.run(["rollout", "CartPole-v1", "--random-steps", "40", "--seed", "3"])
        let b = try CLI.run(["rollout", "cartpole", "--random-steps", "40", "--seed", "3"])
        let c = try CLI.run(["rollout", "cartpole", "--random-steps", "40", "--seed", "4"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.lines.count, 40)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertNotEqual(a.stdout, c.stdout)
        let acrobot = try CLI.run(["rollout", "Acrobot-v1", "--random-steps", "5"])
        XCTAssertEqual(acrobot.status, 0, acrobot.stderr)
        XCTAssertEqual(acrobot.lines.count, 5)
    }

    func testBadClassicInputGivesOneLineErrors() throws {
        let dir = try CLI.temporaryDirectory()
        func file(_ name: String, _ text: String) throws -> String {
            let url = dir.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let good = try file("good.json", "[0, 1, 1]"), outOfRange = try file("range.json", "[0, 3]")
        let half = try file("half.json", "[0.5]"), nested = try file("nested.json", "[[0], [1]]")
        let robotState = try file("robot.json", "{\"qpos\": [0], \"qvel\": [0]}")
        let shortState = try file("short.json", "{\"state\": [0, 0]}")

        assertCleanFailure(try CLI.run(["rollout", "CartPole-v1", "--actions", outOfRange]),
                           contains: "action 1: action 3 is not valid for Discrete(2): expected one of 0, 1")
        assertCleanFailure(try CLI.run(["rollout", "acrobot", "--actions", half]),
                           contains: "action 0: action 0.5 is not valid for Discrete(3): expected one of 0, 1, 2")
        assertCleanFailure(try CLI.run(["rollout", "cartpole", "--actions", nested]),
                           contains: "not a valid actions file (an array of integers)")
        assertCleanFailure(try CLI.run(["rollout", "cartpole", "--actions", good, "--xml", good]),
                           contains: "--xml: CartPole-v1 is not a MuJoCo robot; valid here: Hopper-v5")
        assertCleanFailure(try CLI.run(["rollout", "cartpole", "--actions", good, "--init-state", robotState]),
                           contains: "is not a valid init-state file ({\"state\": [...]})")
        assertCleanFailure(try CLI.run(["rollout", "cartpole", "--actions", good, "--init-state", shortState]),
                           contains: "invalid state: CartPole-v1 needs 4 values (x, x_dot, theta, theta_dot), got 2")
        assertCleanFailure(try CLI.run(["rollout", "CartPole-v2", "--actions", good]),
                           contains: "unknown environment 'CartPole-v2'; valid: Hopper-v5")
        let listed = try CLI.run(["rollout", "CartPole-v2", "--actions", good]).stderr
        XCTAssertTrue(listed.contains("CartPole-v1, Acrobot-v1, MountainCar-v0, CartPole-v0"), listed)
        // A robot still wants qpos/qvel, not a classic state.
        assertCleanFailure(try CLI.run(["rollout", "hopper", "--random-steps", "1", "--init-state", shortState]),
                           contains: "is not a valid init-state file ({\"qpos\": [...], \"qvel\": [...]})")
    }

    /// `bench env` on a classic task: env steps/s and steps, no raw-MuJoCo keys.
    func testBenchEnvClassicJSON() throws {
        let r = try CLI.run(["bench", "env", "--env", "cartpole", "--steps", "2000", "--repeats", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines.count, 1)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(o["env"] as? String, "CartPole-v1")
        XCTAssertEqual(Set(o.keys), ["env", "env_steps_per_s", "steps"])
        XCTAssertGreaterThan(o["env_steps_per_s"] as? Double ?? 0, 0)
        XCTAssertEqual(o["steps"] as? Int, 2000)
    }
}
