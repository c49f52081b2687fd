import Foundation
import XCTest
@testable import Environments
import SparrowCore

final class EnvironmentTests: XCTestCase {
    func testLookupByNameIsCaseInsensitiveAndAcceptsShortNames() throws {
        XCTAssertEqual(try EnvironmentID(name: "Hopper-v5"), .hopper)
        XCTAssertEqual(try EnvironmentID(name: "hopper"), .hopper)
        XCTAssertEqual(try EnvironmentID(name: "HALFCHEETAH-V5"), .halfCheetah)
        XCTAssertEqual(try EnvironmentID(name: "half_cheetah"), .halfCheetah)
        XCTAssertEqual(try EnvironmentID(name: "inverted-pendulum"), .invertedPendulum)
        XCTAssertThrowsError(try EnvironmentID(name: "Hopper-v4x")) { error in
            XCTAssertEqual("\(error)", "unknown environment 'Hopper-v4x'; valid: Hopper-v5, Walker2d-v5, "
                + "HalfCheetah-v5, Ant-v5, Humanoid-v5, InvertedPendulum-v5, CartPole-v1, Acrobot-v1, MountainCar-v0, CartPole-v0"
                + "; did you mean Hopper-v5?")
        }
        XCTAssertThrowsError(try EnvironmentID(name: "cartpole")) { error in
            XCTAssertEqual("\(error)", "cartpole is not a MuJoCo robot; valid here: Hopper-v5, Walker2d-v5, "
                + "HalfCheetah-v5, Ant-v5, Humanoid-v5, InvertedPendulum-v5")
        }
    }

    func testSpacesMatchGymnasiumV5() throws {
        let expected: [(EnvironmentID, obs: Int, act: Int, bound: Double)] = [
            (.hopper, 11, 3, 1), (.walker2d, 17, 6, 1), (.halfCheetah, 17, 6, 1),
            (.ant, 105, 8, 1), (.humanoid, 348, 17, 0.4), (.invertedPendulum, 4, 1, 3),
        ]
        for (id, obs, act, bound) in expected {
            let env = try LocomotionEnv(id, options: id.defaultOptions)
            XCTAssertEqual(env.observationSpace.shape, [obs], id.name)
            XCTAssertEqual(env.actionSpace.shape, [act], id.name)
            XCTAssertEqual(env.actionSpace.low, Array(repeating: -bound, count: act), id.name)
            XCTAssertEqual(env.actionSpace.high, Array(repeating: bound, count: act), id.name)
            XCTAssertTrue(env.observationSpace.low.allSatisfy { $0 == -.infinity })
            let (o, _) = try env.reset(seed: 0)
            XCTAssertEqual(o.count, obs)
        }
        XCTAssertEqual(try makeEnvironment("hopper").dt, 0.008, accuracy: 1e-15)
        XCTAssertEqual(try makeEnvironment("humanoid").dt, 0.015, accuracy: 1e-15)
    }

