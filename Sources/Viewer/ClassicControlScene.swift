import CMuJoCo
import Environments
import Foundation
import MuJoCo

/// What the viewer draws for an environment: a MuJoCo model and its data, kept up to date with the environment's
/// state. A robot's scene is its own simulation; a classic-control task's is a display-only model
/// (`ClassicControlScene`) posed from the task's state; an Atari game's is its screen (`AtariScene`), a picture
/// drawn instead of the model (which is then empty and only carries MuJoCo's fonts for the overlay).
public protocol ReplayScene: AnyObject {
    var model: Model { get }
    var simulation: Simulation { get }
    /// The model camera the viewer starts with (it frames the whole task); nil: the camera tracking the torso.
    var initialCamera: String? { get }
    /// Brings `simulation` up to date with the environment; called after every reset and step.
    func syncWithEnvironment() throws
    /// A picture to show instead of the 3-D model (an Atari screen); nil for the MuJoCo scenes.
    func screenImage() -> ScreenImage?
    /// Rows the overlay shows after the reward (title, value).
    func overlayRows() -> [(String, String)]
}

extension ReplayScene {
    public func screenImage() -> ScreenImage? { nil }
    public func overlayRows() -> [(String, String)] { [] }
}

/// An RGB picture (row-major, top row first, width × height × 3 bytes).
public struct ScreenImage: Equatable, Sendable {
    public var rgb: [UInt8]
    public var width: Int, height: Int
    public init(rgb: [UInt8], width: Int, height: Int) {
        precondition(rgb.count == width * height * 3)
        self.rgb = rgb; self.width = width; self.height = height
    }
}

extension LocomotionEnv: ReplayScene {
    public var initialCamera: String? { nil }
    /// Nothing to do: the environment steps this very simulation.
    public func syncWithEnvironment() {}
}

/// A display-only MuJoCo model of a classic-control task, drawn as Gymnasium's renderer draws it (white background,
/// flat colours, a side view): nothing is simulated, `syncWithEnvironment` sets qpos from the task's state and runs
/// mj_forward. The model's camera "side" frames the task from far away with a narrow field of view, so the view
/// is close to Gymnasium's orthographic one.
///
/// - CartPole-v1: a track, a cart on a slide joint and a pole on a hinge; qpos = [x, θ]. Gymnasium's θ is 0 upright
///   and positive when the pole leans towards +x (clockwise as drawn), so the hinge turns about +y (x to the right,
///   z up, the camera looking along +y).
/// - Acrobot-v1: two unit links on hinges from a fixed pivot, θ1 = 0 hanging down, positive counter-clockwise as
///   Gymnasium draws it (hinge axes −y); a black line at the goal height 1 (the tip is at −cos θ1 − cos(θ1 + θ2)).
/// - MountainCar-v0: the curve y = 0.45·sin(3x) + 0.55 over [−1.2, 0.6] as a chain of thin capsules, the flag at
///   x = 0.5, and the car on slide x, slide z and a hinge: qpos = [x, y(x), atan y′(x)] (the car sits on the
///   tangent; Gymnasium tilts it by cos 3x, nearly the same angle).
public final class ClassicControlScene: ReplayScene {
    public let env: any ClassicControlEnvironment
    public let model: Model
    public let simulation: Simulation
    public var initialCamera: String? { Self.cameraName }

    static let cameraName = "side"

    public init(env: any ClassicControlEnvironment) throws {
        self.env = env
        model = try Model(xml: Self.xml(env.id), name: "classic-control-display")
        simulation = try Simulation(model: model)
        try syncWithEnvironment()
    }

    public func syncWithEnvironment() throws {
        let q = Self.pose(env.id, state: env.state)
        for i in q.indices { simulation.qpos[i] = q[i] }
        try simulation.forward()
    }

    /// The display model's qpos for a task state (see the type's comment).
    static func pose(_ id: ClassicControlID, state s: [Double]) -> [Double] {
        switch id {
        case .cartPole, .cartPoleV0: return [s[0], s[2]]
        case .acrobot: return [s[0], s[1]]
        case .mountainCar: return [s[0], MountainCarCurve.height(s[0]), atan(MountainCarCurve.slope(s[0]))]
        }
    }

    /// World position of a body, geom or site of the display model (after the last sync).
    func position(of kind: ObjectKind, named name: String) throws -> (x: Double, y: Double, z: Double) {
        let d = simulation.raw.pointee
        let base: UnsafeMutablePointer<Double>
        switch kind {
        case .body: base = d.xpos
        case .geom: base = d.geom_xpos
        case .site: base = d.site_xpos
        default: preconditionFailure("no positions of \(kind) objects")
        }
        let p = base + 3 * (try model.id(of: kind, named: name))
        return (p[0], p[1], p[2])
    }

