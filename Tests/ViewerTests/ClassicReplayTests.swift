import CMuJoCo
import Agents
import Environments
import Foundation
import SparrowCore
import SparrowTestSupport
import Training
import XCTest
@testable import Viewer

/// `sparrow replay` of the classic-control tasks: the display models follow the task's state (Gymnasium's
/// conventions), sessions run any source, and offscreen recordings show the task and its motion.
final class ClassicReplayTests: XCTestCase {
    typealias Point = (x: Double, y: Double, z: Double)

    func assertClose(_ p: Point, _ x: Double, _ z: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(p.x, x, accuracy: 1e-9, "x of \(message)", file: file, line: line)
        XCTAssertEqual(p.z, z, accuracy: 1e-9, "height of \(message)", file: file, line: line)
    }

    /// Positions of the display models against the state, as Gymnasium draws it: the cart at x with the pole leaning
    /// towards +x for θ > 0; the acrobot's elbow at (sin θ1, −cos θ1) and tip at height −cos θ1 − cos(θ1 + θ2); the car
    /// on the hill at (x, 0.45 sin 3x + 0.55), tilted along its slope.
    func testDisplayModelsFollowTheState() throws {
        let cartPole = CartPole()
        let cartScene = try ClassicControlScene(env: cartPole)
        for (x, theta) in [(0.0, 0.0), (1.3, 0.2), (-2.1, -0.15)] {
            try cartPole.reset(state: [x, 0.4, theta, -1])
            try cartScene.syncWithEnvironment()
            assertClose(try cartScene.position(of: .body, named: "cart"), x, 0, "the cart")
            assertClose(try cartScene.position(of: .site, named: "tip"), x + 0.96 * sin(theta), 0.06 + 0.96 * cos(theta), "the pole's tip")
        }

        let acrobot = Acrobot()
        let acrobotScene = try ClassicControlScene(env: acrobot)
        for (t1, t2) in [(0.0, 0.0), (0.7, -1.1), (-2.5, 2.9), (3.0, 0.1)] {
            try acrobot.reset(state: [t1, t2, 0.5, -0.5])
            try acrobotScene.syncWithEnvironment()
            assertClose(try acrobotScene.position(of: .body, named: "link2"), sin(t1), -cos(t1), "the elbow")
            let tip = try acrobotScene.position(of: .site, named: "tip")
            assertClose(tip, sin(t1) + sin(t1 + t2), -cos(t1) - cos(t1 + t2), "the tip")
            XCTAssertEqual(tip.z > 1, -cos(t1) - cos(t2 + t1) > 1, "above the goal line exactly when Gymnasium terminates")
        }

        let car = MountainCar()
        let carScene = try ClassicControlScene(env: car)
        for x in [-1.2, -0.5236, -0.3, 0.5, 0.6] {
            try car.reset(state: [x, 0.01])
            try carScene.syncWithEnvironment()
            let height = 0.45 * sin(3 * x) + 0.55
            assertClose(try carScene.position(of: .body, named: "car"), x, height, "the car")
            // The chassis sits 0.06 above the track along the normal of the slope 1.35·cos 3x.
            let angle = atan(1.35 * cos(3 * x))
            assertClose(try carScene.position(of: .geom, named: "chassis"), x - 0.06 * sin(angle), height + 0.06 * cos(angle), "the chassis")
        }
    }

    /// The session's actions, replayed on a twin environment: random actions are `ActionSpace.sample`'s seeded stream
    /// of indices, zero actions are action 0; episodes restart as Gymnasium's do. The overlay names the task and has no
    /// reward terms.
    func testSessionsActAsTheirSourceSays() throws {
        for id in ClassicControlID.allCases {
            for source in [ActionSource.random, .zero] {
                let session = try makeReplaySession(envName: id.name, source: source, seed: 3)
                XCTAssertTrue(session.scene is ClassicControlScene, id.name)
                let twin = makeClassicControlEnvironment(id, seed: 3)
                _ = try twin.reset(seed: 3)
                var g = Generator(seed: 3).derived(0xAC7)
                var a: [Float] = [0], taken = Set<Float>()
                for _ in 0..<60 {
                    let ended = try session.advance()
                    if case .random = source { a.withUnsafeMutableBufferPointer { twin.actions.sample(into: $0, using: &g) } }
                    taken.insert(a[0])
                    let r = try twin.step([Double(a[0])])
                    XCTAssertEqual(ended, r.terminated || r.truncated, id.name)
                    XCTAssertEqual((session.env as! any ClassicControlEnvironment).state, twin.state, "\(id.name) \(source.label)")
                    if ended { _ = try twin.reset(seed: nil) }
                }
                XCTAssertEqual(taken.count, source.label == "random actions" ? twin.actions.choices! : 1, "\(id.name) \(source.label)")
                XCTAssertEqual(session.simulatedTime, 60 * session.env.dt, accuracy: 1e-9)
                let (titles, values) = session.overlayLines()
                XCTAssertEqual(titles.split(separator: "\n"), ["Env", "Policy", "Episode", "Step", "Return", "Reward"])
                XCTAssertTrue(values.hasPrefix(id.name + "\n"), values)
            }
        }
        // Zero actions push CartPole's cart left every step: the pole falls right (θ > 0) and the episode ends early.
        let zero = try makeReplaySession(envName: "cartpole", source: .zero, seed: 0)
        while zero.finishedReturns.isEmpty { try zero.advance() }
        XCTAssertLessThan(zero.finishedReturns[0], 30)
        XCTAssertGreaterThan((zero.env as! CartPole).state[2], 0)
    }

