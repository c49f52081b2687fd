import Environments
import Foundation
import SparrowCore
import SparrowTestSupport
@testable import Viewer
import XCTest

/// Atari in the viewer: Sparrow's GIF encoder against a reader written from the specification, the screen's
/// scaling, and offscreen recordings of a game that show the emulator's screen step by step.
final class AtariReplayTests: XCTestCase {
    /// Frames of few colours (moving blocks, a repeated frame, a 1×1 change) and a frame of 256 noisy colours (the
    /// LZW table fills and clears many times) decode to exactly the pixels given; the delays add up to the duration.
    func testGIFFramesDecodeToTheExactPixelsAndDurations() throws {
        let w = 97, h = 61, fps = 15.0
        var encoder = GIFEncoder(width: w, height: h, fps: fps)
        var frames: [[UInt8]] = []
        var g = Generator(seed: 4)
        for k in 0..<12 {
            var rgb = [UInt8](repeating: 0, count: w * h * 3)
            for y in 0..<h {
                for x in 0..<w {
                    let p = 3 * (y * w + x)
                    let inBlock = abs(x - 8 * k) < 6 && abs(y - 30) < 9
                    let c: (UInt8, UInt8, UInt8) = inBlock ? (200, 72, 72) : (y < 10 ? (142, 142, 142) : (0, 0, 0))
                    rgb[p] = c.0; rgb[p + 1] = c.1; rgb[p + 2] = c.2
                }
            }
            if k == 5 { rgb = frames[4] }  // nothing changed
            if k == 6 { rgb = frames[4]; rgb[3 * (w * 40 + 50)] = 255 }  // one pixel changed
            if k == 9 {
                // 256 colours in noise: the string table fills (4096 codes) and is cleared again and again.
                let palette = (0..<256).map { _ in (UInt8(g.next() & 255), UInt8(g.next() & 255), UInt8(g.next() & 255)) }
                for p in 0..<(w * h) {
                    let c = palette[Int(g.next() % 256)]
                    rgb[3 * p] = c.0; rgb[3 * p + 1] = c.1; rgb[3 * p + 2] = c.2
                }
            }
            encoder.add(rgb: rgb)
            frames.append(rgb)
        }
        let gif = try ReferenceGIF.decode(encoder.file)
        XCTAssertEqual(gif.width, w); XCTAssertEqual(gif.height, h)
        XCTAssertEqual(gif.loops, 0, "loops forever")
        XCTAssertEqual(gif.frames.count, frames.count)
        for k in frames.indices { XCTAssertTrue(gif.frames[k] == frames[k], "frame \(k) differs") }
        XCTAssertEqual(gif.delays.reduce(0, +), Int((100 * Double(frames.count) / fps).rounded()))
        XCTAssertTrue(gif.delays.allSatisfy { $0 == 6 || $0 == 7 }, "\(gif.delays)")
        // Unchanged frames cost a few bytes: the whole file is far smaller than the noise frame alone.
        XCTAssertLessThan(encoder.file.count, 2 * w * h)
    }

