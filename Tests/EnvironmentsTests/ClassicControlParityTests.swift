import Foundation
import XCTest
@testable import Environments
import SparrowCore

/// Trajectories recorded from Gymnasium 1.4's own CartPole-v1, Acrobot-v1 and MountainCar-v0 (through
/// `gymnasium.make`, so with its TimeLimit) by tools/parity/make_classic_fixtures.py. Each fixture has segments
/// (a termination followed by steps after it, a run to the time limit and past it, a hand-written start state);
/// each segment starts from Gymnasium's recorded state, because our reset draws from our own generator.
struct ClassicFixture: Decodable {
    struct Step: Decodable {
        let t: Int
        let action: Int
        let obs: [Double]
        let reward: Double
        let terminated: Bool
        let truncated: Bool
        let state: [Double]
        let steps_beyond_terminated: Int?
    }
    struct Segment: Decodable {
        let name: String
        let reset_seed: Int
        let start_state: [Double]
        let start_obs: [Double]?
        let steps: [Step]
    }
    let env: String
    let max_episode_steps: Int
    let dt: Double?
    let actions: Int
    let observation_low: [Double]
    let observation_high: [Double]
    let segments: [Segment]

    static func load(_ name: String) throws -> ClassicFixture {
        let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json")
            ?? Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures")
        guard let url else { throw CocoaError(.fileNoSuchFile) }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                        nan: "nan")
        return try decoder.decode(ClassicFixture.self, from: Data(contentsOf: url))
    }
}

final class ClassicControlParityTests: XCTestCase {
    /// |ours − Gymnasium| ≤ 1e-12 · max(|Gymnasium|, 1): absolute near zero, relative for large values. A float32
    /// observation that differs at all differs by far more (one float32 step is ~1e-7 relative).
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(abs(b), 1) }

    /// The first index where `ours` and `gym` differ beyond tolerance (or a size mismatch as -1), nil if none.
    static func mismatch(_ ours: [Double], _ gym: [Double]) -> Int? {
        guard ours.count == gym.count else { return -1 }
        return gym.indices.first { !close(ours[$0], gym[$0]) }
    }

    func check(_ id: ClassicControlID) throws {
        let fx = try ClassicFixture.load(id.name)
        let env = makeClassicControlEnvironment(id, seed: 0)
        XCTAssertEqual(fx.env, env.name)
        XCTAssertEqual(env.actions, .discrete(fx.actions))
        XCTAssertEqual(env.observationSpace.low, fx.observation_low, "\(id.name) observation bounds (float32, as Gymnasium's)")
        XCTAssertEqual(env.observationSpace.high, fx.observation_high)
        XCTAssertEqual(env.maxEpisodeSteps, fx.max_episode_steps)
        if let dt = fx.dt { XCTAssertEqual(env.dt, dt) }

        // The fixture itself must cover a termination with steps after it and a truncation at the limit.
        let all = fx.segments.flatMap(\.steps)
        XCTAssertGreaterThanOrEqual(all.count, 300, "\(id.name): a few hundred recorded steps")
        XCTAssertTrue(fx.segments.contains { seg in
            seg.steps.firstIndex(where: \.terminated).map { $0 + 1 < seg.steps.count } ?? false
        }, "\(id.name): a termination followed by more steps")
        let limited = try XCTUnwrap(fx.segments.first { $0.name == "truncate" })
        XCTAssertEqual(limited.steps.firstIndex(where: \.truncated), fx.max_episode_steps - 1)
        XCTAssertGreaterThan(limited.steps.count, fx.max_episode_steps, "\(id.name): steps past the limit")
        XCTAssertFalse(limited.steps.contains(where: \.terminated))

        var compared = 0
        for seg in fx.segments {
            let (obs0, _) = try env.reset(state: seg.start_state)
            XCTAssertEqual(env.state, seg.start_state, "\(id.name) \(seg.name): start state")
            XCTAssertEqual(env.elapsedSteps, 0)
            if let gymObs = seg.start_obs, let i = Self.mismatch(obs0, gymObs) {
                return XCTFail("\(id.name) \(seg.name) reset: obs[\(i)] \(obs0) vs Gymnasium \(gymObs)")
            }
            for s in seg.steps {
                let at = "\(id.name) \(seg.name) step \(s.t) (action \(s.action))"
                let r = try env.step([Double(s.action)])
                if let i = Self.mismatch(r.observation, s.obs) {
                    return XCTFail("\(at): obs[\(i)] \(r.observation) vs Gymnasium \(s.obs)")
                }
                if let i = Self.mismatch(env.state, s.state) {
                    return XCTFail("\(at): state[\(i)] \(env.state) vs Gymnasium \(s.state)")
                }
                guard Self.close(r.reward, s.reward) else { return XCTFail("\(at): reward \(r.reward) vs \(s.reward)") }
                guard r.terminated == s.terminated else { return XCTFail("\(at): terminated \(r.terminated)") }
                guard r.truncated == s.truncated else { return XCTFail("\(at): truncated \(r.truncated)") }
                XCTAssertEqual(env.elapsedSteps, s.t + 1, at)
                if let cartPole = env as? CartPole {
                    XCTAssertEqual(cartPole.stepsBeyondTerminated, s.steps_beyond_terminated, at)
                }
                compared += 1
            }
        }
        XCTAssertEqual(compared, all.count)
    }

    func testCartPoleMatchesGymnasium() throws { try check(.cartPole) }

    /// CartPole-v0 is v1's dynamics with Gymnasium's 200-step limit: the same seed and actions give the same
    /// trajectory until v0 truncates at step 200, which v1 does not; "cartpole" alone still means v1.
    func testCartPoleV0IsV1WithA200StepLimit() throws {
        XCTAssertEqual(try TaskID(name: "CartPole-v0"), .classicControl(.cartPoleV0))
        XCTAssertEqual(try TaskID(name: "cartpole"), .classicControl(.cartPole))
        XCTAssertEqual(try TaskID(name: "CartPole-v1"), .classicControl(.cartPole))
        let v0 = makeClassicControlEnvironment(.cartPoleV0, seed: 4), v1 = makeClassicControlEnvironment(.cartPole, seed: 4)
        XCTAssertEqual(try v0.reset(seed: 4).observation, try v1.reset(seed: 4).observation)
        for t in 1...200 {
            let a: Double = v1.state[2] + 0.5 * v1.state[3] > 0 ? 1 : 0
            let x = try v0.step([a]), y = try v1.step([a])
            XCTAssertEqual(v0.state, v1.state)
            XCTAssertFalse(x.terminated || y.terminated)
            XCTAssertEqual(x.truncated, t == 200, "v0 step \(t)")
            XCTAssertFalse(y.truncated, "v1 step \(t)")
        }
    }
    func testAcrobotMatchesGymnasium() throws { try check(.acrobot) }
    func testMountainCarMatchesGymnasium() throws { try check(.mountainCar) }
}

