import Foundation
import XCTest

/// `sparrow rollout ALE/<Game>-v5` against the Gymnasium fixture the environment tests use, and its bad inputs.
/// Needs the ALE library `make deps` builds; without it the rollout test fails with that message.
final class AtariCLITests: XCTestCase {
    struct Lines: Decodable {
        let kind: [Int], action: [Int], reward: [Double], terminated: [Int], truncated: [Int], lives: [Int]
        let frame_number: [Int], episode_frame_number: [Int]
    }
    struct FullObservation: Decodable { let line: Int; let b64: String }
    struct Segment: Decodable {
        let name: String; let seed: UInt64; let max_episode_frames: Int; let events: [Int?]; let lines: Lines
        let full_observations: [FullObservation]
    }
    struct Fixture: Decodable { let segments: [Segment] }
    struct Line: Decodable {
        let reset: Bool?; let t: Int?; let reward: Double?; let terminated: Bool?; let truncated: Bool?
        let lives: Int; let frame_number: Int; let episode_frame_number: Int; let obs_b64: String
    }

    /// Breakout's truncation segment (max 400 frames, resets after each end) through the command line: every line's
    /// reward, flags, lives and frame numbers, and the newest frame of the recorded full observations.
    func testRolloutMatchesGymnasiumFixture() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../EnvironmentsTests/Fixtures/atari/Breakout.json").standardized
        let fx = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let seg = try XCTUnwrap(fx.segments.first { $0.name == "truncation" })
        XCTAssertFalse(seg.events.contains { $0 == nil })
        let dir = try CLI.temporaryDirectory()
        let actions = dir.appendingPathComponent("actions.json")
        try JSONEncoder().encode(seg.events.map { $0! }).write(to: actions)
        let r = try CLI.run(["rollout", "ALE/Breakout-v5", "--actions", actions.path, "--seed", "\(seg.seed)",
                             "--max-episode-frames", "\(seg.max_episode_frames)", "--reset-at-end"])
        XCTAssertEqual(r.status, 0, "rollout failed (is ALE built? run make deps): \(r.stderr)")
        let lines = try r.lines.map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        let L = seg.lines
        XCTAssertEqual(lines.count, L.kind.count)
        for (i, line) in lines.enumerated() where i < L.kind.count {
            XCTAssertEqual(line.reset == true, L.kind[i] != 1, "line \(i)")
            XCTAssertEqual(line.reward ?? 0, L.reward[i], "line \(i)")
            XCTAssertEqual((line.terminated ?? false) ? 1 : 0, L.terminated[i], "line \(i)")
            XCTAssertEqual((line.truncated ?? false) ? 1 : 0, L.truncated[i], "line \(i)")
            XCTAssertEqual(line.lives, L.lives[i], "line \(i)")
            XCTAssertEqual(line.frame_number, L.frame_number[i], "line \(i)")
            XCTAssertEqual(line.episode_frame_number, L.episode_frame_number[i], "line \(i)")
        }
        XCTAssertEqual(L.truncated.reduce(0, +), 2)
        for full in seg.full_observations {
            let stack = [UInt8](Data(base64Encoded: full.b64)!)
            let newest = Array(stack[(stack.count - 84 * 84)...])
            XCTAssertEqual([UInt8](Data(base64Encoded: lines[full.line].obs_b64)!), newest, "line \(full.line): newest frame")
        }
    }

    /// The shipped Breakout policy (assets/breakout-rigl-dqn-0.9.policy: the 90%-sparse RigL DQN of the Atari
    /// evidence, 2M steps) is found by the game's name and plays: `sparrow eval breakout` scores far above a random
    /// policy's ~1.4 (it reads the frames as the run did, scaled by 1/255, through the truly sparse Nature CNN); a
    /// game without a zoo policy is one line naming the games that have one.
    func testZooBreakoutPolicyPlaysByTheGamesName() throws {
        let assets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../assets").standardized.path
        let env: [String: String?] = ["SPARROW_ZOO": assets]
        let r = try CLI.run(["eval", "breakout", "--episodes", "2", "--seed", "5"], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.lines.first?.hasPrefix("ALE/Breakout-v5 rigl-dqn-atari: 2 episodes, return ") == true, r.stdout)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((r.lines.last ?? "").utf8)) as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(json["mean_return"] as? Double), 10, r.stdout)
        XCTAssertEqual(try CLI.run(["eval", "ALE/Breakout-v5", "--episodes", "2", "--seed", "5"], environment: env).lines, r.lines)
        // --eval-epsilon replaces the run's 0.001: at 1 every action is random, and Breakout's score falls to chance.
        let random = try CLI.run(["eval", "breakout", "--episodes", "2", "--seed", "5", "--eval-epsilon", "1"], environment: env)
        XCTAssertEqual(random.status, 0, random.stderr)
        let randomJSON = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((random.lines.last ?? "").utf8)) as? [String: Any])
        XCTAssertLessThan(try XCTUnwrap(randomJSON["mean_return"] as? Double), 5, random.stdout)
        assertCleanFailure(try CLI.run(["eval", "breakout", "--eval-epsilon", "1.5"], environment: env), contains: "--eval-epsilon must be in [0, 1], got 1.5")
        assertCleanFailure(try CLI.run(["eval", "pong"], environment: env), contains: "no pretrained policy for ALE/Pong-v5 in")
        assertCleanFailure(try CLI.run(["eval", "pong"], environment: env), contains: "games with one: breakout")
        assertCleanFailure(try CLI.run(["replay", "ALE/Breakot-v5"], environment: env), contains: "did you mean ALE/Breakout-v5")
    }

    func testUnknownGameListsCloseNames() throws {
        assertCleanFailure(try CLI.run(["rollout", "ALE/Breakot-v5", "--random-steps", "3"]),
                           contains: "did you mean ALE/Breakout-v5")
    }

    func testOutOfRangeActionIsRefusedBeforeStepping() throws {
        let dir = try CLI.temporaryDirectory()
        let actions = dir.appendingPathComponent("actions.json")
        try Data("[0, 1, 4]".utf8).write(to: actions)
        let r = try CLI.run(["rollout", "ALE/Breakout-v5", "--actions", actions.path])
        assertCleanFailure(r, contains: "action 2: action 4 is not valid for Discrete(4)")
        XCTAssertEqual(r.stdout, "", "nothing stepped, nothing printed")
    }

    /// A missing or foreign library is one line saying how to build ALE (no trap, no dlopen text).
    func testMissingOrForeignLibraryIsOneLineSayingHowToBuild() throws {
        assertCleanFailure(try CLI.run(["rollout", "ALE/Pong-v5", "--random-steps", "3"],
                                       environment: ["SPARROW_ALE_LIB": "/nonexistent/libsparrow_ale.so"]),
                           contains: "run `make deps`")
        let foreign = ["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1"]
            .first { FileManager.default.fileExists(atPath: $0) }
        if let foreign {
            assertCleanFailure(try CLI.run(["rollout", "ALE/Pong-v5", "--random-steps", "3"],
                                           environment: ["SPARROW_ALE_LIB": foreign]),
                               contains: "run `make deps`")
        }
        // Other tasks do not need it.
        let r = try CLI.run(["rollout", "CartPole-v1", "--random-steps", "2"],
                            environment: ["SPARROW_ALE_LIB": "/nonexistent/libsparrow_ale.so"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}
