import CMuJoCo
import Foundation
import MuJoCo

/// Rendering switches. All off by default: software OpenGL (llvmpipe) halves its frame rate for each of them.
public struct RenderEffects: Equatable, Sendable {
    public var shadows = false
    public var reflections = false
    /// 4× multisample anti-aliasing.
    public var antialiasing = false
    public init(shadows: Bool = false, reflections: Bool = false, antialiasing: Bool = false) {
        self.shadows = shadows; self.reflections = reflections; self.antialiasing = antialiasing
    }
    var samples: Int { antialiasing ? 4 : 0 }
}

/// The viewer's cameras, cycled with C: tracking the torso, free (mouse), then the model's own cameras.
enum CameraMode: Equatable {
    case tracking, free, fixed(Int)
}

/// MuJoCo's visualisation state for one model (mjvScene, mjvCamera, mjvOption, mjvPerturb, mjrContext), heap
/// allocated once so their addresses stay fixed, and freed in deinit. Needs a current OpenGL context.
final class SceneRenderer {
    let model: Model
    let scene = UnsafeMutablePointer<mjvScene>.allocate(capacity: 1)
    let camera = UnsafeMutablePointer<mjvCamera>.allocate(capacity: 1)
    let option = UnsafeMutablePointer<mjvOption>.allocate(capacity: 1)
    let perturb = UnsafeMutablePointer<mjvPerturb>.allocate(capacity: 1)
    let context = UnsafeMutablePointer<mjrContext>.allocate(capacity: 1)
    let trackedBody: Int32
    private(set) var cameraMode = CameraMode.tracking
    private let trackingDistance: Double
    private var centreOnTrackedBody = false
    /// The fixed camera whose view the free camera starts from (set when leaving it, applied at the next render).
    private var freeFromFixedCamera: Int32?

    /// `offscreen` sizes MuJoCo's offscreen buffer (it is fixed when the context is made) and selects it.
    /// `initialCamera` names one of the model's cameras to start with (nil, or no such camera: tracking).
    init(model: Model, effects: RenderEffects, offscreen: (width: Int, height: Int)?, initialCamera: String? = nil) {
        self.model = model
        let m = model.raw
        if let offscreen {
            m.pointee.vis.global.offwidth = Int32(max(offscreen.width, Int(m.pointee.vis.global.offwidth)))
            m.pointee.vis.global.offheight = Int32(max(offscreen.height, Int(m.pointee.vis.global.offheight)))
        }
        m.pointee.vis.quality.offsamples = Int32(effects.samples)
        mjv_defaultScene(scene)
        mjv_defaultCamera(camera)
        mjv_defaultOption(option)
        mjv_defaultPerturb(perturb)
        mjr_defaultContext(context)
        mjv_makeScene(m, scene, 2000)
        mjr_makeContext(m, context, Int32(mjFONTSCALE_100.rawValue))
        mjr_setBuffer(Int32((offscreen == nil ? mjFB_WINDOW : mjFB_OFFSCREEN).rawValue), context)
        withUnsafeMutableBytes(of: &scene.pointee.flags) { flags in
            flags[Int(mjRND_SHADOW.rawValue)] = effects.shadows ? 1 : 0
            flags[Int(mjRND_REFLECTION.rawValue)] = effects.reflections ? 1 : 0
        }
        let torso = mj_name2id(m, Int32(mjOBJ_BODY.rawValue), "torso")
        trackedBody = torso >= 0 ? torso : (m.pointee.nbody > 1 ? 1 : 0)
        // Gymnasium's side view of the planar robots is 3 m away; the 3-D robots (ant, humanoid) need more room.
        // A model with a narrower field of view than MuJoCo's 45° (the classic-control scenes) is seen from
        // proportionally further away, so the tracked body fills the same share of the image.
        let fovy = Double(m.pointee.vis.global.fovy)
        let narrowing = fovy == 45 ? 1 : tan(22.5 * .pi / 180) / tan(fovy / 2 * .pi / 180)
        trackingDistance = (m.pointee.nbody > 8 ? 4.5 : 3.0) * narrowing
        let fixed = initialCamera.map { mj_name2id(m, Int32(mjOBJ_CAMERA.rawValue), $0) } ?? -1
        setCamera(fixed >= 0 ? .fixed(Int(fixed)) : .tracking)
    }

    deinit {
        mjr_freeContext(context)
        mjv_freeScene(scene)
        for p in [UnsafeMutableRawPointer(scene), UnsafeMutableRawPointer(camera), UnsafeMutableRawPointer(option),
                  UnsafeMutableRawPointer(perturb), UnsafeMutableRawPointer(context)] { p.deallocate() }
    }

    var fixedCameraCount: Int { Int(model.raw.pointee.ncam) }

    func setCamera(_ mode: CameraMode) {
        let previous = cameraMode
        cameraMode = mode
        switch mode {
        case .tracking:
            camera.pointee.type = Int32(mjCAMERA_TRACKING.rawValue)
            camera.pointee.trackbodyid = trackedBody
            camera.pointee.fixedcamid = -1
            camera.pointee.distance = trackingDistance
            camera.pointee.azimuth = 90   // looking along +y: the planar robots move left to right
            camera.pointee.elevation = -15
            centreOnTrackedBody = true  // MuJoCo keeps the lookat's offset from the body: start it at the body
        case .free:
            // Keep the current view point (a fixed camera's, or the tracking one's); the mouse moves it from here.
            if case .fixed(let id) = previous { freeFromFixedCamera = Int32(id) }
            camera.pointee.type = Int32(mjCAMERA_FREE.rawValue)
        case .fixed(let id):
            camera.pointee.type = Int32(mjCAMERA_FIXED.rawValue)
            camera.pointee.fixedcamid = Int32(id)
        }
    }