final class ClassicControlTests: XCTestCase {
    func testLookupByNameAndVersion() throws {
        XCTAssertTrue(try makeTrainingEnvironment("CartPole-v1") is CartPole)
        XCTAssertTrue(try makeTrainingEnvironment("cartpole") is CartPole)
        XCTAssertTrue(try makeTrainingEnvironment("mountain_car") is MountainCar)
        XCTAssertTrue(try makeTrainingEnvironment("Acrobot-v1") is Acrobot)
        XCTAssertEqual(try makeTrainingEnvironment("MOUNTAINCAR-V0").name, "MountainCar-v0")
        XCTAssertEqual(try makeTrainingEnvironment("acrobot").name, "Acrobot-v1")
        XCTAssertEqual(try makeTrainingEnvironment("CartPole-v0").name, "CartPole-v0")
        XCTAssertThrowsError(try makeTrainingEnvironment("CartPole-v2")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("unknown environment 'CartPole-v2'; valid: "), text)
            for name in ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Hopper-v5"] {
                XCTAssertTrue(text.contains(name), "\(name) missing from: \(text)")
            }
            XCTAssertFalse(text.contains("\n"))
        }
    }

    func testSpacesAndTimeSteps() throws {
        let expected: [(ClassicControlID, actions: Int, obs: Int, dt: Double, limit: Int)] = [
            (.cartPole, 2, 4, 0.02, 500), (.acrobot, 3, 6, 0.2, 500), (.mountainCar, 3, 2, 1.0 / 30, 200),
            (.cartPoleV0, 2, 4, 0.02, 200),
        ]
        for (id, n, dim, dt, limit) in expected {
            let env = makeClassicControlEnvironment(id, seed: 0)
            XCTAssertEqual(env.actions, .discrete(n), id.name)
            XCTAssertEqual(env.actions.componentCount, 1)
            XCTAssertEqual(env.observationSpace.dimension, dim, id.name)
            XCTAssertEqual(env.state.count, env.stateNames.count)
            XCTAssertEqual(env.dt, dt, id.name)
            XCTAssertEqual(env.maxEpisodeSteps, limit, id.name)
            XCTAssertEqual(try env.reset(seed: 1).observation.count, dim)
        }
    }

    func testBadActionsThrowOneLineAndStepNothing() throws {
        for id in ClassicControlID.allCases {
            let env = makeClassicControlEnvironment(id, seed: 0)
            _ = try env.reset(seed: 2)
            _ = try env.step([1])
            let before = env.state
            let n = env.actions.choices!
            let valid = (0..<n).map(String.init).joined(separator: ", ")
            let cases: [([Double], String)] = [
                ([Double(n)], "action \(n) is not valid for Discrete(\(n)): expected one of \(valid)"),
                ([-1], "action -1 is not valid"), ([0.5], "action 0.5 is not valid"), ([.nan], "action nan is not valid"),
                ([.infinity], "action inf is not valid"), ([], "action has 0 components, the environment expects 1"),
                ([0, 1], "action has 2 components, the environment expects 1"),
            ]
            for (action, message) in cases {
                XCTAssertThrowsError(try env.step(action), "\(id.name) \(action)") { error in
                    let text = "\(error)"
                    XCTAssertTrue(text.hasPrefix(message), "\(id.name): \(text)")
                    XCTAssertFalse(text.contains("\n"), text)
                }
            }
            XCTAssertEqual(env.state, before, "\(id.name): a rejected action steps nothing")
            XCTAssertEqual(env.elapsedSteps, 1)
            XCTAssertNoThrow(try env.step([Double(n - 1)]))
        }
    }

    func testResetStateIsValidated() throws {
        let env = CartPole()
        XCTAssertThrowsError(try env.reset(state: [0, 0, 0])) { error in
            XCTAssertEqual("\(error)", "invalid state: CartPole-v1 needs 4 values (x, x_dot, theta, theta_dot), got 3")
        }
        XCTAssertThrowsError(try MountainCar().reset(state: [-0.5, .nan])) { error in
            XCTAssertEqual("\(error)", "invalid state: MountainCar-v0 velocity is nan; values must be finite")
        }
        let (obs, _) = try Acrobot().reset(state: [0.1, 0.2, 0.3, 0.4])
        XCTAssertEqual(obs, [cos(0.1), sin(0.1), cos(0.2), sin(0.2), 0.3, 0.4].map { Double(Float($0)) })
    }

    /// Many seeded resets stay in Gymnasium's ranges and fill them; the same seed gives the same start.
    func testResetDistributionRangesAndSeeding() throws {
        let ranges: [(ClassicControlID, low: [Double], high: [Double])] = [
            (.cartPole, [-0.05, -0.05, -0.05, -0.05], [0.05, 0.05, 0.05, 0.05]),
            (.acrobot, [-0.1, -0.1, -0.1, -0.1], [0.1, 0.1, 0.1, 0.1]),
            (.mountainCar, [-0.6, 0], [-0.4, 0]),
        ]
        for (id, low, high) in ranges {
            let env = makeClassicControlEnvironment(id, seed: 0)
            var lowest = high, highest = low
            for k in 0..<2000 {
                let (obs, _) = try env.reset(seed: k == 0 ? 9 : nil)
                let s = env.state
                XCTAssertEqual(env.elapsedSteps, 0)
                XCTAssertEqual(obs.count, env.observationSpace.dimension)
                XCTAssertTrue(env.observationSpace.contains(obs), "\(id.name): \(obs)")
                for i in s.indices {
                    // Acrobot rounds its draws to float32, which may land on the float32 nearest ±0.1.
                    let lo = id == .acrobot ? Double(Float(low[i])) : low[i]
                    let hi = id == .acrobot ? Double(Float(high[i])) : high[i]
                    XCTAssertTrue(s[i] >= lo && s[i] <= hi, "\(id.name) state[\(i)] = \(s[i]) outside [\(lo), \(hi)]")
                    if id == .acrobot { XCTAssertEqual(Double(Float(s[i])), s[i], "Acrobot's reset state is float32") }
                    lowest[i] = min(lowest[i], s[i]); highest[i] = max(highest[i], s[i])
                }
            }
            for i in low.indices where low[i] < high[i] {
                let width = high[i] - low[i]
                XCTAssertLessThan(lowest[i], low[i] + 0.01 * width, "\(id.name) state[\(i)] never near its low end")
                XCTAssertGreaterThan(highest[i], high[i] - 0.01 * width, "\(id.name) state[\(i)] never near its high end")
            }
            let a = makeClassicControlEnvironment(id, seed: 0), b = makeClassicControlEnvironment(id, seed: 1)
            XCTAssertEqual(try a.reset(seed: 7).observation, try b.reset(seed: 7).observation)
            XCTAssertEqual(a.state, b.state)
            XCTAssertNotEqual(try a.reset(seed: 7).observation, try b.reset(seed: 8).observation)
        }
    }

    /// `truncated` from the step that reaches the limit on, counted from the last reset (Gymnasium's TimeLimit).
    func testTimeLimitTruncatesAndKeepsCounting() throws {
        for id in ClassicControlID.allCases {
            let env = makeClassicControlEnvironment(id, seed: 0)
            for episode in 0..<2 {
                _ = try env.reset(seed: UInt64(episode))
                for t in 1...(env.maxEpisodeSteps + 3) {
                    // CartPole balances under this rule; zero torque and no push keep the others from terminating.
                    let action: Double = id.isCartPole ? (env.state[2] + 0.5 * env.state[3] > 0 ? 1 : 0) : 1
                    let r = try env.step([action])
                    XCTAssertFalse(r.terminated, "\(id.name) step \(t)")
                    guard r.truncated == (t >= env.maxEpisodeSteps) else {
                        return XCTFail("\(id.name) episode \(episode) step \(t): truncated \(r.truncated)")
                    }
                }
                XCTAssertEqual(env.elapsedSteps, env.maxEpisodeSteps + 3)
            }
        }
    }

    /// CartPole pays 1 on the terminating step and 0 on the (still terminated) steps after it, until a reset.
    func testCartPoleRewardAfterTermination() throws {
        let env = CartPole()
        try env.reset(state: [0, 0, 0.2, 0.5])
        var rewards: [Double] = []
        for _ in 0..<5 {
            let r = try env.step([0])  // pushing left lets the pole, leaning right, fall further
            XCTAssertTrue(r.terminated)
            rewards.append(r.reward)
        }
        XCTAssertEqual(rewards, [1, 0, 0, 0, 0])
        XCTAssertEqual(env.stepsBeyondTerminated, 4)
        _ = try env.reset(seed: 1)
        XCTAssertNil(env.stepsBeyondTerminated)
        XCTAssertEqual(try env.step([0]).reward, 1)
    }

    /// A mid-episode snapshot restored into a fresh env continues bit-identically, resets included.
    func testMidEpisodeStateRoundTripContinuesExactly() throws {
        for id in ClassicControlID.allCases {
            let a = makeClassicControlEnvironment(id, seed: 3)
            _ = try a.reset(seed: 3)
            var g = Generator(seed: 11)
            func action() -> [Double] { [Double(g.nextInt(below: a.actions.choices!))] }
            // CartPole: past its termination, so steps_beyond_terminated matters; the others: near the time limit.
            let warmup = id.isCartPole ? 60 : a.maxEpisodeSteps - 5
            for _ in 0..<warmup { _ = try a.step(action()) }
            if let c = a as? CartPole { XCTAssertNotNil(c.stepsBeyondTerminated) }
            var w = ByteWriter()
            a.encodeState(into: &w)
            let b = makeClassicControlEnvironment(id, seed: 99)
            _ = try b.reset(seed: 5)
            var r = ByteReader(w.bytes)
            try b.decodeState(from: &r)
            XCTAssertTrue(r.isAtEnd)
            XCTAssertEqual(b.state, a.state)
            XCTAssertEqual(b.elapsedSteps, warmup)
            XCTAssertEqual(b.generator, a.generator)
            var resets = 0
            for t in 0..<300 {
                let act = action()
                let x = try a.step(act), y = try b.step(act)
                guard x == y, a.state == b.state else { return XCTFail("\(id.name) step \(t) after restore: \(x) vs \(y)") }
                if x.terminated || x.truncated {
                    resets += 1
                    XCTAssertEqual(try a.reset(seed: nil).observation, try b.reset(seed: nil).observation)
                }
            }
            XCTAssertGreaterThan(resets, 0, "\(id.name): the continuation should cross an episode end")

            var wrong = ByteReader(w.bytes)
            let other = makeClassicControlEnvironment(id == .cartPole ? .acrobot : .cartPole, seed: 0)
            XCTAssertThrowsError(try other.decodeState(from: &wrong)) { error in
                XCTAssertTrue("\(error)".contains("environment state is for \(id.name)"), "\(error)")
            }
            var cut = ByteReader(Array(w.bytes.dropLast(3)))
            XCTAssertThrowsError(try makeClassicControlEnvironment(id, seed: 0).decodeState(from: &cut))
        }
    }
}
