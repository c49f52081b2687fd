import CGLFW
import CMuJoCo
import Foundation

/// Settings of the interactive window.
public struct WindowOptions: Sendable {
    public var width = 1200
    public var height = 900
    /// Simulated seconds per wall-clock second.
    public var speed = 1.0
    /// Stop after this many finished episodes (nil: until the window is closed).
    public var episodes: Int?
    public var effects = RenderEffects()
    public var overlay = true
    /// Close after rendering this many frames (for tests and scripted screenshots).
    public var maxFrames: Int?
    /// Save the last rendered frame as a PNG here when the window closes.
    public var screenshotPath: String?
    public init() {}
}

/// What happened in the window.
public struct WindowResult: Sendable {
    public var frames: Int
    public var episodesFinished: [Double]
    public var stepsSimulated: Int
    public var screenshots: [String]
    public var averageFPS: Double
}

/// The interactive viewer: a GLFW window showing the session in real time (simulated time × speed follows the wall
/// clock), a camera tracking the torso (a classic-control task: its fixed side camera) or moved with the mouse as in
/// MuJoCo's `simulate`, keys, and an overlay.
///
/// Keys: space pause/resume · → one step while paused · R new episode · + / − speed ×2 / ÷2 · C next camera ·
/// S save a PNG screenshot · H overlay on/off · Esc or Q quit.
/// Mouse: left drag rotates (shift: horizontal plane), right drag pans (shift: horizontal plane), middle drag or
/// scroll zooms.
public final class WindowViewer {
    let session: ReplaySession
    var options: WindowOptions
    let gl: GLContext
    let window: OpaquePointer
    var renderer: SceneRenderer!

    var paused = false
    /// Single steps asked for with → while paused, taken one per frame.
    var singleSteps = 0
    var quit = false
    var showOverlay: Bool
    var speed: Double
    var screenshotRequests = 0
    var screenshots: [String] = []
    var fps = 0.0
    var steps = 0
    // Mouse state, as in simulate.cc.
    var buttonLeft = false, buttonRight = false, buttonMiddle = false
    var lastX = 0.0, lastY = 0.0

    /// Opens the window. Throws `ViewerError.noDisplay` (one line, suggesting --record) without an X display.
    public init(session: ReplaySession, options: WindowOptions) throws {
        self.session = session
        self.options = options
        showOverlay = options.overlay
        speed = options.speed
        gl = try GLContext.window(title: "sparrow replay — \(session.env.name)", width: options.width,
                                  height: options.height, samples: options.effects.samples)
        window = gl.window!
        renderer = SceneRenderer(model: session.scene.model, effects: options.effects, offscreen: nil,
                                 initialCamera: session.scene.initialCamera)
        glfwSetWindowUserPointer(window, Unmanaged.passUnretained(self).toOpaque())
        glfwSetKeyCallback(window) { w, key, _, action, mods in
            WindowViewer.from(w)?.key(key, action: action, mods: mods)
        }
        glfwSetMouseButtonCallback(window) { w, _, _, _ in WindowViewer.from(w)?.mouseButton() }
        glfwSetCursorPosCallback(window) { w, x, y in WindowViewer.from(w)?.mouseMove(x, y) }
        glfwSetScrollCallback(window) { w, _, dy in WindowViewer.from(w)?.scroll(dy) }
    }

    deinit {
        glfwSetWindowUserPointer(window, nil)
        renderer = nil  // free MuJoCo's GL objects while the context still exists
    }

    static func from(_ w: OpaquePointer?) -> WindowViewer? {
        guard let w, let p = glfwGetWindowUserPointer(w) else { return nil }
        return Unmanaged<WindowViewer>.fromOpaque(p).takeUnretainedValue()
    }

    // MARK: loop

    public func run() throws -> WindowResult {
        var frames = 0
        var last = Date()
        var fpsWindowStart = Date(), fpsFrames = 0
        let started = Date()
        var rgb = [UInt8]()
        var pending = 0.0  // simulated seconds owed to the wall clock
        while !quit && glfwWindowShouldClose(window) == 0 {
            let now = Date()
            let wall = min(now.timeIntervalSince(last), 0.1)  // a slow frame is not made up for in one jump
            last = now
            if !paused {
                pending += wall * speed
                while pending >= session.env.dt {
                    try stepSession()
                    pending -= session.env.dt
                    if quit { break }
                }
            } else {
                pending = 0
                if singleSteps > 0 { singleSteps -= 1; try stepSession() }
            }

            var w: Int32 = 0, h: Int32 = 0
            glfwGetFramebufferSize(window, &w, &h)
            let viewport = mjrRect(left: 0, bottom: 0, width: w, height: h)
            renderer.render(session.scene, viewport: viewport)
            if showOverlay { drawOverlay(viewport) }
            frames += 1
            fpsFrames += 1
            let t = Date().timeIntervalSince(fpsWindowStart)
            if t >= 0.5 { fps = Double(fpsFrames) / t; fpsFrames = 0; fpsWindowStart = Date() }

            let lastFrame = options.maxFrames.map { frames >= $0 } ?? false
            if screenshotRequests > 0 || (lastFrame && options.screenshotPath != nil) {
                renderer.readPixels(viewport, into: &rgb)
                while screenshotRequests > 0 { screenshotRequests -= 1; try saveScreenshot(rgb, Int(w), Int(h), path: nil) }
                if lastFrame, let path = options.screenshotPath { try saveScreenshot(rgb, Int(w), Int(h), path: path) }
            }
            glfwSwapBuffers(window)
            glfwPollEvents()
            if lastFrame { break }
        }
        let elapsed = Date().timeIntervalSince(started)
        return WindowResult(frames: frames, episodesFinished: session.finishedReturns, stepsSimulated: steps,
                            screenshots: screenshots, averageFPS: Double(frames) / max(elapsed, 1e-9))
    }