    /// Tracking → free → each model camera → tracking.
    func cycleCamera() {
        switch cameraMode {
        case .tracking: setCamera(.free)
        case .free: setCamera(fixedCameraCount > 0 ? .fixed(0) : .tracking)
        case .fixed(let i): setCamera(i + 1 < fixedCameraCount ? .fixed(i + 1) : .tracking)
        }
    }

    var cameraName: String {
        switch cameraMode {
        case .tracking: return "tracking " + (model.name(of: .body, id: Int(trackedBody)) ?? "body \(trackedBody)")
        case .free: return "free"
        case .fixed(let i): return model.name(of: .camera, id: i).map { "fixed \($0)" } ?? "fixed #\(i)"
        }
    }

    /// mjv_moveCamera with a relative mouse displacement (fractions of the viewport height).
    func moveCamera(action: mjtMouse, dx: Double, dy: Double) {
        mjv_moveCamera(model.raw, Int32(action.rawValue), dx, dy, scene, camera)
    }

    /// Updates the scene from the simulation and draws it into `viewport` of the current buffer.
    func render(_ simulation: Simulation, viewport: mjrRect) {
        if centreOnTrackedBody {
            centreOnTrackedBody = false
            let c = simulation.raw.pointee.subtree_com + 3 * Int(trackedBody)
            camera.pointee.lookat = (c[0], c[1], c[2])
        }
        if let id = freeFromFixedCamera {
            freeFromFixedCamera = nil
            lookThrough(camera: Int(id), simulation)
        }
        mjv_updateScene(model.raw, simulation.raw, option, perturb, camera, Int32(mjCAT_ALL.rawValue), scene)
        mjr_render(viewport, scene, context)
    }

    /// Draws the scene into `viewport`: its picture when it has one (scaled to fit, centred on black), else the
    /// 3-D model from its simulation.
    func render(_ scene: any ReplayScene, viewport: mjrRect) {
        guard let image = scene.screenImage() else { return render(scene.simulation, viewport: viewport) }
        mjr_rectangle(viewport, 0, 0, 0, 1)
        let f = ScreenImage.fit(width: image.width, height: image.height, viewportWidth: Int(viewport.width),
                                viewportHeight: Int(viewport.height))
        let pixels = image.scaled(width: f.width, height: f.height, bottomUp: true)
        let rect = mjrRect(left: viewport.left + Int32(f.left), bottom: viewport.bottom + Int32(f.bottom),
                           width: Int32(f.width), height: Int32(f.height))
        pixels.withUnsafeBufferPointer { mjr_drawPixels($0.baseAddress, nil, rect, context) }
    }

    /// Points the free camera as model camera `id` points: the same direction, looking at the point on its axis
    /// nearest the model's centre (MuJoCo's free camera has the model's global field of view).
    private func lookThrough(camera id: Int, _ simulation: Simulation) {
        let d = simulation.raw.pointee, m = model.raw.pointee
        let p = (d.cam_xpos[3 * id], d.cam_xpos[3 * id + 1], d.cam_xpos[3 * id + 2])
        let r = d.cam_xmat + 9 * id
        let f = (-r[2], -r[5], -r[8])  // a camera looks along its −z axis (the third column of cam_xmat)
        let c = m.stat.center
        var distance = (c.0 - p.0) * f.0 + (c.1 - p.1) * f.1 + (c.2 - p.2) * f.2
        if distance <= 0 { distance = m.stat.extent }
        camera.pointee.lookat = (p.0 + distance * f.0, p.1 + distance * f.1, p.2 + distance * f.2)
        camera.pointee.distance = distance
        camera.pointee.azimuth = atan2(f.1, f.0) * 180 / .pi
        camera.pointee.elevation = asin(max(-1, min(1, f.2))) * 180 / .pi
    }

    /// Two-column text (titles, values) in a corner of the viewport.
    func overlay(_ titles: String, _ values: String, corner: mjtGridPos, viewport: mjrRect) {
        mjr_overlay(Int32(mjFONT_NORMAL.rawValue), Int32(corner.rawValue), viewport, titles, values, context)
    }

    /// The viewport's pixels as RGB, top row first (OpenGL returns them bottom-up).
    func readPixels(_ viewport: mjrRect, into rgb: inout [UInt8]) {
        let w = Int(viewport.width), h = Int(viewport.height), stride = w * 3
        if rgb.count != w * h * 3 { rgb = [UInt8](repeating: 0, count: w * h * 3) }
        var bottomUp = [UInt8](repeating: 0, count: w * h * 3)
        mjr_readPixels(&bottomUp, nil, viewport, context)
        rgb.withUnsafeMutableBufferPointer { dst in
            bottomUp.withUnsafeBufferPointer { src in
                for y in 0..<h {
                    let from = (h - 1 - y) * stride, to = y * stride
                    for i in 0..<stride { dst[to + i] = src[from + i] }
                }
            }
        }
    }
}
