import Agents
import ArgumentParser
import Environments
import Foundation
import NeuralNet
import Training

/// `sparrow train`: the main job.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a (sparse) SAC, TD3, DQN or PPO agent.",
        discussion: """
            Settings resolve as: preset (the paper's hyperparameters) ← --config file ← flags. The run directory \
            receives config.json, metrics.csv, evaluations.csv, checkpoint.sparrow and, when done, summary.json. \
            SIGINT/SIGTERM write a checkpoint and exit; --resume continues exactly where the run stopped.
            """ + "\n\n" + KnobArguments.help)

    @OptionGroup var options: TrainOptions

    @Option(name: .customLong("run-dir"), help: "Run directory (default runs/ENV_PRESET_sSPARSITY_seedN).")
    var runDir: String?

    @Flag(help: "Continue the run in --run-dir from its checkpoint (starts fresh if it has none).")
    var resume = false

    @OptionGroup var threading: ThreadsOption

    @Flag(name: .customLong("progress"), inversion: .prefixedNo,
          help: "Progress bar (default on a terminal; plain periodic lines otherwise).")
    var progressBar: Bool?

    func run() throws {
        let config = try options.resolve()
        let dir = runDir ?? "runs/\(config.env)_\(config.preset)_s\(config.agent.sparsity)_seed\(config.seed)"
        StopSignal.install()
        threading.apply()
        let trainer: any TrainingLoop
        do { trainer = try makeTrainer(config: config, runDirectory: dir, resume: resume) } catch { throw CLIError("\(error)") }
        let mode: ProgressReporter.Mode? = progressBar.map { $0 ? .bar : .lines }
        let reporter = ProgressReporter(total: config.steps, label: "\(config.env) \(config.preset)", mode: mode)
        if trainer.step > 0 { reporter.message("resuming \(dir) at step \(trainer.step)") } else {
            reporter.message("training \(config.preset) on \(config.env) for \(config.steps) steps → \(dir)")
        }
        if let p = config.agent.paramsLike {
            let nets = trainer.trainedAgent.trainedNetworks.map { n in
                "\(n.name) \(n.network.spec.widths.map(String.init).joined(separator: "-")) (\(n.network.cost.parameters) parameters)"
            }
            reporter.message("params-like \(p): " + nets.joined(separator: ", "))
        }
        let summary: TrainSummary
        do { summary = try trainer.run(progress: reporter) } catch { throw CLIError("\(error)") }
        switch summary.outcome {
        case .finished:
            let score = summary.finalScore.map { String(format: "%.2f", $0) } ?? "n/a"
            reporter.message("done: \(summary.step) steps, final score (mean of the last 10% of evaluations) \(score); \(dir)")
        case .interrupted:
            reporter.message("stopped at step \(summary.step); resume with: sparrow train --run-dir \(dir) --resume")
        }
    }
}

/// `sparrow eval`: evaluate a trained agent.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a run's, checkpoint's or policy file's deterministic policy.",
        discussion: """
            Prints mean and standard deviation of the return; the last line is JSON. A policy file (.policy, from \
            `sparrow replay RUN --export-policy`) is evaluated by the same code as a checkpoint, so the two print the \
            same numbers for the same seed. A robot's name (hopper, walker2d, halfcheetah, ant, humanoid, or e.g. \
            Ant-v5) that is not a path evaluates its pretrained policy in assets/ (see `sparrow replay --help`).
            """)

    @Argument(help: "Run directory, checkpoint file, .policy file, or a robot name (its pretrained policy in assets/).")
    var path: String
    @Option(help: "Episodes.") var episodes: Int = 10
    @Option(help: "Seed of the evaluation environment.") var seed: UInt64 = 12345
    @Option(help: "The environment the policy must be for (a check; the policy's own environment is used).")
    var env: String?
    @OptionGroup var threading: ThreadsOption

    func validate() throws {
        guard episodes > 0 else { throw ValidationError("--episodes must be positive, got \(episodes)") }
    }

    @Option(help: ArgumentHelp("Also write every step of the evaluation as a JSON line: episode, t, observation, action.",
                               valueName: "file.jsonl"))
    var record: String?

    func run() throws {
        let source = try PolicySource(path, env: env)
        threading.apply()
        let config = source.config
        do {
            let recorder = try record.map { try StepRecorder(path: $0) }
            let returns = try Evaluator(env: source.environment, episodes: episodes, seed: seed)
                .returns(of: source.agent, observe: recorder.map { r in { r.write(episode: $0, t: $1, observation: $2, action: $3) } })
            try recorder?.close()
            let e = Evaluation(step: source.agent.updates, returns: returns)
            print(String(format: "%@ %@: %d episodes, return %.2f ± %.2f", config.env, config.preset, episodes, e.meanReturn, e.stdReturn))
            var o = JSONObject()
            o.add("env", config.env); o.add("preset", config.preset); o.add("episodes", episodes)
            o.add("mean_return", e.meanReturn); o.add("std_return", e.stdReturn); o.add("returns", returns)
            print(o.text)
        } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }
}

/// `sparrow eval --record FILE`: one JSON line per evaluation step, written as the evaluation goes (buffered).
final class StepRecorder {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw CLIError("--record: cannot write \(path)")
        }
        handle = h
    }

    func write(episode: Int, t: Int, observation: [Double], action: [Float]) {
        var line = JSONObject()
        line.add("episode", episode); line.add("t", t)
        line.add("observation", observation); line.add("action", action.map(Double.init))
        buffer.append(contentsOf: line.text.utf8)
        buffer.append(10)
        if buffer.count > 1 << 16 { flush() }
    }

    private func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        flush()
        try handle.close()
    }
}

/// `--threads N` (train, eval, bench train): threads one training step may use. The twin critics run side by side
/// and large layer products split by rows (NeuralNet's `Parallel`); results are bit-identical for every N, so a
/// run may resume with another thread count. Not a run setting: recorded in config.json's `machine` record.
struct ThreadsOption: ParsableArguments {
    @Option(help: "Threads a training step may use (results are identical for every N).")
    var threads: Int = 1

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1…64, got \(threads)") }
    }

    func apply() { Parallel.setThreads(threads) }
}

/// With `--env` (eval, replay): the file's policy must be for that environment, by any spelling of its name.
func checkPolicyEnvironment(_ file: String, trainedOn trained: String, requested: String?) throws {
    guard let requested else { return }
    let a = try? TaskID(name: requested), b = try? TaskID(name: trained)
    guard a != nil, a == b else { throw CLIError("\(file) holds a policy for \(trained), not \(requested)") }
}