    // MARK: models

    static func xml(_ id: ClassicControlID) -> String {
        switch id {
        case .cartPole, .cartPoleV0: return cartPoleXML
        case .acrobot: return acrobotXML
        case .mountainCar: return mountainCarXML
        }
    }

    /// What the side camera shows: the world point at the image centre (x, z), and the world height above and below
    /// it (the width follows from the image's aspect ratio). Each frames Gymnasium's view of the task.
    static func framing(_ id: ClassicControlID) -> (centre: (x: Double, z: Double), halfHeight: Double) {
        switch id {
        case .cartPole, .cartPoleV0: return ((0, 0.75), 2.05)      // the track ±2.4 and more, the pole upright
        case .acrobot: return ((0, 0), 2.25)          // both links at full reach, ±2
        case .mountainCar: return ((-0.3, 0.55), 0.72) // the hill [−1.2, 0.6] and the flag's top
        }
    }

    /// Gymnasium's colours (RGB 0–255 in its renderer).
    enum Colour {
        static let black = "0 0 0 1"
        static let pole = "0.792 0.596 0.396 1"      // (202, 152, 101)
        static let axle = "0.506 0.518 0.796 1"      // (129, 132, 203)
        static let link = "0 0.8 0.8 1"              // (0, 204, 204)
        static let joint = "0.8 0.8 0 1"             // (204, 204, 0)
        static let wheel = "0.502 0.502 0.502 1"     // (128, 128, 128)
        static let flag = "0.8 0.8 0 1"              // (204, 204, 0)
    }

    /// What every scene shares: a white background, flat shading (a bright ambient headlight, no specular), no
    /// collisions, and the side camera looking along +y with the task's `framing`. The camera and the free camera
    /// have a 10° field of view: from this far away the view is nearly orthographic.
    static func document(_ id: ClassicControlID, assets: String = "", bodies: String) -> String {
        let name = id.name, (centre, halfHeight) = framing(id)
        let fovy = 10.0
        let distance = halfHeight / tan(fovy / 2 * .pi / 180)
        let extent = 2 * halfHeight
        return """
            <mujoco model="\(name) display">
              <compiler angle="radian"/>
              <option gravity="0 0 0"/>
              <statistic center="\(n(centre.x)) 0 \(n(centre.z))" extent="\(n(extent))"/>
              <visual>
                <global fovy="\(n(fovy))"/>
                <headlight ambient="0.55 0.55 0.55" diffuse="0.45 0.45 0.45" specular="0 0 0"/>
                <map znear="0.1" zfar="\(n(4 * distance / extent))"/>
              </visual>
              <default>
                <geom contype="0" conaffinity="0"/>
              </default>
              <asset>
                <texture name="white" type="skybox" builtin="flat" rgb1="1 1 1" rgb2="1 1 1" width="8" height="8"/>
            \(assets)
              </asset>
              <worldbody>
                <camera name="\(cameraName)" pos="\(n(centre.x)) \(n(-distance)) \(n(centre.z))" xyaxes="1 0 0 0 0 1" fovy="\(n(fovy))"/>
            \(bodies)
              </worldbody>
            </mujoco>
            """
    }

    /// Depth (y) is only layering: the camera looks along +y, so smaller y is drawn in front.
    static let cartPoleXML = document(.cartPole, bodies: """
            <geom name="track" type="box" pos="0 0.2 0" size="2.9 0.01 0.006" rgba="\(Colour.black)"/>
            <body name="cart">
              <joint name="x" type="slide" axis="1 0 0"/>
              <geom name="cart" type="box" size="0.2 0.1 0.12" rgba="\(Colour.black)"/>
              <body name="pole" pos="0 -0.12 0.06">
                <joint name="theta" type="hinge" axis="0 1 0"/>
                <geom name="pole" type="box" pos="0 0 0.46" size="0.04 0.01 0.5" rgba="\(Colour.pole)"/>
                <geom name="axle" type="cylinder" fromto="0 -0.011 0 0 -0.02 0" size="0.04" rgba="\(Colour.axle)"/>
                <site name="tip" pos="0 0 0.96"/>
              </body>
            </body>
        """)

