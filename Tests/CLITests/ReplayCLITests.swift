import Foundation
import SparrowTestSupport
import XCTest

/// `sparrow replay` end to end: a window under Xvfb, offscreen recording, the shipped policy, and the errors.
final class ReplayCLITests: XCTestCase {
    static let asset = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../assets/hopper-tows-sac-0.9.policy").standardized.path
    nonisolated(unsafe) static var xvfb: XvfbServer?

    override class func tearDown() {
        xvfb?.stop()
        xvfb = nil
        super.tearDown()
    }

    /// DISPLAY of a private Xvfb, started once for this class.
    func display() throws -> String {
        if let x = Self.xvfb { return x.display }
        guard let x = try XvfbServer.start() else {
            throw XCTSkip("Xvfb is not installed (Debian package xvfb); the window tests need it")
        }
        Self.xvfb = x
        return x.display
    }

    /// Runs the CLI with exactly the given DISPLAY (nil: none at all).
    func replay(_ args: [String], display: String?) throws -> CLIRun {
        try CLI.run(["replay"] + args, environment: ["DISPLAY": display, "WAYLAND_DISPLAY": nil])
    }

    func assertLooksRendered(_ image: ReferencePNG.Image, width: Int, height: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(image.width, width, file: file, line: line)
        XCTAssertEqual(image.height, height, file: file, line: line)
        // Sky gradient, checker floor and a lit robot: hundreds of colours. A blank or cleared buffer has one or two.
        XCTAssertGreaterThan(ReferencePNG.colourCount(image), 100, file: file, line: line)
    }

    /// The window opens under Xvfb, runs the shipped policy and renders frames; the screenshot is the last frame.
    func testWindowRendersThePretrainedPolicyAndSavesAScreenshot() throws {
        let dir = try CLI.temporaryDirectory()
        let shot = dir.appendingPathComponent("shot.png").path
        let r = try replay([Self.asset, "--max-frames", "20", "--width", "320", "--height", "240", "--screenshot", shot],
                           display: try display())
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("20 frames"), r.stdout)
        XCTAssertTrue(r.stdout.contains("screenshot: \(shot)"), r.stdout)
        let image = try ReferencePNG.read(shot)
        assertLooksRendered(image, width: 320, height: 240)
    }

    /// Offscreen recording into a folder of PNG frames: count, size, content, and motion between first and last frame.
    func testRecordWritesPNGFramesThatShowTheRobotMoving() throws {
        let dir = try CLI.temporaryDirectory().appendingPathComponent("frames").path
        let r = try replay([Self.asset, "--record", dir, "--frames", "6", "--fps", "5", "--width", "160", "--height", "120"],
                           display: try display())
        XCTAssertEqual(r.status, 0, r.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(files, (0..<6).map { String(format: "frame_%05d.png", $0) })
        let first = try ReferencePNG.read(dir + "/" + files.first!), last = try ReferencePNG.read(dir + "/" + files.last!)
        assertLooksRendered(first, width: 160, height: 120)
        assertLooksRendered(last, width: 160, height: 120)
        let changed = zip(first.rgb, last.rgb).filter { abs(Int($0) - Int($1)) > 24 }.count
        XCTAssertGreaterThan(changed, first.rgb.count / 100, "1 s of hopping must change the picture")
    }

    /// Without any display, recording still works (surfaceless EGL) where EGL is installed; the window refuses in
    /// one line that suggests --record.
    func testNoDisplayIsOneLineSuggestingRecord() throws {
        let r = try replay(["--env", "Hopper-v5", "--zero", "--max-frames", "2"], display: nil)
        assertCleanFailure(r, contains: "--record")
        XCTAssertTrue(r.stderr.contains("no display"), r.stderr)
    }

    func testRandomAndZeroActionsNeedAnEnvAndBadInputsAreOneLineErrors() throws {
        let dir = try CLI.temporaryDirectory()
        let junk = dir.appendingPathComponent("junk.sparrow").path
        try "not a checkpoint".write(toFile: junk, atomically: true, encoding: .utf8)
        assertCleanFailure(try replay([dir.appendingPathComponent("nothing-here").path], display: nil), contains: "no checkpoint or policy file")
        assertCleanFailure(try replay([junk], display: nil), contains: "not a Sparrow checkpoint")
        assertCleanFailure(try replay([Self.asset, "--env", "Walker2d-v5"], display: nil), contains: "policy for Hopper-v5, not Walker2d-v5")
        assertCleanFailure(try replay(["--random"], display: nil), contains: "--env")
        assertCleanFailure(try replay(["--env", "Nope-v5", "--zero"], display: nil), contains: "Nope")
        assertCleanFailure(try replay([Self.asset, "--speed", "0"], display: nil), contains: "--speed")
    }

    /// A checkpoint made by `sparrow train` replays directly, and --export-policy turns it into a policy file that
    /// replays too.
    func testCheckpointReplaysAndExports() throws {
        let dir = try CLI.temporaryDirectory()
        let run = dir.appendingPathComponent("run").path
        let t = try CLI.run(["train", "--preset", "tows-sac", "--env", "InvertedPendulum-v5", "--steps", "400", "--start-steps", "300",
                             "--eval-every", "400", "--eval-episodes", "1", "--no-progress", "--run-dir", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        let frames = dir.appendingPathComponent("ckpt-frames").path
        let r = try replay([run, "--record", frames, "--frames", "2", "--width", "64", "--height", "48"], display: try display())
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("InvertedPendulum-v5 (tows-sac"), r.stdout)
        assertCleanFailure(try replay([run, "--env", "Hopper-v5"], display: nil), contains: "not Hopper-v5")

        let policy = dir.appendingPathComponent("p.policy").path
        let e = try replay([run, "--export-policy", policy], display: nil)
        XCTAssertEqual(e.status, 0, e.stderr)
        let again = try replay([policy, "--record", frames, "--frames", "2", "--width", "64", "--height", "48"], display: try display())
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try ReferencePNG.read(frames + "/frame_00001.png").width, 64)
    }
}

/// A private X server for the window tests: `Xvfb -displayfd` picks a free display number and reports it.
final class XvfbServer {
    let process: Process
    let display: String

    private init(process: Process, display: String) { self.process = process; self.display = display }

    static func start() throws -> XvfbServer? {
        let candidates = ["/usr/bin/Xvfb", "/usr/local/bin/Xvfb"]
        guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-displayfd", "1", "-screen", "0", "1024x768x24", "-nolisten", "tcp"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // The display number arrives as one line once the server accepts connections.
        var text = ""
        let deadline = Date().addingTimeInterval(15)
        while !text.contains("\n") && Date() < deadline && p.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { usleep(20_000) } else { text += String(decoding: chunk, as: UTF8.self) }
        }
        let number = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !number.isEmpty, Int(number) != nil else {
            p.terminate()
            throw NSError(domain: "Xvfb", code: 1, userInfo: [NSLocalizedDescriptionKey: "Xvfb did not start (output: \(text))"])
        }
        return XvfbServer(process: p, display: ":" + number)
    }

    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }
}
