import CPlatform
import XCTest
@testable import MuJoCo

/// A two-body model small enough to reason about: a box falling onto a plane, one hinge arm with a motor.
let tinyModel = """
<mujoco model="tiny">
  <option timestep="0.002"/>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 0.1"/>
    <body name="box" pos="0 0 1">
      <freejoint name="root"/>
      <geom type="box" size="0.1 0.1 0.1" mass="2"/>
      <body name="arm" pos="0.2 0 0">
        <joint name="hinge" type="hinge" axis="0 1 0" range="-1 1" limited="true"/>
        <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.03" mass="0.5"/>
      </body>
    </body>
  </worldbody>
  <actuator><motor joint="hinge" gear="10" ctrlrange="-1 1" ctrllimited="true"/></actuator>
</mujoco>
"""

final class MuJoCoTests: XCTestCase {
    func testLoadsAndReportsShape() throws {
        let model = try Model(xml: tinyModel)
        XCTAssertEqual(model.nq, 8)  // free joint 7 + hinge 1
        XCTAssertEqual(model.nv, 7)
        XCTAssertEqual(model.nu, 1)
        XCTAssertEqual(model.nbody, 3)
        XCTAssertEqual(model.bodyMass[1], 2, accuracy: 1e-12)
        XCTAssertEqual(model.actuatorControlRanges.first?.low, -1)
        XCTAssertEqual(try model.id(of: .body, named: "arm"), 2)
        XCTAssertEqual(model.name(of: .body, id: 1), "box")
        XCTAssertThrowsError(try model.id(of: .body, named: "nope")) { error in
            XCTAssertEqual("\(error)", "the model has no body named 'nope'")
        }
        XCTAssertTrue(mujocoVersion.hasPrefix("2.2"))
    }

    func testBrokenXMLThrowsMuJoCosMessage() {
        XCTAssertThrowsError(try Model(xml: "<mujoco><worldbody><geom type='sphere' size='0.13/2'/></worldbody></mujoco>")) { error in
            guard case let MuJoCoError.loadFailed(_, message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("XML Error"), message)
        }
        XCTAssertThrowsError(try Model(contentsOf: "/nonexistent/model.xml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot load MuJoCo model /nonexistent/model.xml:"), "\(error)")
        }
    }

    func testBoxFallsAndLandsWithContactForces() throws {
        let sim = try Simulation(model: try Model(xml: tinyModel))
        XCTAssertEqual(sim.qpos[2], 1, accuracy: 1e-12)
        try sim.step(count: 1000, rnePostConstraint: true)  // 2 s: it has landed
        XCTAssertEqual(sim.time, 2.0, accuracy: 1e-9)
        XCTAssertLessThan(sim.qpos[2], 0.5)
        XCTAssertGreaterThan(sim.contactCount, 0)
        // The floor pushes the box up: the external force on body 1 has a positive z component (index 5).
        XCTAssertGreaterThan(abs(sim.cfrcExt[6 + 5]) + abs(sim.cfrcExt[12 + 5]), 1)
        sim.reset()
        XCTAssertEqual(sim.time, 0)
        XCTAssertEqual(sim.qpos[2], 1, accuracy: 1e-12)
    }

    func testSetStateChecksSizesAndRecomputesDerivedQuantities() throws {
        let sim = try Simulation(model: try Model(xml: tinyModel))
        var q = Array(sim.qpos); q[0] = 3
        try sim.setState(qpos: q, qvel: Array(repeating: 0, count: 7))
        XCTAssertEqual(sim.xpos[3], 3, accuracy: 1e-12)  // body 1's x follows through mj_forward
        XCTAssertThrowsError(try sim.setState(qpos: [1, 2], qvel: [])) { error in
            XCTAssertEqual("\(error)", "qpos has 2 values, the model needs 8")
        }
    }

    func testSameControlsGiveBitIdenticalTrajectories() throws {
        let model = try Model(xml: tinyModel)
        func run() throws -> [Double] {
            let sim = try Simulation(model: model)
            for i in 0..<300 { sim.ctrl[0] = sin(Double(i) * 0.05); try sim.step() }
            return Array(sim.qpos) + Array(sim.qvel)
        }
        XCTAssertEqual(try run(), try run())
    }

    func testSnapshotRestoresTheExactFuture() throws {
        let model = try Model(xml: tinyModel)
        let a = try Simulation(model: model), b = try Simulation(model: model)
        for i in 0..<400 { a.ctrl[0] = sin(Double(i) * 0.1); try a.step() }  // landed: contacts, warm start
        let snap = a.snapshot()
        try b.restore(snapshot: snap)
        XCTAssertEqual(Array(b.xpos), Array(a.xpos))
        for i in 0..<300 {
            a.ctrl[0] = cos(Double(i)); b.ctrl[0] = cos(Double(i))
            try a.step(rnePostConstraint: true); try b.step(rnePostConstraint: true)
        }
        XCTAssertEqual(Array(a.qpos) + Array(a.qvel) + Array(a.cfrcExt), Array(b.qpos) + Array(b.qvel) + Array(b.cfrcExt))
        XCTAssertEqual(a.time, b.time)
        XCTAssertThrowsError(try b.restore(snapshot: Array(snap.dropLast())))
        let other = try Simulation(model: try Model(xml: tinyModel.replacingOccurrences(of: "mass=\"0.5\"/>",
            with: "mass=\"0.5\"/></body><body name=\"extra\" pos=\"1 1 1\"><geom size=\"0.1\"/>")))
        XCTAssertThrowsError(try other.restore(snapshot: snap))
    }

    func testDivergingPhysicsIsFlagged() throws {
        let sim = try Simulation(model: try Model(xml: tinyModel))
        XCTAssertEqual(sim.instabilityCount, 0)
        sim.qvel[6] = .nan
        try sim.step()
        XCTAssertGreaterThan(sim.instabilityCount, 0)
        XCTAssertTrue(sim.qpos.allSatisfy(\.isFinite))  // MuJoCo reset the state itself
    }
}