    /// A DQN agent acts through its deterministic (greedy) action, written as an index into one Float; the session
    /// follows it exactly, and the overlay names its Q network. An agent for the other kind of actions is refused.
    func testADQNAgentDrivesTheTask() throws {
        var config = try Presets.config(named: "set-dqn", env: "CartPole-v1")
        config.preset = "set-dqn"; config.env = "CartPole-v1"  // as `sparrow train` records them
        config.agent.hidden = [32, 32]
        let agent = try makeAgent(config: config.agent, observationSize: 4, actions: .discrete(2), totalUpdates: 100, seed: 3)
        let source = ActionSource.agent(agent, description: PolicyDescription(config: config, agent: agent))
        XCTAssertTrue(source.label.hasPrefix("set-dqn (dqn, set, Q network "), source.label)
        let session = try makeReplaySession(envName: "CartPole-v1", source: source, seed: 4)
        let twin = CartPole(seed: 4)
        var obs = try twin.reset(seed: 4).observation
        var a: [Float] = [0]
        for _ in 0..<40 {
            let ended = try session.advance()
            obs.withUnsafeBufferPointer { o in a.withUnsafeMutableBufferPointer { agent.act(o, deterministic: true, into: $0) } }
            let r = try twin.step([Double(a[0])])
            XCTAssertEqual((session.env as! CartPole).state, twin.state)
            obs = ended ? try twin.reset(seed: nil).observation : r.observation
        }
        XCTAssertThrowsError(try makeReplaySession(envName: "Hopper-v5", source: source, seed: 0)) {
            XCTAssertTrue("\($0)".contains("acts discretely"), "\($0)")
        }
    }

    /// Unknown names and sources that cannot act in the task are one-line errors; the robots run through the same
    /// entry point, drawn from their own simulation.
    func testMakeReplaySessionRefusesWhatCannotRun() throws {
        XCTAssertThrowsError(try makeReplaySession(envName: "Pong-v5", source: .random, seed: 0)) {
            XCTAssertTrue("\($0)".contains("Pong"), "\($0)")
        }
        let policy = try PolicyFile.read(PretrainedPolicyTests.asset)
        XCTAssertThrowsError(try makeReplaySession(envName: "CartPole-v1", source: .exported(policy), seed: 0)) {
            XCTAssertTrue("\($0)".contains("Discrete(2)"), "\($0)")
        }
        // The robots keep working through the same entry point.
        let hopper = try makeReplaySession(envName: "hopper", source: .exported(policy), seed: 0)
        XCTAssertTrue(hopper.scene === (hopper.env as AnyObject))
    }

