import CMuJoCo
import CMuJoCoGuard

/// A compiled MuJoCo model (mjModel): the immutable shape of a simulation. Owns the C allocation.
///
/// Only option fields (timestep etc.) are meant to be changed after loading; everything a simulation
/// mutates lives in `Simulation` (mjData), as in MuJoCo's own split.
public final class Model: @unchecked Sendable {
    public let raw: UnsafeMutablePointer<mjModel>
    /// The file the model was loaded from, for messages and provenance.
    public let path: String

    /// Loads and compiles an MJCF (or MJB-free XML) file. Throws with MuJoCo's own error text.
    public init(contentsOf path: String) throws {
        mjg_install_handlers()
        var error = [CChar](repeating: 0, count: 1024)
        guard let m = inIEEEMode({ mj_loadXML(path, nil, &error, Int32(error.count)) }) else {
            let message = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw MuJoCoError.loadFailed(path: path, message: message.isEmpty ? "unknown error" : message)
        }
        raw = m
        self.path = path
    }

    /// Compiles a model from XML text (written to a private temporary file, since MuJoCo loads from paths;
    /// this avoids touching mjVFS, whose 2000×1000 tuple costs seconds of compile time in every Swift file).
    public convenience init(xml: String, name: String = "model") throws {
        let dir = FileSystem.temporaryDirectory()
        defer { FileSystem.removeTree(dir) }
        let file = dir + "/" + name + ".xml"
        try FileSystem.write(xml, to: file)
        try self.init(contentsOf: file)
    }

    deinit { mj_deleteModel(raw) }

    public var nq: Int { Int(raw.pointee.nq) }
    public var nv: Int { Int(raw.pointee.nv) }
    public var nu: Int { Int(raw.pointee.nu) }
    public var nbody: Int { Int(raw.pointee.nbody) }
    public var ntendon: Int { Int(raw.pointee.ntendon) }

    /// Physics timestep in seconds (opt.timestep).
    public var timestep: Double {
        get { raw.pointee.opt.timestep }
        set { raw.pointee.opt.timestep = newValue }
    }

    /// Body masses, one per body including the world body (index 0).
    public var bodyMass: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: raw.pointee.body_mass, count: nbody) }

    /// Initial joint positions (qpos0) as compiled from the model.
    public var qpos0: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: raw.pointee.qpos0, count: nq) }

    /// Actuator control ranges as (low, high) pairs; unlimited actuators report (-inf, inf).
    public var actuatorControlRanges: [(low: Double, high: Double)] {
        (0..<nu).map { i in
            let limited = raw.pointee.actuator_ctrllimited[i] != 0
            guard limited else { return (-Double.infinity, Double.infinity) }
            return (raw.pointee.actuator_ctrlrange[2 * i], raw.pointee.actuator_ctrlrange[2 * i + 1])
        }
    }

    public func id(of kind: ObjectKind, named name: String) throws -> Int {
        let id = mj_name2id(raw, Int32(kind.mjObj.rawValue), name)
        guard id >= 0 else { throw MuJoCoError.unknownName(kind: kind.rawValue, name: name) }
        return Int(id)
    }

    public func name(of kind: ObjectKind, id: Int) -> String? {
        guard let p = mj_id2name(raw, Int32(kind.mjObj.rawValue), Int32(id)) else { return nil }
        return String(cString: p)
    }
}

/// The MuJoCo object kinds Sparrow looks up by name.
public enum ObjectKind: String, Sendable {
    case body, joint, geom, actuator, camera, site

    var mjObj: mjtObj {
        switch self {
        case .body: return mjOBJ_BODY
        case .joint: return mjOBJ_JOINT
        case .geom: return mjOBJ_GEOM
        case .actuator: return mjOBJ_ACTUATOR
        case .camera: return mjOBJ_CAMERA
        case .site: return mjOBJ_SITE
        }
    }
}

/// MuJoCo's version as reported by the loaded library (e.g. "2.2.2").
public var mujocoVersion: String { String(cString: mj_versionString()) }
