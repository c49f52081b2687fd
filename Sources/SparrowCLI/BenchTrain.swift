import Agents
import ArgumentParser
import Foundation
import Training

/// `sparrow bench train`: training steps/s of a preset after its random start steps — one update per env step,
/// 2×256 networks, batch 256, no evaluation or checkpoints in the timed part.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training steps/s (env step + one gradient update) of a preset.")

    @Option(help: "Environment.") var env: String = "Hopper-v5"
    @Option(help: "Preset (\(Presets.names.joined(separator: ", "))).") var preset: String = "tows-sac"
    @Option(help: "Sparsity (default: the preset's).") var sparsity: Double?
    @Option(help: "Timed training steps.") var steps: Int = 3000
    @Option(name: .customLong("start-steps"), help: "Random steps that fill the replay buffer first (not timed).")
    var startSteps: Int = 5000
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Flag(help: "Print a JSON object as the last line.") var json = false

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard startSteps > 0 else { throw ValidationError("--start-steps must be positive, got \(startSteps)") }
    }

    func run() throws {
        let total = startSteps + steps
        var flags: [String: Any] = ["steps": total, "start-steps": startSteps, "eval-every": total + 1,
                                    "checkpoint-every": total + 1, "log-every": total + 1, "hidden": [256, 256],
                                    "batch-size": 256, "seed": seed]
        if let sparsity { flags["sparsity"] = sparsity }
        let config: TrainConfig
        do { config = try TrainConfig.resolve(preset: preset, env: env, file: nil, flags: flags) } catch {
            throw CLIError("\(error)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-bench-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try Trainer(config: config, runDirectory: dir, resume: false)
        _ = try trainer.run(stopAfter: startSteps, finalCheckpoint: false)  // fill the buffer, untimed
        let t0 = Date()
        _ = try trainer.run(finalCheckpoint: false)
        let seconds = Date().timeIntervalSince(t0)
        let rate = Double(steps) / seconds
        // The weight sparsity the networks really have (actor and critics): DS presets set theirs through ER-ε,
        // not through the sparsity knob, and output layers may stay dense.
        let nets = trainer.agent.namedNetworks.map(\.network)  // actor, critic1, critic2, then the targets
        let networkSparsity = ActorCriticAgent.sparsity(of: nets[0], nets[1], nets[2])
        print(String(format: "%@ %@ (sparsity %.2f, network sparsity %.3f, batch 256, 2×256): %.1f training steps/s over %d steps",
                     config.env, config.preset, config.agent.sparsity, networkSparsity, rate, steps))
        if json {
            var o = JSONObject()
            o.add("env", config.env); o.add("preset", config.preset); o.add("sparsity", config.agent.sparsity)
            o.add("steps", steps); o.add("seconds", seconds); o.add("steps_per_s", rate)
            o.add("live_params", trainer.agent.liveParameters); o.add("network_sparsity", networkSparsity)
            o.add("ms_per_step", 1000 / rate)
            print(o.text)
        }
    }
}