    func testSameSeedSameResetAndTrajectoryDifferentSeedDifferentReset() throws {
        func rollout(_ seed: UInt64) throws -> [[Double]] {
            let env = try makeEnvironment("Walker2d-v5")
            var trace = [try env.reset(seed: seed).observation]
            for i in 0..<50 {
                let a = (0..<6).map { j in sin(Double(i * 6 + j)) }
                trace.append(try env.step(a).observation)
            }
            return trace
        }
        let a = try rollout(3), b = try rollout(3), c = try rollout(4)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a[0], c[0])
        // A reset without a seed continues the stream: a new, different start.
        let env = try makeEnvironment("hopper")
        let first = try env.reset(seed: 9).observation
        XCTAssertNotEqual(first, try env.reset(seed: nil).observation)
        XCTAssertEqual(first, try env.reset(seed: 9).observation)
    }

    func testResetNoiseHasGymnasiumsScaleAndDistribution() throws {
        let hopper = try makeEnvironment("hopper")
        let q0 = Array(hopper.model.qpos0)
        var maxDev = 0.0
        for s in 0..<50 {
            _ = try hopper.reset(seed: UInt64(s))
            for i in 0..<q0.count { maxDev = max(maxDev, abs(hopper.simulation.qpos[i] - q0[i])) }
            XCTAssertTrue(hopper.simulation.qvel.allSatisfy { abs($0) <= 5e-3 })
        }
        XCTAssertLessThanOrEqual(maxDev, 5e-3)
        XCTAssertGreaterThan(maxDev, 4e-3)  // uniform over ±scale: the extremes get close to the bound
        // HalfCheetah's velocities are 0.1·N(0,1): some exceed the uniform bound 0.1.
        let cheetah = try makeEnvironment("halfcheetah")
        var beyond = 0
        for s in 0..<50 {
            _ = try cheetah.reset(seed: UInt64(s))
            beyond += cheetah.simulation.qvel.filter { abs($0) > 0.1 }.count
        }
        XCTAssertGreaterThan(beyond, 0)
    }

    func testTimeLimitTruncatesAtStep1000() throws {
        let env = try makeEnvironment("HalfCheetah-v5")  // never terminates
        _ = try env.reset(seed: 1)
        let zero = [Double](repeating: 0, count: 6)
        for t in 1...1000 {
            let r = try env.step(zero)
            XCTAssertFalse(r.terminated)
            XCTAssertEqual(r.truncated, t == 1000, "step \(t)")
        }
        var options = EnvironmentID.halfCheetah.defaultOptions
        options.maxEpisodeSteps = 5
        let short = try LocomotionEnv(.halfCheetah, options: options)
        _ = try short.reset(seed: 1)
        let flags = try (1...5).map { _ in try short.step(zero).truncated }
        XCTAssertEqual(flags, [false, false, false, false, true])
    }

    func testBadActionsThrowAndStepNothing() throws {
        let env = try makeEnvironment("hopper")
        _ = try env.reset(seed: 0)
        let before = Array(env.simulation.qpos)
        XCTAssertThrowsError(try env.step([0, 0])) { error in
            XCTAssertEqual("\(error)", "action has 2 components, the environment expects 3")
        }
        XCTAssertThrowsError(try env.step([0, .nan, 0])) { error in
            XCTAssertTrue("\(error)".hasPrefix("action component 1 is nan"), "\(error)")
        }
        XCTAssertThrowsError(try env.step([.infinity, 0, 0]))
        XCTAssertEqual(Array(env.simulation.qpos), before)
        XCTAssertEqual(env.elapsedSteps, 0)
    }

    func testOutOfBoundsActionsAreClampedByMuJoCoButCostAsGiven() throws {
        let a = try makeEnvironment("hopper"), b = try makeEnvironment("hopper")
        _ = try a.reset(seed: 2); _ = try b.reset(seed: 2)
        let big = try a.step([3, -3, 3]), clipped = try b.step([1, -1, 1])
        XCTAssertEqual(big.observation, clipped.observation)  // same physics
        XCTAssertEqual(big.info.rewardTerms.ctrl!, -1e-3 * 27, accuracy: 1e-15)
        XCTAssertEqual(clipped.info.rewardTerms.ctrl!, -1e-3 * 3, accuracy: 1e-15)
    }

    func testDivergingPhysicsTruncatesWithoutNaN() throws {
        let env = try makeEnvironment("hopper")
        let (obs0, _) = try env.reset(seed: 0)
        let q = Array(env.simulation.qpos)
        _ = try env.reset(qpos: q, qvel: Array(repeating: 1e12, count: 6))
        let r = try env.step([0, 0, 0])
        XCTAssertTrue(r.info.diverged)
        XCTAssertTrue(r.truncated)
        XCTAssertFalse(r.terminated)
        XCTAssertEqual(r.reward, 0)
        XCTAssertTrue(r.observation.allSatisfy(\.isFinite))
        XCTAssertFalse(r.info.warning?.isEmpty ?? true)
        // The env is usable again after a reset.
        XCTAssertEqual(try env.reset(seed: 0).observation, obs0)
        XCTAssertFalse(try env.step([0, 0, 0]).info.diverged)
    }

    func testHealthyRewardIsPaidOnlyWhileHealthyAndTerminationFollowsTheOption() throws {
        let env = try makeEnvironment("hopper")
        _ = try env.reset(seed: 0)
        var terminal: StepResult?
        for _ in 0..<300 {
            let r = try env.step([1, 1, -1])
            if r.terminated { terminal = r; break }
            XCTAssertEqual(r.info.rewardTerms.survive, 1)
        }
        let t = try XCTUnwrap(terminal)
        XCTAssertEqual(t.info.rewardTerms.survive, 0)  // v5: no healthy reward on the terminal step

        var options = EnvironmentID.hopper.defaultOptions
        options.terminateWhenUnhealthy = false
        let free = try LocomotionEnv(.hopper, options: options)
        _ = try free.reset(seed: 0)
        var unhealthySteps = 0
        for _ in 0..<300 {
            let r = try free.step([1, 1, -1])
            XCTAssertFalse(r.terminated)
            if r.info.rewardTerms.survive == 0 { unhealthySteps += 1 }
        }
        XCTAssertGreaterThan(unhealthySteps, 0)
    }

    func testObservationOptionsChangeTheLayout() throws {
        var o = EnvironmentID.hopper.defaultOptions
        o.excludeCurrentPositionsFromObservation = false
        let hopper = try LocomotionEnv(.hopper, options: o)
        let (obs, _) = try hopper.reset(seed: 0)
        XCTAssertEqual(obs.count, 12)
        XCTAssertEqual(obs[0], hopper.simulation.qpos[0])

        var a = EnvironmentID.ant.defaultOptions
        a.includeCfrcExtInObservation = false
        XCTAssertEqual(try LocomotionEnv(.ant, options: a).observationSpace.dimension, 27)

        var h = EnvironmentID.humanoid.defaultOptions
        h.includeCinertInObservation = false
        h.includeCvelInObservation = false
        XCTAssertEqual(try LocomotionEnv(.humanoid, options: h).observationSpace.dimension, 348 - 130 - 78)

        var w = EnvironmentID.walker2d.defaultOptions
        w.ctrlCostWeight = 0.5
        let walker = try LocomotionEnv(.walker2d, options: w)
        _ = try walker.reset(seed: 0)
        XCTAssertEqual(try walker.step([1, 0, 0, 0, 0, 0]).info.rewardTerms.ctrl!, -0.5, accuracy: 1e-15)
    }

    func testAnotherXMLFileForTheSameRobotAndBrokenFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-env-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Same hopper with heavier gravity: loads, and the robot falls faster.
        let original = try String(contentsOfFile: ModelFiles.path(for: .hopper), encoding: .utf8)
        XCTAssertTrue(original.contains("<option"), "hopper.xml should have an <option> element")
        let heavy = dir.appendingPathComponent("heavy_hopper.xml")
        try original.replacingOccurrences(of: "<option", with: "<option gravity=\"0 0 -30\"")
            .write(to: heavy, atomically: true, encoding: .utf8)
        var o = EnvironmentID.hopper.defaultOptions
        o.xmlFile = heavy.path
        let a = try LocomotionEnv(.hopper, options: o), b = try makeEnvironment("hopper")
        _ = try a.reset(seed: 0); _ = try b.reset(seed: 0)
        for _ in 0..<20 { _ = try a.step([0, 0, 0]); _ = try b.step([0, 0, 0]) }
        XCTAssertLessThan(a.simulation.qpos[1], b.simulation.qpos[1])

        let broken = dir.appendingPathComponent("broken.xml")
        try "<mujoco><worldbody><body pos='0.13/2 0 0'><geom size='1'/></body></worldbody></mujoco>"
            .write(to: broken, atomically: true, encoding: .utf8)
        o.xmlFile = broken.path
        XCTAssertThrowsError(try LocomotionEnv(.hopper, options: o)) { error in
            XCTAssertTrue("\(error)".contains("XML Error"), "\(error)")
        }
        o.xmlFile = dir.appendingPathComponent("missing.xml").path
        XCTAssertThrowsError(try LocomotionEnv(.hopper, options: o))
    }

    func testAllModelFilesLoadAndStepWithRandomActions() throws {
        var g = Generator(seed: 5)
        for id in EnvironmentID.allCases {
            let env = try LocomotionEnv(id, options: id.defaultOptions)
            _ = try env.reset(seed: 1)
            for _ in 0..<100 {
                let r = try env.step(env.actionSpace.sample(using: &g))
                XCTAssertTrue(r.observation.allSatisfy(\.isFinite) && r.reward.isFinite, id.name)
                if r.terminated { _ = try env.reset(seed: nil) }
            }
        }
    }
}