    /// For each task, 20 frames of random actions recorded offscreen to PNG files: the task's shapes in Gymnasium's
    /// colours on a white background, and the picture changes exactly when the drawn state moved. A twin session
    /// with the same seed, stepped as the recorder steps, gives the state behind every frame.
    func testRecordingsShowTheTaskAndItsMotion() throws {
        let width = 320, height = 240, fps = 30.0
        // (task, steps per frame, colours that must be drawn: RGB as Gymnasium's renderer uses them). CartPole's axle
        // is a disc of radius 0.04, about 15 pixels at this size.
        let tasks: [(ClassicControlID, Int, [String: (Int, Int, Int)])] = [
            (.cartPole, 4, ["cart": (0, 0, 0), "pole": (202, 152, 101), "axle": (129, 132, 203)]),
            (.acrobot, 1, ["links": (0, 204, 204), "joints": (204, 204, 0), "goal line": (0, 0, 0)]),
            (.mountainCar, 10, ["hill and car": (0, 0, 0), "wheels": (128, 128, 128), "flag": (204, 204, 0)]),
        ]
        for (id, stepsPerFrame, colours) in tasks {
            let session = try makeReplaySession(envName: id.name, source: .random, seed: 1)
            let twin = try makeReplaySession(envName: id.name, source: .random, seed: 1)
            let folder = NSTemporaryDirectory() + "sparrow-classic-\(getpid())-\(id.rawValue)"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let options = RecordOptions(path: folder, frames: 20, width: width, height: height, fps: fps,
                                        speed: Double(stepsPerFrame) * fps * session.env.dt, effects: RenderEffects(), overlay: false)
            let result: RecordResult
            do { result = try Recorder.record(session, options: options) } catch let e as ViewerError where "\(e)".contains("OpenGL") {
                throw XCTSkip("no offscreen OpenGL here: \(e)")
            }
            XCTAssertEqual(result.output, .pngFolder(folder))

            var visiblyMoved = 0
            var previous: (image: ReferencePNG.Image, points: [Point])?
            for k in 0..<20 {
                if k > 0 { for _ in 0..<stepsPerFrame { try twin.advance() } }
                let image = try ReferencePNG.read(folder + "/" + PNGFolderSink.fileName(k))
                XCTAssertEqual(image.width, width); XCTAssertEqual(image.height, height)
                let white = stride(from: 0, to: image.rgb.count, by: 3).filter { image.rgb[$0] > 245 && image.rgb[$0 + 1] > 245 && image.rgb[$0 + 2] > 245 }.count
                let share = Double(white) / Double(width * height)
                XCTAssertTrue(share > 0.4 && share < 0.995, "\(id.name) frame \(k): \(share) of the picture is background")
                for (what, c) in colours {
                    let n = count(image, near: c)
                    XCTAssertGreaterThan(n, 8, "\(id.name) frame \(k): \(what) not drawn in RGB \(c)")
                }
                let points = try drawnPoints(twin.scene as! ClassicControlScene)
                if let (before, was) = previous {
                    let pixelsPerUnit = Double(height) / (2 * ClassicControlScene.framing(id).halfHeight)
                    let moved = zip(was, points).map { hypot($0.x - $1.x, $0.z - $1.z) }.max()! * pixelsPerUnit
                    let diff = zip(before.rgb, image.rgb).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
                    if moved > 1.5 {
                        visiblyMoved += 1
                        XCTAssertGreaterThan(diff, 0, "\(id.name) frames \(k - 1)→\(k): the task moved \(moved) px but the picture did not change")
                    } else if moved == 0 {
                        XCTAssertEqual(diff, 0, "\(id.name) frames \(k - 1)→\(k): nothing moved but the picture changed")
                    }
                }
                previous = (image, points)
            }
            XCTAssertEqual(session.step, twin.step, id.name)
            XCTAssertEqual(session.episode, twin.episode, id.name)
            XCTAssertGreaterThanOrEqual(visiblyMoved, 10, "\(id.name): too few frames with visible motion to test anything")
        }
    }

    /// The classic tasks open in their side camera; leaving it for the free camera (a mouse drag in the window) keeps
    /// the view, so dragging turns the picture instead of jumping to MuJoCo's default view point.
    func testTheFreeCameraStartsFromTheSideCameraView() throws {
        let session = try makeReplaySession(envName: "CartPole-v1", source: .zero, seed: 0)
        let gl: GLContext
        do { gl = try GLContext.offscreen() } catch { throw XCTSkip("no offscreen OpenGL here: \(error)") }
        defer { withExtendedLifetime(gl) {} }  // the context outlives the renderer (freed in the block below)
        var images: [[UInt8]] = []
        do {
            let renderer = SceneRenderer(model: session.scene.model, effects: RenderEffects(), offscreen: (160, 120),
                                         initialCamera: session.scene.initialCamera)
            XCTAssertEqual(renderer.cameraName, "fixed side")
            let viewport = mjrRect(left: 0, bottom: 0, width: 160, height: 120)
            for mode in [nil, CameraMode.free, .tracking] {
                if let mode { renderer.setCamera(mode) }
                renderer.render(session.scene.simulation, viewport: viewport)
                var rgb = [UInt8]()
                renderer.readPixels(viewport, into: &rgb)
                images.append(rgb)
            }
            XCTAssertEqual(renderer.cameraName, "tracking cart")
        }
        let differing = zip(images[0], images[1]).filter { abs(Int($0) - Int($1)) > 24 }.count
        XCTAssertLessThan(differing, images[0].count / 200, "the free camera must start where the side camera looks")
        XCTAssertNotEqual(images[0], images[2], "the tracking camera is closer")
    }

    /// The points whose motion shows in the picture: cart and pole tip, elbow and tip, the car.
    func drawnPoints(_ scene: ClassicControlScene) throws -> [Point] {
        switch scene.env.id {
        case .cartPole, .cartPoleV0: return [try scene.position(of: .body, named: "cart"), try scene.position(of: .site, named: "tip")]
        case .acrobot: return [try scene.position(of: .body, named: "link2"), try scene.position(of: .site, named: "tip")]
        case .mountainCar: return [try scene.position(of: .geom, named: "chassis")]
        }
    }

    /// Pixels within 40 of an RGB colour in every channel.
    func count(_ image: ReferencePNG.Image, near c: (Int, Int, Int)) -> Int {
        var n = 0
        for i in stride(from: 0, to: image.rgb.count, by: 3)
        where abs(Int(image.rgb[i]) - c.0) <= 40 && abs(Int(image.rgb[i + 1]) - c.1) <= 40 && abs(Int(image.rgb[i + 2]) - c.2) <= 40 {
            n += 1
        }
        return n
    }
}
