import CMuJoCo
import CMuJoCoGuard

/// The mutable state of one simulation (mjData) of a `Model`. Owns the C allocation and keeps its model alive.
///
/// Array accessors are views straight into mjData's buffers (no copies), valid for the life of this object;
/// MuJoCo allocates them once in mj_makeData, so stepping never allocates.
public final class Simulation: @unchecked Sendable {
    public let model: Model
    public let raw: UnsafeMutablePointer<mjData>
    private let m: UnsafeMutablePointer<mjModel>

    public init(model: Model) throws {
        mjg_install_handlers()
        guard let d = mjg_make_data(model.raw) else {
            throw MuJoCoError.allocationFailed(String(cString: mjg_last_error()))
        }
        self.model = model
        self.m = model.raw
        self.raw = d
    }

    deinit { mj_deleteData(raw) }

    // MARK: state and derived quantities (views into mjData)

    public var time: Double {
        get { raw.pointee.time }
        set { raw.pointee.time = newValue }
    }
    public var qpos: UnsafeMutableBufferPointer<Double> { view(raw.pointee.qpos, model.nq) }
    public var qvel: UnsafeMutableBufferPointer<Double> { view(raw.pointee.qvel, model.nv) }
    public var ctrl: UnsafeMutableBufferPointer<Double> { view(raw.pointee.ctrl, model.nu) }
    /// Body frame positions, nbody × 3 (row-major).
    public var xpos: UnsafeMutableBufferPointer<Double> { view(raw.pointee.xpos, model.nbody * 3) }
    /// Body centre-of-mass positions, nbody × 3.
    public var xipos: UnsafeMutableBufferPointer<Double> { view(raw.pointee.xipos, model.nbody * 3) }
    /// Body inertias in the com-based frame, nbody × 10.
    public var cinert: UnsafeMutableBufferPointer<Double> { view(raw.pointee.cinert, model.nbody * 10) }
    /// Body velocities in the com-based frame, nbody × 6.
    public var cvel: UnsafeMutableBufferPointer<Double> { view(raw.pointee.cvel, model.nbody * 6) }
    /// External (contact) forces on bodies, nbody × 6; filled by `rnePostConstraint()`.
    public var cfrcExt: UnsafeMutableBufferPointer<Double> { view(raw.pointee.cfrc_ext, model.nbody * 6) }
    /// Actuator forces in joint space, nv.
    public var qfrcActuator: UnsafeMutableBufferPointer<Double> { view(raw.pointee.qfrc_actuator, model.nv) }
    public var tendonLength: UnsafeMutableBufferPointer<Double> { view(raw.pointee.ten_length, model.ntendon) }
    public var tendonVelocity: UnsafeMutableBufferPointer<Double> { view(raw.pointee.ten_velocity, model.ntendon) }
    /// Number of active contacts after the last step or forward.
    public var contactCount: Int { Int(raw.pointee.ncon) }

    @inline(__always)
    private func view(_ p: UnsafeMutablePointer<Double>?, _ n: Int) -> UnsafeMutableBufferPointer<Double> {
        UnsafeMutableBufferPointer(start: n > 0 ? p : nil, count: n)
    }

    // MARK: simulation

    /// Advances `count` physics steps, then (optionally) computes cacc/cfrc_int/cfrc_ext with
    /// mj_rnePostConstraint, as Gymnasium does after every env step.
    /// Throws `engineError` if MuJoCo raised a fatal error; reset before using the data again.
    public func step(count: Int = 1, rnePostConstraint: Bool = false) throws {
        if mjg_step(m, raw, Int32(count), rnePostConstraint ? 1 : 0) != 0 {
            throw MuJoCoError.engineError(String(cString: mjg_last_error()))
        }
    }

    /// Recomputes all derived quantities from the current state (mj_forward).
    public func forward() throws {
        if mjg_forward(m, raw) != 0 { throw MuJoCoError.engineError(String(cString: mjg_last_error())) }
    }

    /// Computes cacc, cfrc_int and cfrc_ext for the current state (mj_rnePostConstraint).
    public func rnePostConstraint() { inIEEEMode { mj_rnePostConstraint(m, raw) } }

    /// Resets to the model's initial state (mj_resetData): qpos0, zero velocities, zero controls, time 0.
    public func reset() { inIEEEMode { mj_resetData(m, raw) } }

    /// How often MuJoCo has flagged NaN/huge values in qpos/qvel/qacc since the last reset. MuJoCo resets
    /// the state itself when this happens, so an increase during a step means the physics diverged.
    public var instabilityCount: Int { Int(mjg_instability_count(raw)) }

    /// The last warning MuJoCo printed on this thread, if any.
    public static var lastWarning: String { String(cString: mjg_last_warning()) }

    // MARK: snapshots (exact resume)

    /// The complete simulation state as bytes (see `mjg_snapshot`): restoring it makes the next steps bit-identical
    /// to an uninterrupted run, including MuJoCo's warm start and lagged derived quantities.
    public func snapshot() -> [UInt8] {
        let n = mjg_snapshot_size(raw)
        return [UInt8](unsafeUninitializedCapacity: n) { buf, count in
            mjg_snapshot(raw, buf.baseAddress!)
            count = n
        }
    }

    /// Restores a `snapshot()` of a simulation of the same model.
    public func restore(snapshot bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { mjg_restore(raw, $0.baseAddress!, $0.count) }
        guard rc == 0 else {
            throw MuJoCoError.stateSizeMismatch(field: "simulation snapshot", expected: mjg_snapshot_size(raw), actual: bytes.count)
        }
    }

    // MARK: state vectors

    /// Positions and velocities (Gymnasium's state_vector()).
    public var state: (qpos: [Double], qvel: [Double]) { (Array(qpos), Array(qvel)) }

    /// Sets positions and velocities (checked against nq/nv) and recomputes derived quantities (mj_forward),
    /// as Gymnasium's set_state does.
    public func setState(qpos newQpos: [Double], qvel newQvel: [Double]) throws {
        guard newQpos.count == model.nq else {
            throw MuJoCoError.stateSizeMismatch(field: "qpos", expected: model.nq, actual: newQpos.count)
        }
        guard newQvel.count == model.nv else {
            throw MuJoCoError.stateSizeMismatch(field: "qvel", expected: model.nv, actual: newQvel.count)
        }
        _ = qpos.update(fromContentsOf: newQpos)
        _ = qvel.update(fromContentsOf: newQvel)
        try forward()
    }
}