    /// A frame of more than 256 colours (512 equally frequent 4-bit cells) is reduced by median cut: at most 256
    /// colours, most of the table used, every pixel close to its colour (a channel's 16 levels in 256 colours
    /// leave about 8 per channel on average).
    func testGIFReducesAFrameOfManyColoursByMedianCut() throws {
        let w = 64, h = 64
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let p = 3 * (y * w + x)
                rgb[p] = UInt8(x * 4); rgb[p + 1] = UInt8(y * 4); rgb[p + 2] = UInt8((x + y) % 8 == 0 ? 255 : 40)
            }
        }
        var encoder = GIFEncoder(width: w, height: h, fps: 10)
        encoder.add(rgb: rgb)
        let out = try ReferenceGIF.decode(encoder.file).frames[0]
        let errors: [Int] = zip(rgb, out).map { (a: UInt8, b: UInt8) -> Int in abs(Int(a) - Int(b)) }
        let meanError = Double(errors.reduce(0, +)) / Double(errors.count)
        XCTAssertLessThan(meanError, 8)
        XCTAssertLessThan(errors.max()!, 40)
        var exactCells = Set<Int>()
        for p in 0..<(w * h) {
            let r = Int(out[3 * p]), g = Int(out[3 * p + 1]), b = Int(out[3 * p + 2])
            exactCells.insert(r << 16 | g << 8 | b)
        }
        XCTAssertLessThanOrEqual(exactCells.count, 256)
        XCTAssertGreaterThan(exactCells.count, 200, "a reduced frame still uses most of its table")
    }

    /// The picture is scaled as large as fits, aspect kept and centred; nearest-neighbour at an integer scale
    /// repeats each pixel, bottom-up for OpenGL reverses the rows.
    func testScreenImagesFitAndScaleByNearestNeighbour() {
        let f = ScreenImage.fit(width: 160, height: 210, viewportWidth: 1200, viewportHeight: 900)
        XCTAssertEqual(f.height, 900); XCTAssertEqual(f.width, 686); XCTAssertEqual(f.left, 257); XCTAssertEqual(f.bottom, 0)
        let g = ScreenImage.fit(width: 160, height: 210, viewportWidth: 320, viewportHeight: 900)
        XCTAssertEqual(g.width, 320); XCTAssertEqual(g.height, 420); XCTAssertEqual(g.left, 0); XCTAssertEqual(g.bottom, 240)
        let image = ScreenImage(rgb: (0..<(5 * 3 * 3)).map { UInt8($0) }, width: 5, height: 3)
        let up = image.scaled(width: 15, height: 6, bottomUp: false)
        let down = image.scaled(width: 15, height: 6, bottomUp: true)
        for y in 0..<6 {
            for x in 0..<15 {
                for c in 0..<3 {
                    let want = image.rgb[3 * ((y / 2) * 5 + x / 3) + c]
                    XCTAssertEqual(up[3 * (y * 15 + x) + c], want)
                    XCTAssertEqual(down[3 * ((5 - y) * 15 + x) + c], want)
                }
            }
        }
    }

    /// 60 steps of random Breakout recorded offscreen at twice the screen's size and one frame per step: every
    /// GIF frame is the emulator's RGB screen of a twin session (same seed, same steps), each screen pixel a 2×2
    /// block; the PNG-folder recording of the same session holds the same pictures; a random agent's ball moves.
    func testAtariRecordingIsTheEmulatorScreenStepByStep() throws {
        let steps = 60, w = 320, h = 420
        let folder = NSTemporaryDirectory() + "sparrow-atari-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func record(_ path: String) throws -> RecordResult {
            let session = try makeReplaySession(envName: "ALE/Breakout-v5", source: .random, seed: 7)
            let options = RecordOptions(path: path, frames: steps, width: w, height: h, fps: 1 / session.env.dt, speed: 1,
                                        effects: RenderEffects(), overlay: false)
            do { return try Recorder.record(session, options: options) } catch let e as ViewerError where "\(e)".contains("OpenGL") {
                throw XCTSkip("no offscreen OpenGL here: \(e)")
            }
        }
        let gifPath = folder + "/breakout.gif"
        XCTAssertEqual(try record(gifPath).output, .video(gifPath))
        let gif = try ReferenceGIF.decode(Array(try Data(contentsOf: URL(fileURLWithPath: gifPath))))
        XCTAssertEqual(gif.frames.count, steps)
        XCTAssertTrue(gif.delays.allSatisfy { $0 == 7 || $0 == 6 }, "15 frames per second: \(gif.delays)")

        let twin = try makeReplaySession(envName: "ALE/Breakout-v5", source: .random, seed: 7)
        var changed = 0
        for k in 0..<steps {
            if k > 0 { try twin.advance() }
            let screen = try XCTUnwrap(twin.scene.screenImage())
            XCTAssertEqual(screen.width, 160); XCTAssertEqual(screen.height, 210)
            var mismatches = 0
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<3 where gif.frames[k][3 * (y * w + x) + c] != screen.rgb[3 * ((y / 2) * 160 + x / 2) + c] {
                        mismatches += 1
                    }
                }
            }
            XCTAssertEqual(mismatches, 0, "frame \(k) is not the screen after \(k) steps")
            if k > 0, gif.frames[k] != gif.frames[k - 1] { changed += 1 }
        }
        XCTAssertGreaterThan(changed, steps / 3, "the game moves")

        let pngs = folder + "/frames"
        _ = try record(pngs)
        for k in [0, steps / 2, steps - 1] {
            let png = try ReferencePNG.read(pngs + "/" + PNGFolderSink.fileName(k))
            XCTAssertTrue(png.rgb == gif.frames[k], "PNG frame \(k) differs from the GIF's")
        }
    }

    /// The overlay of an Atari session shows ale-py's lives and the episode's frame number; random play loses
    /// lives and ends episodes, which the session counts.
    func testAtariSessionsReportLivesAndFinishEpisodes() throws {
        let session = try makeReplaySession(envName: "ALE/Breakout-v5", source: .random, seed: 2)
        let scene = try XCTUnwrap(session.scene as? AtariScene)
        XCTAssertEqual(scene.overlayRows().first?.1, "5")
        var lives: Set<Int> = []
        while session.finishedReturns.isEmpty, session.step < 20_000 {
            try session.advance()
            lives.insert(scene.env.info.lives)
        }
        XCTAssertEqual(session.finishedReturns.count, 1, "a random Breakout game ends")
        XCTAssertTrue(lives.isSuperset(of: [4, 1]), "\(lives)")
        let (titles, values) = session.overlayLines()
        XCTAssertTrue(titles.contains("Lives") && titles.contains("Frame"), titles)
        XCTAssertTrue(values.contains("ALE/Breakout-v5"), values)
    }
}