final class MuJoCoErrorHandlerTests: XCTestCase {
    /// A model whose stack is far too small: MuJoCo raises mju_error inside mj_step. Without our handler the
    /// process would exit(); with it the call throws MuJoCo's message and the simulation can be reset and reused.
    func testEngineErrorThrowsInsteadOfExiting() throws {
        let starved = tinyModel.replacingOccurrences(of: "<option timestep=\"0.002\"/>",
                                                     with: "<option timestep=\"0.002\"/><size nstack=\"200\"/>")
        let model = try Model(xml: starved)
        let sim: Simulation
        do { sim = try Simulation(model: model) } catch MuJoCoError.allocationFailed(let message) {
            XCTAssertFalse(message.isEmpty); return
        }
        // It fails once contacts appear (after the box lands, ~0.45 s).
        XCTAssertThrowsError(try sim.step(count: 1000)) { error in
            guard case let MuJoCoError.engineError(message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.lowercased().contains("stack"), message)
        }
        sim.reset()
        XCTAssertEqual(sim.time, 0)
    }

    /// Physics runs in IEEE mode even when called from inside a network's flush-to-zero scope (issue 10): a
    /// subnormal velocity must still move the body, exactly as outside the scope.
    func testPhysicsIgnoresTheCallersFlushToZero() throws {
        let xml = """
        <mujoco><option timestep="0.002" gravity="0 0 0"/><worldbody><body><joint name="x" type="slide" axis="1 0 0"/>
        <geom type="sphere" size="0.1" mass="1"/></body></worldbody></mujoco>
        """
        let model = try Model(xml: xml)
        func run() throws -> [Double] {
            let sim = try Simulation(model: model)
            sim.qvel[0] = 1e-310  // subnormal
            try sim.step(count: 3)
            try sim.forward()
            sim.rnePostConstraint()
            return Array(sim.qpos) + Array(sim.qvel)
        }
        let plain = try run()
        XCTAssertGreaterThan(plain[0], 0)
        XCTAssertTrue(plain[0].isSubnormal)
        let saved = sp_fpenv_flush_begin()
        defer { sp_fpenv_restore(saved) }
        XCTAssertEqual(sp_fpenv_flushing(), 1)
        XCTAssertEqual(try run(), plain)
        XCTAssertEqual(sp_fpenv_flushing(), 1, "the guard restores the caller's mode")
    }
}
