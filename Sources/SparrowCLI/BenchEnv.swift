import ArgumentParser
import Environments
import Foundation
import MuJoCo
import SparrowCore

/// `sparrow bench env`: environment steps/s against raw mj_step steps/s on the same trajectory.
///
/// The env loop steps with uniformly random actions and resets when an episode ends. The raw loop then replays
/// the very same actions and resets through bare MuJoCo calls (ctrl, mj_step × frame_skip), so both visit
/// identical states and the ratio isolates Sparrow's own per-step cost (observation, reward, checks,
/// mj_rnePostConstraint). Target: overhead < 10%.
///
/// Classic-control tasks (CartPole, Acrobot, MountainCar) are pure Swift: there is no raw engine to compare with,
/// so only their env steps/s is measured (same loop: random actions, reset at each episode end).
struct BenchEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Environment steps/s vs raw MuJoCo stepping (one object per env with --json).",
        discussion: """
            MuJoCo robots print env_steps_per_s, mj_steps_per_s, frame_skip, overhead and steps; classic-control \
            tasks, which have no raw engine, print env_steps_per_s and steps.
            """)

    @Option(help: "One environment (default: all).")
    var env: String?

    @Option(help: "Environment steps per measurement.")
    var steps: Int = 20_000

    @Option(help: "Measurements per env; the best is reported (machines are noisy).")
    var repeats: Int = 3

    @Flag(help: "Print one JSON object per env per line.")
    var json = false

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        let tasks: [TaskID]
        do { tasks = try env.map { [try TaskID(name: $0)] } ?? TaskID.all } catch {
            throw CLIError(error)
        }
        if !json { print("env                   env steps/s   mj_step/s   overhead vs raw×frame_skip") }
        for task in tasks {
            switch task {
            case .locomotion(let id): try report(id)
            case .classicControl(let id): try report(id)
            case .atari(let game): try report(game)
            }
        }
    }

    private func report(_ id: EnvironmentID) throws {
        let r = try measure(id)
        if json {
            var o = JSONObject()
            o.add("env", id.name)
            o.add("env_steps_per_s", r.envPerSecond.rounded())
            o.add("mj_steps_per_s", r.mjPerSecond.rounded())
            o.add("frame_skip", r.frameSkip)
            o.add("overhead", (r.overhead * 10_000).rounded() / 10_000)
            o.add("steps", steps)
            print(o.text)
        } else {
            let name = id.name.padding(toLength: 20, withPad: " ", startingAt: 0)
            print("\(name) \(fmt(r.envPerSecond, 12)) \(fmt(r.mjPerSecond, 11))   \(String(format: "%+.1f%%", r.overhead * 100))")
        }
    }

    private func report(_ id: ClassicControlID) throws {
        let perSecond = try measure(id)
        if json {
            var o = JSONObject()
            o.add("env", id.name)
            o.add("env_steps_per_s", perSecond.rounded())
            o.add("steps", steps)
            print(o.text)
        } else {
            let name = id.name.padding(toLength: 20, withPad: " ", startingAt: 0)
            print("\(name) \(fmt(perSecond, 12)) \(String(repeating: " ", count: 10))-   (pure Swift, no raw engine)")
        }
    }

    /// An Atari game: agent steps/s and emulator frames/s (steps × frame skip, the frames the agent's actions ran;
    /// no-op and reset frames are not counted), through the whole pipeline (sticky actions, max-pool, resize,
    /// stack) with uniformly random actions and a reset at each episode end, frames kept as bytes.
    private func report(_ game: AtariGame) throws {
        let env: AtariEnv
        do { env = try AtariEnv(game, options: AtariOptions(), seed: 0) } catch { throw CLIError(error) }
        let n = env.actionSet.count
        var g = Generator(seed: 1)
        let actions = (0..<steps).map { _ in g.nextInt(below: n) }
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try env.resetFrames(seed: 0)
            for a in actions {
                let r = try env.stepFrames(action: a)
                if r.terminated || r.truncated { try env.resetFrames(seed: nil) }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0))
        }
        let perSecond = Double(steps) / (best / 1e9)
        if json {
            var o = JSONObject()
            o.add("env", game.name)
            o.add("env_steps_per_s", perSecond.rounded())
            o.add("frames_per_s", (perSecond * Double(env.options.frameSkip)).rounded())
            o.add("frame_skip", env.options.frameSkip)
            o.add("steps", steps)
            print(o.text)
        } else {
            let name = game.name.padding(toLength: 20, withPad: " ", startingAt: 0)
            print("\(name) \(fmt(perSecond, 12)) \(fmt(perSecond * Double(env.options.frameSkip), 11))   (ALE frames/s)")
        }
    }

    private func fmt(_ x: Double, _ w: Int) -> String { String(format: "%\(w).0f", x) }

    struct Result { var envPerSecond: Double; var mjPerSecond: Double; var frameSkip: Int; var overhead: Double }

    func measure(_ id: EnvironmentID) throws -> Result {
        let env = try LocomotionEnv(id, options: id.defaultOptions)
        let nu = env.actionSpace.dimension, skip = env.options.frameSkip
        var g = Generator(seed: 1)
        let actions = (0..<steps * nu).map { i in
            g.uniform(env.actionSpace.low[i % nu], env.actionSpace.high[i % nu])
        }
        var obs = [Double](repeating: 0, count: env.observationSpace.dimension)
        var resetAt: [Int] = []
        var bestEnv = Double.infinity, bestRaw = Double.infinity

        for _ in 0..<repeats {
            resetAt.removeAll(keepingCapacity: true)
            let t0 = DispatchTime.now().uptimeNanoseconds
            try obs.withUnsafeMutableBufferPointer { o in
                try actions.withUnsafeBufferPointer { a in
                    _ = try env.reset(seed: 0, observation: o)
                    for t in 0..<steps {
                        let r = try env.step(action: UnsafeBufferPointer(rebasing: a[t * nu..<(t + 1) * nu]), observation: o)
                        if r.terminated || r.truncated { resetAt.append(t); _ = try env.reset(seed: nil, observation: o) }
                    }
                }
            }
            bestEnv = min(bestEnv, Double(DispatchTime.now().uptimeNanoseconds - t0))

            // Raw MuJoCo on the same states: same reset states (replayed from the same generator), same controls.
            let sim = env.simulation
            var starts: [[Double]] = []
            _ = try env.reset(seed: 0)
            starts.append(Array(sim.qpos) + Array(sim.qvel))
            for _ in resetAt { _ = try env.reset(seed: nil); starts.append(Array(sim.qpos) + Array(sim.qvel)) }
            let nq = env.model.nq
            let t1 = DispatchTime.now().uptimeNanoseconds
            var next = 0, episode = 0
            func restart() throws {
                sim.reset()
                _ = sim.qpos.update(fromContentsOf: starts[episode][..<nq])
                _ = sim.qvel.update(fromContentsOf: starts[episode][nq...])
                try sim.forward()
                episode += 1
            }
            try restart()
            for t in 0..<steps {
                let ctrl = sim.ctrl
                for j in 0..<nu { ctrl[j] = actions[t * nu + j] }
                try sim.step(count: skip)
                if next < resetAt.count && resetAt[next] == t { next += 1; try restart() }
            }
            bestRaw = min(bestRaw, Double(DispatchTime.now().uptimeNanoseconds - t1))
        }
        let envPerSecond = Double(steps) / (bestEnv / 1e9)
        let mjPerSecond = Double(steps * skip) / (bestRaw / 1e9)
        return Result(envPerSecond: envPerSecond, mjPerSecond: mjPerSecond, frameSkip: skip,
                      overhead: bestEnv / bestRaw - 1)
    }

    /// Env steps/s of a classic-control task through the allocation-free API (best of `repeats`).
    func measure(_ id: ClassicControlID) throws -> Double {
        let env = makeClassicControlEnvironment(id, seed: 0)
        let n = env.actions.choices!
        var g = Generator(seed: 1)
        let actions = (0..<steps).map { _ in Double(g.nextInt(below: n)) }
        var obs = [Double](repeating: 0, count: env.observationSpace.dimension)
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try obs.withUnsafeMutableBufferPointer { o in
                try actions.withUnsafeBufferPointer { a in
                    _ = try env.reset(seed: 0, observation: o)
                    for t in 0..<steps {
                        let r = try env.step(action: UnsafeBufferPointer(rebasing: a[t..<t + 1]), observation: o)
                        if r.terminated || r.truncated { _ = try env.reset(seed: nil, observation: o) }
                    }
                }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0))
        }
        return Double(steps) / (best / 1e9)
    }
}