    func stepSession() throws {
        let ended = try session.advance()
        steps += 1
        if ended {
            print("episode \(session.episode): return \(format(session.episodeReturn)) in \(session.step) steps")
            if let n = options.episodes, session.finishedReturns.count >= n { quit = true }
        }
    }

    /// MuJoCo's overlay font covers ASCII only.
    func drawOverlay(_ viewport: mjrRect) {
        let state = paused ? "paused (Right: step)" : "running"
        let hasCamera = session.scene.screenImage() == nil  // an Atari screen has no camera
        let (t, v) = session.overlayLines(extra: [("Speed", "\(speedText) \(state)")]
            + (hasCamera ? [("Camera", renderer.cameraName)] : []) + [("FPS", format(fps, decimals: 0))])
        renderer.overlay(t, v, corner: mjGRID_TOPLEFT, viewport: viewport)
        guard viewport.height >= 600 else { return }  // small windows: no room for the key help
        renderer.overlay("Space\nRight\nR\n+ -\nC\nS\nH\nEsc Q", "pause\nstep\nnew episode\nspeed\ncamera\nscreenshot\noverlay\nquit",
                         corner: mjGRID_BOTTOMLEFT, viewport: viewport)
    }

    func saveScreenshot(_ rgb: [UInt8], _ w: Int, _ h: Int, path: String?) throws {
        let file: String
        if let path { file = path } else {
            var k = screenshots.count + 1
            var candidate = "sparrow-screenshot-\(k).png"
            while FileManager.default.fileExists(atPath: candidate) { k += 1; candidate = "sparrow-screenshot-\(k).png" }
            file = candidate
        }
        do { try PNG.write(rgb: rgb, width: w, height: h, to: file) } catch { throw ViewerError("cannot write screenshot \(file)") }
        screenshots.append(file)
        print("screenshot: \(file)")
    }

    // MARK: input

    /// Keys act on the next frame; each also prints a line, so a terminal (or a script driving the window) sees
    /// what changed and where the simulation stood.
    func key(_ key: Int32, action: Int32, mods: Int32) {
        guard action == GLFW_PRESS || action == GLFW_REPEAT else { return }
        switch key {
        case GLFW_KEY_ESCAPE, GLFW_KEY_Q: quit = true
        case GLFW_KEY_SPACE:
            paused.toggle()
            print("\(paused ? "paused" : "resumed") at episode \(session.episode), step \(session.step)")
        case GLFW_KEY_RIGHT: if paused { singleSteps += 1 }
        case GLFW_KEY_R:
            do { try session.newEpisode(); print("new episode \(session.episode)") } catch { print("new episode failed: \(error)") }
        case GLFW_KEY_EQUAL, GLFW_KEY_KP_ADD: speed = min(speed * 2, 64); print("speed \(speedText)")
        case GLFW_KEY_MINUS, GLFW_KEY_KP_SUBTRACT: speed = max(speed / 2, 1.0 / 64); print("speed \(speedText)")
        case GLFW_KEY_C: renderer.cycleCamera(); print("camera \(renderer.cameraName)")
        case GLFW_KEY_S: screenshotRequests += 1
        case GLFW_KEY_H: showOverlay.toggle(); print("overlay \(showOverlay ? "on" : "off")")
        default: break
        }
    }

    var speedText: String { "\(format(speed, decimals: speed < 1 ? 3 : 1))x" }

    func mouseButton() {
        buttonLeft = glfwGetMouseButton(window, GLFW_MOUSE_BUTTON_LEFT) == GLFW_PRESS
        buttonRight = glfwGetMouseButton(window, GLFW_MOUSE_BUTTON_RIGHT) == GLFW_PRESS
        buttonMiddle = glfwGetMouseButton(window, GLFW_MOUSE_BUTTON_MIDDLE) == GLFW_PRESS
        glfwGetCursorPos(window, &lastX, &lastY)
    }

    func mouseMove(_ x: Double, _ y: Double) {
        defer { lastX = x; lastY = y }
        guard buttonLeft || buttonRight || buttonMiddle else { return }
        var width: Int32 = 0, height: Int32 = 0
        glfwGetWindowSize(window, &width, &height)
        let shift = glfwGetKey(window, GLFW_KEY_LEFT_SHIFT) == GLFW_PRESS || glfwGetKey(window, GLFW_KEY_RIGHT_SHIFT) == GLFW_PRESS
        let action: mjtMouse
        if buttonRight { action = shift ? mjMOUSE_MOVE_H : mjMOUSE_MOVE_V } else if buttonLeft {
            action = shift ? mjMOUSE_ROTATE_H : mjMOUSE_ROTATE_V
        } else { action = mjMOUSE_ZOOM }
        // Dragging leaves the fixed cameras for the free one; the tracking camera keeps following the torso.
        if case .fixed = renderer.cameraMode { renderer.setCamera(.free) }
        let h = Double(max(height, 1))
        renderer.moveCamera(action: action, dx: (x - lastX) / h, dy: (y - lastY) / h)
    }

    func scroll(_ dy: Double) {
        renderer.moveCamera(action: mjMOUSE_ZOOM, dx: 0, dy: -0.05 * dy)
    }
}
