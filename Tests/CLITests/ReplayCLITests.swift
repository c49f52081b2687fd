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

    /// An Atari game in the window: random Breakout under Xvfb, the screen scaled to fit (3× in a 480 × 630
    /// window, no overlay) with Breakout's grey walls and rainbow bricks; the overlay lists lives when it is on.
    func testWindowShowsAnAtariScreen() throws {
        let dir = try CLI.temporaryDirectory()
        let shot = dir.appendingPathComponent("breakout.png").path
        let r = try replay(["--env", "ALE/Breakout-v5", "--random", "--max-frames", "15", "--width", "480", "--height", "630",
                            "--no-overlay", "--screenshot", shot], display: try display())
        XCTAssertEqual(r.status, 0, r.stderr)
        let image = try ReferencePNG.read(shot)
        XCTAssertEqual(image.width, 480); XCTAssertEqual(image.height, 630)
        func count(_ c: (UInt8, UInt8, UInt8)) -> Int {
            stride(from: 0, to: image.rgb.count, by: 3).filter { image.rgb[$0] == c.0 && image.rgb[$0 + 1] == c.1 && image.rgb[$0 + 2] == c.2 }.count
        }
        // The walls: ale's NTSC grey 142; the top row of bricks red (200, 72, 72); each 3 × 3 on the screen.
        XCTAssertGreaterThan(count((142, 142, 142)), 9 * 2000, "walls")
        XCTAssertGreaterThan(count((200, 72, 72)), 9 * 600, "red bricks")
        let withOverlay = try replay(["--env", "ALE/Breakout-v5", "--random", "--max-frames", "3", "--width", "480",
                                      "--height", "630"], display: try display())
        XCTAssertEqual(withOverlay.status, 0, withOverlay.stderr)
    }

    /// Real key presses: xdotool sends X key events to the window, which must pause, take single steps, switch the
    /// overlay off, save screenshots into the working directory, change speed and camera, start a new episode and quit;
    /// a mouse drag rotates the view.
    func testKeysPauseStepToggleTheOverlayTakeScreenshotsAndQuit() throws {
        let display = try display()
        let xdotool = "/usr/bin/xdotool"
        guard FileManager.default.isExecutableFile(atPath: xdotool) else {
            throw XCTSkip("xdotool is not installed (Debian package xdotool); the key test needs it")
        }
        let dir = try CLI.temporaryDirectory()
        let p = Process()
        p.executableURL = CLI.executable
        // Slow motion, so the zero-action hopper is still in its first episode when the keys arrive.
        p.arguments = ["replay", "--env", "Hopper-v5", "--zero", "--width", "320", "--height", "240", "--speed", "0.125"]
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["DISPLAY"] = display
        env["WAYLAND_DISPLAY"] = nil
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        defer { if p.isRunning { p.terminate() } }

        /// Runs xdotool; `check: false` for the quitting key, whose release may find the window already gone.
        func xdo(_ args: [String], check: Bool = true) throws -> String {
            let r = try CLI.run(executable: URL(fileURLWithPath: "/usr/bin/timeout"), ["30", xdotool] + args,
                                environment: ["DISPLAY": display])
            if check { XCTAssertEqual(r.status, 0, "xdotool \(args): \(r.stderr)") }
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let window = try xdo(["search", "--sync", "--name", "sparrow replay"]).split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertFalse(window.isEmpty, "no replay window appeared")
        Thread.sleep(forTimeInterval: 1)
        func press(_ keys: [String]) throws {
            for key in keys {
                _ = try xdo(["key", "--window", window, key], check: key != "q")
                Thread.sleep(forTimeInterval: 0.3)
            }
        }
        try press(["space", "s", "Right", "Right", "Right"])
        // The window takes one queued single step per frame: on a loaded machine the three steps can still be
        // running when the next keys arrive, so let them finish before the two paused screenshots are compared.
        Thread.sleep(forTimeInterval: 1.5)
        try press(["h", "s", "s"])
        // A left drag across the paused window rotates the camera.
        for step in [["mousemove", "--window", window, "160", "120", "mousedown", "1"], ["mousemove", "--window", window, "240", "130"],
                     ["mousemove", "--window", window, "300", "140"], ["mouseup", "1"]] {
            _ = try xdo(step)
            Thread.sleep(forTimeInterval: 0.2)
        }
        try press(["s", "space", "equal", "c", "r", "q"])
        let deadline = Date().addingTimeInterval(20)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(p.isRunning, "Q did not close the window")
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, stderr)
        let lines = stdout.split(separator: "\n").map(String.init)

        func position(_ prefix: String) -> (episode: Int, step: Int)? {
            guard let line = lines.first(where: { $0.hasPrefix(prefix) }) else { return nil }
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
        }
        let paused = try XCTUnwrap(position("paused at episode"), stdout)
        let resumed = try XCTUnwrap(position("resumed at episode"), stdout)
        XCTAssertEqual(resumed.episode, paused.episode, stdout)
        XCTAssertEqual(resumed.step, paused.step + 3, "three → presses while paused take exactly three steps: \(stdout)")
        XCTAssertTrue(lines.contains("overlay off"), stdout)
        XCTAssertTrue(lines.contains("speed 0.250x"), stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("camera ") }, stdout)
        XCTAssertTrue(lines.contains("new episode \(paused.episode + 1)"), stdout)

        let shots = (1...4).map { "sparrow-screenshot-\($0).png" }
        XCTAssertEqual(lines.filter { $0.hasPrefix("screenshot: ") }, shots.map { "screenshot: \($0)" }, stdout)
        let images = try shots.map { try ReferencePNG.read(dir.appendingPathComponent($0).path) }
        for image in images { assertLooksRendered(image, width: 320, height: 240) }
        XCTAssertEqual(images[1].rgb, images[2].rgb, "paused without overlay: two screenshots must be identical")
        XCTAssertNotEqual(images[0].rgb, images[1].rgb, "overlay and three steps must change the picture")
        let moved = zip(images[2].rgb, images[3].rgb).filter { abs(Int($0) - Int($1)) > 24 }.count
        XCTAssertGreaterThan(moved, images[2].rgb.count / 20, "dragging with the left button must rotate the view")
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
