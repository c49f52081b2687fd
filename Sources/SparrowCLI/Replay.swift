import ArgumentParser
import Environments
import Foundation
import Training
import Viewer

/// `sparrow replay`: watch a trained policy (or random / zero actions) in a window, or record it offscreen.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch a trained policy in a window, or record it to a video or PNG frames.",
        discussion: """
            POLICY is a run directory, a checkpoint file, or an exported policy file (.policy, see --export-policy); \
            e.g. `sparrow replay assets/hopper-tows-sac-0.9.policy`. A robot's name that is not a path (hopper, \
            walker2d, halfcheetah or half-cheetah, ant, humanoid, or Gymnasium's Ant-v5 …) opens its pretrained \
            policy, assets/ROBOT-tows-sac-0.9.policy: `sparrow replay humanoid`; an Atari game's (breakout, \
            ALE/Breakout-v5) opens assets/GAME-rigl-dqn-0.9.policy. assets/ is the folder beside \
            Package.swift in the nearest folder above this binary (so `make build`, `swift run` and any scratch path \
            inside the checkout find the checkout's zoo), else ./assets; $SPARROW_ZOO names another folder. Without \
            POLICY give --env NAME with --random or --zero. The window runs in real time (simulated time × --speed \
            follows the wall clock). The classic-control tasks (CartPole-v1, Acrobot-v1, MountainCar-v0; a DQN run's \
            checkpoint, or --random: uniform action indices, --zero: action 0) are drawn by a display-only MuJoCo model \
            set from the task's state each step, and open in their fixed side camera. An Atari game (ALE/Breakout-v5 …, \
            --random or --zero) shows the emulator's 210×160 colour screen scaled to fit, with lives and frame number \
            in the overlay.
            Keys: space pause/resume, → one step while paused, R new episode, + / − speed, C next camera (tracking, \
            free, the model's cameras), S PNG screenshot, H overlay, Esc or Q quit. Mouse: left drag rotates, right drag \
            pans, scroll zooms (shift: horizontal plane), as in MuJoCo's simulate.
            --record PATH renders offscreen without a window (surfaceless EGL, or a hidden window): .gif by Sparrow's own \
            encoder (exact colours for Atari screens; robots go through ffmpeg's palette when it is installed), .mp4 \
            through ffmpeg (without it PATH becomes a folder of numbered PNG frames), any other PATH a folder of PNGs.
            """)

    @Argument(help: "Run directory, checkpoint file, .policy file, or a robot's or Atari game's name (its pretrained policy in assets/).")
    var policy: String?

    @Option(help: "Environment, a robot or a classic-control task (required with --random or --zero; with a policy it must match the policy's).")
    var env: String?

    @Flag(help: "Uniformly random actions instead of a policy.")
    var random = false

    @Flag(help: "All-zero actions instead of a policy.")
    var zero = false

    @Option(help: "Stop after this many episodes (default: until the window is closed).")
    var episodes: Int?

    @Option(help: "Simulation speed relative to real time.")
    var speed: Double = 1

    @Option(help: "Seed of the first episode's reset noise.")
    var seed: UInt64 = 0

    @Option(help: "Record offscreen to PATH (.mp4, .gif, or a folder of PNG frames) instead of opening a window.")
    var record: String?

    @Option(help: "Frames to record.")
    var frames: Int = 300

    @Option(help: "Frames per second of the recording (simulated time per frame = speed / fps; default: one frame per environment step, at most 30).")
    var fps: Double?

    @Option(help: "Image width (recording) or window width.")
    var width: Int?

    @Option(help: "Image height (recording) or window height.")
    var height: Int?

    @Flag(help: "Draw shadows (slow on software OpenGL).")
    var shadows = false

    @Flag(help: "Draw floor reflections (slow on software OpenGL).")
    var reflections = false

    @Flag(help: "4× multisample anti-aliasing (slow on software OpenGL).")
    var antialias = false

    @Flag(name: .customLong("overlay"), inversion: .prefixedNo,
          help: "Text overlay (env, policy, episode, step, return, reward terms; default: on in the window, off when recording).")
    var overlay: Bool?

    @Option(name: .customLong("max-frames"), help: "Close the window after this many frames (scripted runs, tests).")
    var maxFrames: Int?

    @Option(help: "Save the window's last frame as a PNG here when it closes.")
    var screenshot: String?

    @Option(name: .customLong("export-policy"),
            help: "Instead of replaying: write the checkpoint's evaluation policy (an actor, or a DQN's Q network) as a small policy file to this path and exit.")
    var exportPolicy: String?

    func validate() throws {
        if random && zero { throw ValidationError("give at most one of --random and --zero") }
        if policy == nil && !(random || zero) {
            throw ValidationError("give a run directory, checkpoint or policy file, or --env NAME with --random or --zero")
        }
        if policy != nil && (random || zero) { throw ValidationError("--random and --zero replace the policy; give one or the other") }
        if (random || zero) && env == nil { throw ValidationError("--random and --zero need --env NAME") }
        if let e = episodes, e <= 0 { throw ValidationError("--episodes must be positive, got \(e)") }
        guard speed > 0 && speed.isFinite else { throw ValidationError("--speed must be positive, got \(speed)") }
        guard frames > 0 else { throw ValidationError("--frames must be positive, got \(frames)") }
        if let fps, !(fps > 0 && fps.isFinite) { throw ValidationError("--fps must be positive, got \(fps)") }
        for (name, v) in [("--width", width), ("--height", height)] {
            if let v, v < 16 || v > 4096 { throw ValidationError("\(name) must be between 16 and 4096, got \(v)") }
        }
        if let m = maxFrames, m <= 0 { throw ValidationError("--max-frames must be positive, got \(m)") }
        if exportPolicy != nil && policy == nil { throw ValidationError("--export-policy needs a run directory or checkpoint") }
    }

    func run() throws {
        do {
            if let out = exportPolicy { try RunDirectory.checkOutput(out, flag: "--export-policy") }
            if let record { try RunDirectory.checkOutput(record, flag: "--record", folderAllowed: true) }
            if let screenshot { try RunDirectory.checkOutput(screenshot, flag: "--screenshot") }
        } catch { throw CLIError(error) }
        do {
            if let out = exportPolicy { return try export(to: out) }
            let (source, envName) = try loadSource()
            let session: ReplaySession
            do { session = try makeReplaySession(envName: envName, source: source, seed: seed) } catch { throw CLIError(error) }
            let effects = RenderEffects(shadows: shadows, reflections: reflections, antialiasing: antialias)
            if let record {
                let options = RecordOptions(path: record, frames: frames, width: width ?? 640, height: height ?? 480,
                                            fps: fps ?? min(30, 1 / session.env.dt),
                                            speed: speed, effects: effects, overlay: overlay ?? false)
                let result = try Recorder.record(session, options: options)
                if let note = result.note { print(note) }
                let target: String
                switch result.output { case .video(let p): target = p; case .pngFolder(let p): target = p + "/" }
                let returns = result.episodesFinished.map { String(format: "%.1f", $0) }.joined(separator: ", ")
                print(String(format: "recorded %d frames of %@ (%@) to %@ (%.0f ms/frame)%@", result.frames, session.env.name,
                             source.label, target, 1000 * result.secondsPerFrame,
                             returns.isEmpty ? "" : "; finished episodes: \(returns)"))
            } else {
                var options = WindowOptions()
                options.width = width ?? 1200
                options.height = height ?? 900
                options.speed = speed
                options.episodes = episodes
                options.effects = effects
                options.overlay = overlay ?? true
                options.maxFrames = maxFrames
                options.screenshotPath = screenshot
                let viewer = try WindowViewer(session: session, options: options)
                let result = try viewer.run()
                print(String(format: "%d frames (%.1f fps), %d steps, %d episodes finished", result.frames, result.averageFPS,
                             result.stepsSimulated, result.episodesFinished.count))
            }
        } catch let e as CLIError { throw e } catch let e as ValidationError { throw e } catch {
            throw CLIError(error)
        }
    }

    /// The action source and the environment to run it in.
    func loadSource() throws -> (ActionSource, String) {
        if random || zero { return (random ? .random : .zero, env!) }
        let file = try PolicySource.locate(policy!)
        let source: ActionSource
        if PolicyFile.isPolicyFile(file) {
            source = .exported(try PolicyFile.read(file))
        } else {
            let (config, agent) = try TrainingCheckpoint.loadAgent(checkpoint: file)
            if config.noiseFeatures > 0 {
                throw CLIError("\(file) was trained with noise-features \(config.noiseFeatures); replay shows robots without noise features: evaluate it with sparrow eval")
            }
            source = .agent(agent, description: PolicyDescription(config: config, agent: agent))
        }
        let trained = source.env!
        try checkPolicyEnvironment(file, trainedOn: trained, requested: env)
        return (source, trained)
    }

    func export(to out: String) throws {
        let file = CheckpointFile.locate(policy!)
        guard FileManager.default.fileExists(atPath: file) else { throw CLIError("no checkpoint at \(file)") }
        let (config, agent) = try TrainingCheckpoint.loadAgent(checkpoint: file)
        if config.noiseFeatures > 0 {
            throw CLIError("--export-policy writes policies for the plain robots; this run has noise-features \(config.noiseFeatures): `sparrow export` it as ONNX or C")
        }
        let environment = try config.makeEnvironment()
        try PolicyFile.write(agent: agent, config: config, actions: environment.actions, to: out)
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        let what = config.agent.algorithm.actsDiscretely ? "the Q network of \(config.env) \(config.preset), greedy policy"
            : "the actor of \(config.env) \(config.preset), deterministic policy"
        print("wrote \(out) (\(size / 1024) kB): \(what)")
    }
}