    static let acrobotXML = document(.acrobot, bodies: """
            <geom name="goal" type="box" pos="0 0.1 1" size="3.1 0.005 0.008" rgba="\(Colour.black)"/>
            <body name="link1">
              <joint name="theta1" type="hinge" axis="0 -1 0"/>
              <geom name="link1" type="box" pos="0 0 -0.5" size="0.1 0.01 0.5" rgba="\(Colour.link)"/>
              <geom name="pivot" type="cylinder" fromto="0 -0.05 0 0 -0.06 0" size="0.1" rgba="\(Colour.joint)"/>
              <body name="link2" pos="0 0 -1">
                <joint name="theta2" type="hinge" axis="0 -1 0"/>
                <geom name="link2" type="box" pos="0 -0.02 -0.5" size="0.1 0.01 0.5" rgba="\(Colour.link)"/>
                <geom name="elbow" type="cylinder" fromto="0 -0.04 0 0 -0.05 0" size="0.1" rgba="\(Colour.joint)"/>
                <site name="tip" pos="0 0 -1"/>
              </body>
            </body>
        """)

    static let mountainCarXML: String = {
        // The hill, as Gymnasium draws it: 100 points of the curve joined by straight pieces.
        let c = MountainCarCurve.self
        let points = (0..<100).map { k -> (Double, Double) in
            let x = c.minX + (c.maxX - c.minX) * Double(k) / 99
            return (x, c.height(x))
        }
        var hill = ""
        for k in 1..<points.count {
            let (a, b) = (points[k - 1], points[k])
            hill += "    <geom type=\"capsule\" fromto=\"\(n(a.0)) 0.05 \(n(a.1)) \(n(b.0)) 0.05 \(n(b.1))\" size=\"0.004\" rgba=\"\(Colour.black)\"/>\n"
        }
        let flagX = 0.5, flagY = c.height(0.5), flagPole = 0.15
        // Gymnasium's flag: a triangle from the pole's top, 0.03 down its side, pointing 0.075 to the right.
        let flag = """
                <mesh name="flag" vertex="0 -0.003 0  0 -0.003 -0.03  0.075 -0.003 -0.015  0 0.003 0  0 0.003 -0.03  0.075 0.003 -0.015"/>
            """
        return document(.mountainCar, assets: flag, bodies: hill + """
                <geom name="flagpole" type="box" pos="\(n(flagX)) 0.02 \(n(flagY + flagPole / 2))" size="0.003 0.003 \(n(flagPole / 2))" rgba="\(Colour.black)"/>
                <geom name="flag" type="mesh" mesh="flag" pos="\(n(flagX)) 0.03 \(n(flagY + flagPole))" rgba="\(Colour.flag)"/>
                <body name="car">
                  <joint name="x" type="slide" axis="1 0 0"/>
                  <joint name="height" type="slide" axis="0 0 1"/>
                  <joint name="tilt" type="hinge" axis="0 -1 0"/>
                  <geom name="chassis" type="box" pos="0 0 0.06" size="0.06 0.02 0.03" rgba="\(Colour.black)"/>
                  <geom name="front wheel" type="cylinder" fromto="0.03 -0.021 0.03 0.03 -0.03 0.03" size="0.024" rgba="\(Colour.wheel)"/>
                  <geom name="back wheel" type="cylinder" fromto="-0.03 -0.021 0.03 -0.03 -0.03 0.03" size="0.024" rgba="\(Colour.wheel)"/>
                </body>
            """)
    }()

    /// A coordinate for MJCF text.
    static func n(_ x: Double) -> String { format(x, decimals: 5) }
}

/// MountainCar's hill, as Gymnasium's `_height`: y = 0.45·sin(3x) + 0.55 for x in [−1.2, 0.6].
enum MountainCarCurve {
    static let minX = -1.2, maxX = 0.6
    static func height(_ x: Double) -> Double { sin(3 * x) * 0.45 + 0.55 }
    static func slope(_ x: Double) -> Double { 1.35 * cos(3 * x) }
}

/// A replay session for any environment by name: a MuJoCo robot (drawn from its simulation, with Gymnasium's v5
/// defaults) or a classic-control task (drawn through its display model). Throws a one-line error for an unknown
/// name or a source that cannot act in the environment.
public func makeReplaySession(envName: String, source: ActionSource, seed: UInt64) throws -> ReplaySession {
    switch try TaskID(name: envName) {
    case .locomotion(let id): return try ReplaySession(env: try makeEnvironment(id.name), source: source, seed: seed)
    case .classicControl(let id): return try ReplaySession(env: makeClassicControlEnvironment(id, seed: seed), source: source, seed: seed)
    case .atari(let game):
        let env = try AtariEnv(game, seed: seed)
        return try ReplaySession(env: env, scene: try AtariScene(env: env), source: source, seed: seed)
    }
}
