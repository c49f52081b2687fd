import Agents
import ArgumentParser
import Foundation
import NeuralNet
import Training

/// `sparrow bench train`: training steps/s of a preset after its random start steps — one update per env step,
/// 2×256 networks, batch 256 (or `--batch-size`), no evaluation or checkpoints in the timed part.
///
/// The timed part is split into `--windows` equal windows whose rates are reported (`window_steps_per_s`), so a
/// slowdown during the run shows (it did: subnormal floats, issue 10); the default 6000 steps cover six topology
/// updates of the presets that evolve one (every 1000 updates). `--profile` adds where a step's time goes.
///
/// PPO presets (on-policy) learn once per rollout: their warm-up is one rollout with its learning phase (untimed)
/// and the timed part is four rollouts of `rollout-steps` each with their learning phases (one window each), so a
/// step's time is collection plus its share of the 320 minibatch updates of an iteration. They run at the preset's
/// own 64-64 networks and minibatch 64.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training steps/s (env step + one gradient update) of a preset.")

    @Option(help: "Environment (default Hopper-v5; CartPole-v1 for discrete-action presets).") var env: String?
    @Option(help: "Preset (\(Presets.names.joined(separator: ", "))).") var preset: String = "tows-sac"
    @Option(help: "Sparsity (default: the preset's).") var sparsity: Double?
    @Option(help: "Timed training steps (default 6000; PPO: 4 rollouts).") var steps: Int?
    @Option(name: .customLong("start-steps"),
            help: "Random steps that fill the replay buffer first, not timed (default 5000; PPO: one rollout with the policy).")
    var startSteps: Int?
    @Option(name: .customLong("batch-size"),
            help: "Batch size (default: 256 for SAC/TD3 presets, the preset's own for DQN; --preset-batch: the preset's).")
    var batchSize: Int?
    @Flag(name: .customLong("preset-batch"), help: "Use the preset's batch size instead of --batch-size.")
    var presetBatch = false
    @Option(help: "Hidden widths, comma-separated (default: 256,256 for SAC/TD3 presets, the preset's own for DQN).")
    var hidden: String?
    @Option(help: "Equal windows the timed steps are split into, each timed on its own (default 6; PPO: one per rollout).")
    var windows: Int?
    @Flag(help: "Also time each phase of a step (env, acting, replay storing and sampling, critic, actor, targets, topology, rest).")
    var profile = false
    @Option(name: .customLong("dense-path"), help: "rule|timed|off: when a truly sparse layer runs as sgemm (default: the preset's, rule).")
    var densePath: DensePath.Mode?
    @Option(help: "Layer backend sparse|masked|dense (default: the preset's).") var backend: LayerBackend?
    @OptionGroup var threading: ThreadsOption
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Flag(help: "Print a JSON object as the last line.") var json = false

    /// The preset's algorithm learns on-policy (PPO).
    var onPolicy: Bool { Presets.algorithm(ofPreset: preset)?.isOnPolicy ?? false }
    /// PPO presets' rollout length (the bench's unit of work for them).
    var rolloutSteps: Int { (try? Presets.config(named: preset, env: env ?? "Hopper-v5"))?.agent.rolloutSteps ?? 2048 }
    var timedSteps: Int { steps ?? (onPolicy ? 4 * rolloutSteps : 6000) }
    var warmupSteps: Int { startSteps ?? (onPolicy ? rolloutSteps : 5000) }
    var windowCount: Int { windows ?? (onPolicy ? max(timedSteps / rolloutSteps, 1) : 6) }

    func validate() throws {
        let steps = timedSteps, startSteps = warmupSteps, windows = windowCount
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard startSteps > 0 else { throw ValidationError("--start-steps must be positive, got \(startSteps)") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if let hidden, parsedHidden(hidden) == nil {
            throw ValidationError("--hidden must be positive widths separated by commas, e.g. 256,256; got \(hidden)")
        }
        guard windows >= 1 && windows <= steps else {
            throw ValidationError("--windows must be in 1…\(steps) (the timed steps), got \(windows)")
        }
    }

    func parsedHidden(_ text: String) -> [Int]? {
        let widths = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return widths.map { $0! }
    }

    func run() throws {
        let steps = timedSteps, startSteps = warmupSteps, windows = windowCount
        let total = startSteps + steps
        var flags: [String: Any] = ["steps": total, "start-steps": onPolicy ? 0 : startSteps, "eval-every": total + 1,
                                    "checkpoint-every": total + 1, "checkpoint-minutes": 0, "log-every": total + 1, "seed": seed]
        if let sparsity { flags["sparsity"] = sparsity }
        if let densePath { flags["dense-path"] = densePath.rawValue }
        if let backend { flags["backend"] = backend.rawValue }
        // SAC and TD3 are timed at the papers' common 256-256 and batch 256 unless told otherwise; DQN at its
        // preset's (512-512, batch 128), and PPO at its (64-64, minibatch 64): the point there is the paper's own network.
        let discrete = Presets.algorithm(ofPreset: preset)?.actsDiscretely ?? false
        let ownNetworks = discrete || onPolicy
        let environment = env ?? (discrete ? "CartPole-v1" : "Hopper-v5")
        flags["hidden"] = hidden.flatMap(parsedHidden) ?? (ownNetworks ? nil : [256, 256])
        if !presetBatch { flags["batch-size"] = batchSize ?? (ownNetworks ? nil : 256) }
        let config: TrainConfig
        do { config = try TrainConfig.resolve(preset: preset, env: environment, file: nil, flags: flags) } catch {
            throw CLIError(error)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-bench-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        threading.apply()
        let trainer: any TrainingLoop
        do { trainer = try makeTrainer(config: config, runDirectory: dir, resume: false) } catch { throw CLIError(error) }
        _ = try trainer.run(progress: nil, stopAfter: startSteps, finalCheckpoint: false)  // fill the buffer, untimed
        // Phases are always timed (a few clock reads per step) so the JSON has the update share; --profile prints them.
        let profiler = StepProfiler()
        trainer.profiler = profiler
        var windowRates: [Double] = []
        var seconds = 0.0
        for w in 1...windows {
            let end = startSteps + steps * w / windows, begin = trainer.step
            let t0 = Date()
            _ = try trainer.run(progress: nil, stopAfter: end, finalCheckpoint: false)
            let dt = Date().timeIntervalSince(t0)
            seconds += dt
            windowRates.append(Double(end - begin) / dt)
        }
        if trainer.step < total { _ = try trainer.run(progress: nil, stopAfter: nil, finalCheckpoint: false) }  // the last step (not timed)
        let rate = Double(steps) / seconds
        let agent = config.agent
        let period = agent.method.declaration.topologyPeriod(agent)
        // Topology updates count gradient steps: one per env step off-policy; PPO's per rollout.
        let timedUpdates = onPolicy ? steps / agent.rolloutSteps * agent.updatesPerIteration : steps
        let topologyUpdates = period.map { timedUpdates / $0 } ?? 0
        // The weight sparsity the networks really have (actor and critics): DS presets set theirs through ER-ε,
        // not through the sparsity knob, and output layers may stay dense.
        let networkSparsity = weightSparsity(trainer.trainedAgent.trainedNetworks.map(\.network))
        let core = BLASCore.current
        let widths = agent.hidden.map(String.init).joined(separator: "-")
        // How each trained network's layers ran (`NeuralNetBenchmark.path`), e.g. "sparse,sparse-as-dense,dense".
        let layerPaths = trainer.trainedAgent.trainedNetworks.map { $0.network.layers.map(NeuralNetBenchmark.path).joined(separator: ",") }
        print(String(format: "%@ %@ (sparsity %.2f, network sparsity %.3f, batch %d, %@, BLAS core %@, %d thread(s)): %.1f training steps/s over %d steps",
                     config.env, config.preset, agent.sparsity, networkSparsity, agent.batchSize, widths, core.inUse, Parallel.threads,
                     rate, steps))
        // The share of a step spent updating networks (gradient steps, target updates, topology changes).
        let updatePhases: [StepProfiler.Phase] = [.criticUpdate, .actorUpdate, .targetUpdate, .topologyUpdate]
        let updateSeconds = updatePhases.reduce(0.0) { $0 + profiler.seconds[$1.rawValue] }
        let updateShare = updateSeconds / max(profiler.seconds.reduce(0, +), 1e-12)
        print(String(format: "network updates: %.0f%% of a step", updateShare * 100))
        print("layer paths (dense-path \(config.densePath.rawValue)): " + layerPaths.joined(separator: " | "))
        print("windows of \(steps / windows) steps: " + windowRates.map { String(format: "%.1f", $0) }.joined(separator: ", ")
              + " steps/s" + (period != nil ? " (\(topologyUpdates) topology updates in the timed part)" : ""))
        var profileObject = JSONObject()
        if profile {
            print("per step (ms):", terminator: "")
            for phase in StepProfiler.Phase.allCases {
                let ms = profiler.seconds[phase.rawValue] / Double(steps) * 1000
                profileObject.add(phase.key, ms)
                print(String(format: " %@ %.3f", phase.key, ms), terminator: "")
            }
            print()
        }
        if json {
            var o = JSONObject()
            o.add("env", config.env); o.add("preset", config.preset); o.add("sparsity", agent.sparsity)
            o.add("steps", steps); o.add("seconds", seconds); o.add("steps_per_s", rate)
            o.add("live_params", trainer.trainedAgent.liveParameters); o.add("network_sparsity", networkSparsity)
            o.add("ms_per_step", 1000 / rate)
            o.add("batch_size", agent.batchSize); o.add("start_steps", startSteps)
            o.add("window_steps_per_s", windowRates)
            o.add("first_window_steps_per_s", windowRates[0]); o.add("last_window_steps_per_s", windowRates[windows - 1])
            o.add("topology_updates", topologyUpdates); o.add("threads", Parallel.threads)
            BLASReport.add(to: &o)
            o.add("hidden", agent.hidden)
            o.add("dense_path", config.densePath.rawValue); o.add("layer_paths", layerPaths)
            o.add("update_share", (updateShare * 10_000).rounded() / 10_000)
            if profile { o.add("profile_ms_per_step", profileObject) }
            print(o.text)
        }
    }
}

extension DensePath.Mode: ExpressibleByArgument {}
extension LayerBackend: ExpressibleByArgument {}
