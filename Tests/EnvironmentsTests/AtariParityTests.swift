import Foundation
import XCTest
@testable import Environments
import SparrowCore

/// Holds Sparrow's ALE/<Game>-v5 to trajectories recorded from Gymnasium 1.4 + ale-py 0.12.1 by
/// tools/parity/record_atari.py (Fixtures/atari/<Game>.json): for Breakout, Pong and Seaquest, a seeded reset, random
/// actions, episodes that end by losing all lives and by truncation (max_episode_frames=400), a reset after each end
/// and one in the middle of an episode. Every line's reward, terminated, truncated, lives, frame numbers and the
/// CRC-32 of the whole 4×84×84 observation must match (every pixel: a frame differing anywhere changes the CRC
/// except with probability 2⁻³²), and a few observations are compared byte for byte.
///
/// These tests need the ALE library that `make deps` builds (tools/ale/build.sh). Without it they fail, saying so:
/// a parity test that passes without running would prove nothing.
final class AtariParityTests: XCTestCase {
    struct Lines: Decodable {
        let kind: [Int]  // 0: the seeded reset, 1: a step, 2: an unseeded reset
        let action: [Int]
        let reward: [Double]
        let terminated: [Int]
        let truncated: [Int]
        let lives: [Int]
        let frame_number: [Int]
        let episode_frame_number: [Int]
        let crc32: [UInt32]
    }
    struct FullObservation: Decodable { let line: Int; let b64: String }
    struct Segment: Decodable {
        let name: String
        let seed: UInt64
        let max_episode_frames: Int
        let events: [Int?]
        let lines: Lines
        let full_observations: [FullObservation]
    }
    struct Fixture: Decodable {
        let game: String
        let env: String
        let ale_py: String
        let segments: [Segment]
    }

