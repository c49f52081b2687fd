import ArgumentParser
import Environments
import Foundation
import SparrowCore

/// `sparrow rollout ENV --actions FILE`: replays an action sequence and prints one JSON object per step,
/// so whole trajectories can be compared with Gymnasium's (it keeps stepping after termination).
struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply a recorded action sequence and print each step as a JSON line.",
        discussion: """
            Resets the environment (seeded), then, if --init-state is given, starts from that state: for a \
            MuJoCo robot {"qpos": [...], "qvel": [...]} (derived quantities are recomputed), for a \
            classic-control task {"state": [...]} (Gymnasium's env.unwrapped.state). Prints one JSON object \
            per step with t, obs, reward, terminated, truncated, then for a robot reward_terms, x_position, \
            qpos, qvel, and for a classic-control task state. Stepping continues after termination.

            Atari games (ALE/<Game>-v5, Gymnasium + ale-py with AtariPreprocessing and a 4-frame stack; needs \
            the ALE library that `make deps` builds): the actions are indices into the game's action set; \
            each line has t, reward, terminated, truncated, lives, frame_number, episode_frame_number and \
            obs_b64 (base64 of the newest 84×84 frame's bytes, row-major) instead of obs. The reset prints a \
            line with "reset": true first; with --reset-at-end an episode's end is followed by a reset (no \
            seed, as Gymnasium's env.reset()) and another such line.
            """)

    @Argument(help: "Environment name, e.g. Hopper-v5, hopper, CartPole-v1 or mountain_car.")
    var env: String

    @Option(help: "JSON file with the actions: an array of arrays of numbers (robots) or of integers (classic control).")
    var actions: String?

    @Option(name: .customLong("random-steps"),
            help: "Instead of --actions: this many uniformly random actions in bounds (seeded by --seed).")
    var randomSteps: Int?

    @Option(name: .customLong("init-state"),
            help: "JSON file to start from: {\"qpos\": [...], \"qvel\": [...]} (robots) or {\"state\": [...]} (classic control).")
    var initState: String?

    @Option(help: "Seed of the reset noise.")
    var seed: UInt64 = 0

    @Option(help: "A different MJCF file for the same robot (MuJoCo robots only).")
    var xml: String?

    @OptionGroup(title: "Atari (ALE/<Game>-v5 only)")
    var atari: AtariArguments

    @Flag(name: .customLong("reset-at-end"),
          help: "Atari: reset (unseeded, continuing the stream) after a step that terminates or truncates.")
    var resetAtEnd = false

    struct InitialState: Decodable { let qpos: [Double]; let qvel: [Double] }
    struct ClassicInitialState: Decodable { let state: [Double] }

    func validate() throws {
        guard (actions == nil) != (randomSteps == nil) else {
            throw ValidationError("give exactly one of --actions FILE or --random-steps N")
        }
        if let n = randomSteps, n <= 0 { throw ValidationError("--random-steps must be positive, got \(n)") }
    }

    func run() throws {
        let task: TaskID
        do { task = try TaskID(name: env) } catch { throw CLIError(error) }
        switch task {
        case .locomotion(let id): try runRobot(id)
        case .classicControl(let id): try runClassicControl(id)
        case .atari(let game): try runAtari(game)
        }
    }

    /// An Atari game: integer actions, lives and frame numbers, the newest frame as base64.
    private func runAtari(_ game: AtariGame) throws {
        if xml != nil { throw CLIError("--xml: \(EnvironmentError.notARobot(game.name))") }
        if initState != nil { throw CLIError("--init-state is not supported for Atari games") }
        let environment: AtariEnv
        do { environment = try AtariEnv(game, options: try atari.options(), seed: seed) } catch { throw CLIError(error) }
        let n = environment.actionSet.count
        let actionList: [Int]
        if let actions {
            let values: [Double] = try readJSON(actions, what: "actions file (an array of integers)")
            // Every action is checked before the first step, so a bad file steps nothing.
            if let bad = values.firstIndex(where: { !($0 >= 0 && $0 < Double(n) && $0.rounded(.towardZero) == $0) }) {
                throw CLIError("action \(bad): \(EnvironmentError.invalidDiscreteAction(value: values[bad], choices: n))")
            }
            actionList = values.map { Int($0) }
        } else {
            var g = Generator(seed: seed).derived(1)
            actionList = (0..<randomSteps!).map { _ in g.nextInt(below: n) }
        }
        var out = FileHandleOutput()
        defer { out.flush() }
        func resetLine() -> JSONObject {
            var line = JSONObject()
            line.add("reset", true)
            atariFields(&line, environment)
            return line
        }
        do { try environment.resetFrames(seed: seed) } catch { throw CLIError(error) }
        out.write(resetLine().text)
        for (t, action) in actionList.enumerated() {
            let r: StepOutcome
            do { r = try environment.stepFrames(action: action) } catch { throw CLIError("action \(t): \(error)") }
            var line = JSONObject()
            line.add("t", t)
            line.add("action", action)
            line.add("reward", r.reward)
            line.add("terminated", r.terminated)
            line.add("truncated", r.truncated)
            atariFields(&line, environment)
            out.write(line.text)
            if resetAtEnd && (r.terminated || r.truncated) {
                do { try environment.resetFrames(seed: nil) } catch { throw CLIError(error) }
                out.write(resetLine().text)
            }
        }
    }

    private func atariFields(_ line: inout JSONObject, _ env: AtariEnv) {
        line.add("lives", env.info.lives)
        line.add("frame_number", env.info.frameNumber)
        line.add("episode_frame_number", env.info.episodeFrameNumber)
        line.add("obs_b64", Data(env.newestFrame).base64EncodedString())
    }

    private func runRobot(_ id: EnvironmentID) throws {
        var options = id.defaultOptions
        options.xmlFile = xml
        let start: InitialState? = try initState.map { try readJSON($0, what: "init-state file ({\"qpos\": [...], \"qvel\": [...]})") }

        let environment: LocomotionEnv
        do { environment = try LocomotionEnv(id, options: options) } catch { throw CLIError(error) }
        _ = try environment.reset(seed: seed)
        if let start {
            do { _ = try environment.reset(qpos: start.qpos, qvel: start.qvel) } catch {
                throw CLIError("init-state \(initState!): \(error)")
            }
        }
        let actionList: [[Double]]
        if let actions {
            actionList = try readJSON(actions, what: "actions file (an array of arrays of numbers)")
        } else {
            var g = Generator(seed: seed).derived(1)
            actionList = (0..<randomSteps!).map { _ in environment.actionSpace.sample(using: &g) }
        }
        var out = FileHandleOutput()
        defer { out.flush() }
        for (t, action) in actionList.enumerated() {
            let r: StepResult
            do { r = try environment.step(action) } catch { throw CLIError("action \(t): \(error)") }
            var line = stepLine(t, r)
            var terms = JSONObject()
            for (k, v) in r.info.rewardTerms.named { terms.add(k, v) }
            line.add("reward_terms", terms)
            line.add("x_position", r.info.xPosition)
            line.add("qpos", environment.simulation.qpos)
            line.add("qvel", environment.simulation.qvel)
            if r.info.diverged { line.add("diverged", true) }
            out.write(line.text)
        }
    }

    /// CartPole, Acrobot, MountainCar: discrete actions given as integers, the state as Gymnasium's.
    private func runClassicControl(_ id: ClassicControlID) throws {
        if xml != nil { throw CLIError("--xml: \(EnvironmentError.notARobot(id.name))") }
        let start: ClassicInitialState? = try initState.map { try readJSON($0, what: "init-state file ({\"state\": [...]})") }
        let environment = makeClassicControlEnvironment(id, seed: seed)
        _ = try environment.reset(seed: seed)
        if let start {
            do { try environment.reset(state: start.state) } catch { throw CLIError("init-state \(initState!): \(error)") }
        }
        let actionList: [Double]
        if let actions {
            actionList = try readJSON(actions, what: "actions file (an array of integers)")
        } else {
            var g = Generator(seed: seed).derived(1)
            let n = environment.actions.choices!
            actionList = (0..<randomSteps!).map { _ in Double(g.nextInt(below: n)) }
        }
        var out = FileHandleOutput()
        defer { out.flush() }
        for (t, action) in actionList.enumerated() {
            let r: StepResult
            do { r = try environment.step([action]) } catch { throw CLIError("action \(t): \(error)") }
            var line = stepLine(t, r)
            line.add("state", environment.state)
            out.write(line.text)
        }
    }

    /// The keys every task prints: t, obs, reward, terminated, truncated.
    private func stepLine(_ t: Int, _ r: StepResult) -> JSONObject {
        var line = JSONObject()
        line.add("t", t)
        line.add("obs", r.observation)
        line.add("reward", r.reward)
        line.add("terminated", r.terminated)
        line.add("truncated", r.truncated)
        return line
    }
}

/// Reads and decodes a JSON file, turning every failure into a one-line error naming the file.
func readJSON<T: Decodable>(_ path: String, what: String) throws -> T {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw CLIError("cannot read \(path): no such file or not readable")
    }
    do { return try JSONDecoder().decode(T.self, from: data) } catch {
        throw CLIError("\(path) is not a valid \(what)")
    }
}

/// Buffered line output to stdout or a file (print() flushes per line on pipes and is slow for long rollouts).
struct FileHandleOutput {
    private var buffer: [UInt8] = []
    private let file: UnsafeMutablePointer<FILE>

    /// Standard output.
    init() { file = stdout }

    /// A new (or emptied) file at `path`; `close()` it when done.
    init(path: String) throws {
        guard let f = fopen(path, "w") else { throw CLIError("cannot write \(path)") }
        file = f
    }

    mutating func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(10)
        if buffer.count > 1 << 16 { flush() }
    }
    mutating func flush() {
        buffer.withUnsafeBufferPointer { p in _ = fwrite(p.baseAddress, 1, p.count, file) }
        fflush(file)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and closes a file opened with `init(path:)`.
    mutating func close() {
        flush()
        if file != stdout { fclose(file) }
    }
}