final class EnvironmentCheckpointTests: XCTestCase {
    /// A mid-episode snapshot restored into a fresh env continues bit-identically (Ant: contacts, lagged xpos).
    func testMidEpisodeStateRoundTripContinuesExactly() throws {
        let a = try makeEnvironment("ant")
        _ = try a.reset(seed: 3)
        var g = Generator(seed: 11)
        for _ in 0..<37 { _ = try a.step(a.actionSpace.sample(using: &g)) }
        var w = ByteWriter()
        a.encodeState(into: &w)
        let b = try makeEnvironment("ant")
        var r = ByteReader(w.bytes)
        try b.decodeState(from: &r)
        XCTAssertTrue(r.isAtEnd)
        XCTAssertEqual(b.elapsedSteps, 37)
        for _ in 0..<100 {
            let action = a.actionSpace.sample(using: &g)
            let x = try a.step(action), y = try b.step(action)
            XCTAssertEqual(x, y)
            if x.terminated { XCTAssertEqual(try a.reset(seed: nil).observation, try b.reset(seed: nil).observation) }
        }
        var wrong = ByteReader(w.bytes)
        XCTAssertThrowsError(try makeEnvironment("hopper").decodeState(from: &wrong))
        var cut = ByteReader(Array(w.bytes.prefix(100)))
        XCTAssertThrowsError(try makeEnvironment("ant").decodeState(from: &cut))
    }
}