    static func fixtureURL(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/atari")
            ?? Bundle.module.url(forResource: "Fixtures/atari/\(name)", withExtension: "json"), "fixture atari/\(name).json")
    }

    /// The ALE library, or a failure that says how to build it.
    func requireALE() throws {
        do { _ = try ALELibrary.get() } catch {
            XCTFail("Atari parity tests need the ALE library: \(error)")
            throw error
        }
    }

    func check(_ game: String) throws {
        try requireALE()
        let fx = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: try Self.fixtureURL(game)))
        let atariGame = try XCTUnwrap(AtariGame.find(fx.env))
        XCTAssertEqual(atariGame.name, fx.env)
        // The fixture covers what the test claims: ends by losing all lives and by truncation, resets in between.
        let all = fx.segments.map(\.lines)
        XCTAssertGreaterThanOrEqual(all.map { $0.terminated.reduce(0, +) }.reduce(0, +), 2, "\(game): games lost")
        XCTAssertGreaterThanOrEqual(all.map { $0.truncated.reduce(0, +) }.reduce(0, +), 2, "\(game): truncations")
        XCTAssertTrue(fx.segments.contains { s in s.events.contains { $0 == nil } }, "\(game): a mid-episode reset")

        for seg in fx.segments {
            var options = AtariOptions()
            options.maxEpisodeFrames = seg.max_episode_frames
            let env = try AtariEnv(atariGame, options: options, seed: seg.seed)
            let L = seg.lines
            var line = 0
            var failures = 0
            func compare(_ what: String, reward: Double = 0, terminated: Bool = false, truncated: Bool = false) {
                let at = "\(game) \(seg.name) line \(line) (\(what))"
                let obs = env.observationBytes
                var ok = true
                ok = ok && reward == L.reward[line] && (terminated ? 1 : 0) == L.terminated[line]
                ok = ok && (truncated ? 1 : 0) == L.truncated[line]
                ok = ok && env.info.lives == L.lives[line] && env.info.frameNumber == L.frame_number[line]
                ok = ok && env.info.episodeFrameNumber == L.episode_frame_number[line]
                let crc = CRC32.zlib(obs)
                if !ok || crc != L.crc32[line] {
                    failures += 1
                    if failures <= 3 {
                        XCTFail("\(at): Sparrow reward \(reward) terminated \(terminated) truncated \(truncated) lives "
                            + "\(env.info.lives) frame \(env.info.frameNumber)/\(env.info.episodeFrameNumber) crc \(crc); "
                            + "Gymnasium \(L.reward[line]) \(L.terminated[line]) \(L.truncated[line]) \(L.lives[line]) "
                            + "\(L.frame_number[line])/\(L.episode_frame_number[line]) crc \(L.crc32[line])")
                    }
                }
                if let full = seg.full_observations.first(where: { $0.line == line }) {
                    let expected = [UInt8](Data(base64Encoded: full.b64)!)
                    XCTAssertEqual(expected.count, obs.count)
                    let differing = zip(obs, expected).filter { $0 != $1 }.count
                    XCTAssertEqual(differing, 0, "\(at): bytes of the full observation differing from Gymnasium's")
                }
                line += 1
            }
            try env.resetFrames(seed: seg.seed)
            XCTAssertEqual(L.kind[0], 0)
            compare("seeded reset")
            for event in seg.events {
                guard let action = event else {
                    try env.resetFrames(seed: nil)
                    XCTAssertEqual(L.kind[line], 2)
                    compare("reset in the middle")
                    continue
                }
                XCTAssertEqual(L.kind[line], 1)
                XCTAssertEqual(L.action[line], action)
                let r = try env.stepFrames(action: action)
                compare("step", reward: r.reward, terminated: r.terminated, truncated: r.truncated)
                if r.terminated || r.truncated {
                    try env.resetFrames(seed: nil)
                    XCTAssertEqual(L.kind[line], 2)
                    compare("reset after the end")
                }
            }
            XCTAssertEqual(line, L.kind.count, "\(game) \(seg.name): every recorded line compared")
            XCTAssertEqual(failures, 0, "\(game) \(seg.name): lines that differ")
        }
    }

    func testBreakoutMatchesGymnasium() throws { try check("Breakout") }
    func testPongMatchesGymnasium() throws { try check("Pong") }
    func testSeaquestMatchesGymnasium() throws { try check("Seaquest") }

    /// A checkpoint taken mid-episode (ALE's own state serialisation with its RNG, the NumPy generator, the
    /// wrapper's buffers) resumes into the same future as the uninterrupted run.
    func testCheckpointResumesTheSameEpisode() throws {
        try requireALE()
        let game = try XCTUnwrap(AtariGame.find("ALE/Breakout-v5"))
        let a = try AtariEnv(game, seed: 3)
        try a.resetFrames(seed: 3)
        var g = Generator(seed: 9)
        for _ in 0..<40 { _ = try a.stepFrames(action: g.nextInt(below: 4)) }
        var w = ByteWriter()
        a.encodeState(into: &w)
        let b = try AtariEnv(game, seed: 99)
        var r = ByteReader(w.bytes)
        try b.decodeState(from: &r)
        for t in 0..<300 {
            let action = g.nextInt(below: 4)
            let ra = try a.stepFrames(action: action), rb = try b.stepFrames(action: action)
            XCTAssertEqual(ra, rb, "step \(t)")
            XCTAssertTrue(a.observationBytes == b.observationBytes, "step \(t): observations differ")
            if ra.terminated || ra.truncated { try a.resetFrames(seed: nil); try b.resetFrames(seed: nil) }
        }
    }

    /// Sticky actions repeat the emulator's last action, which ALE's own state serialisation leaves out (the shim
    /// saves it beside): a checkpoint restored into an emulator whose last action was another one continues exactly
    /// as the original, at each of 40 consecutive cut points (a quarter of first frames are sticky, so a missing last
    /// action shows within a few cuts).
    func testCheckpointKeepsTheStickyAction() throws {
        try requireALE()
        let game = try XCTUnwrap(AtariGame.find("ALE/Breakout-v5"))
        let a = try AtariEnv(game, seed: 5), b = try AtariEnv(game, seed: 6)
        try a.resetFrames(seed: 5); try b.resetFrames(seed: 6)
        var g = Generator(seed: 4)
        var states: [[UInt8]] = [], actions: [Int] = [], observations: [[UInt8]] = []
        for _ in 0..<70 {
            var w = ByteWriter()
            a.encodeState(into: &w)
            states.append(w.bytes)
            let action = g.nextInt(below: 4)
            let step = try a.stepFrames(action: action)
            XCTAssertFalse(step.terminated || step.truncated)
            actions.append(action); observations.append(a.observationBytes)
        }
        var compared = 0
        for k in 20..<60 {
            _ = try b.stepFrames(action: (actions[k - 1] + 1 + k % 3) % 4)  // b's last action is not a's
            var r = ByteReader(states[k])
            try b.decodeState(from: &r)
            for t in k..<(k + 10) {
                _ = try b.stepFrames(action: actions[t])
                XCTAssertTrue(b.observationBytes == observations[t], "cut \(k), step \(t): observations differ")
                compared += 1
            }
        }
        XCTAssertEqual(compared, 400)
    }

    /// OpenCV's INTER_AREA, 210×160 → 84×84, on images both sides generate (hash noise, flat, checkerboard,
    /// gradient): every pixel equal to cv2.resize's (Fixtures/atari/resize.json).
    func testAreaResizeMatchesOpenCV() throws {
        struct Image: Decodable { let name: String; let b64: String }
        struct Fixture: Decodable { let opencv: String; let images: [Image] }
        let fx = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: try Self.fixtureURL("resize")))
        let resize = AreaResize(sourceWidth: 160, sourceHeight: 210, width: 84, height: 84)
        XCTAssertEqual(fx.images.count, 8)
        for image in fx.images {
            let src = Self.image(image.name)
            var out = [UInt8](repeating: 0, count: 84 * 84)
            var scratch = [Float](repeating: 0, count: 168)
            src.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { resize.resize(s, into: o, scratch: $0) }
                }
            }
            let expected = [UInt8](Data(base64Encoded: image.b64)!)
            let differing = (0..<out.count).filter { out[$0] != expected[$0] }
            XCTAssertEqual(differing.count, 0, "\(image.name): pixels differing from OpenCV \(fx.opencv), first at "
                + "\(differing.first.map { "(\($0 / 84), \($0 % 84))" } ?? "-")")
        }
    }

    /// The images of tools/parity/record_atari.py's resize_fixture, generated the same way.
    static func image(_ name: String) -> [UInt8] {
        let n = 210 * 160
        switch name {
        case "flat255": return [UInt8](repeating: 255, count: n)
        case "flat0": return [UInt8](repeating: 0, count: n)
        case "checker":
            return (0..<n).map { (i: Int) -> UInt8 in
                let y = i / 160, x = i % 160
                return (y + x) % 2 == 0 ? 0 : 255
            }
        case "gradient":
            return (0..<n).map { (i: Int) -> UInt8 in
                let y = i / 160, x = i % 160
                return UInt8((x * 3 + y * 5) % 256)
            }
        default:
            let k = UInt64(name.dropFirst(5))!
            return (0..<n).map { i in
                var x = UInt64(i) &+ k &* 0x9E37_79B9_7F4A_7C15
                x = (x ^ (x >> 33)) &* 0xFF51_AFD7_ED55_8CCD
                x ^= x >> 33
                return UInt8(truncatingIfNeeded: x)
            }
        }
    }

    func testUnknownGameNamesTheClosest() {
        XCTAssertThrowsError(try TaskID(name: "ALE/Breakot-v5")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("did you mean ALE/Breakout-v5"), text)
            XCTAssertFalse(text.contains("\n"))
        }
        XCTAssertEqual(try TaskID(name: "ALE/space_invaders"), .atari(AtariGame.find("ALE/SpaceInvaders-v5")!))
        XCTAssertEqual(AtariGame.all.count, 104)
        XCTAssertEqual(AtariGame.find("ALE/TicTacToe3D-v5")?.romID, "tic_tac_toe_3d")
    }
}

/// zlib's CRC-32 (Python's zlib.crc32), for comparing observations with the fixture.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    static func zlib(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
