import Agents
import ArgumentParser
import Environments
import Experiments
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
            SIGINT/SIGTERM write a checkpoint and exit; --resume continues exactly where the run stopped. A run \
            directory another process is training in is refused with exit status 75.
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
        do { trainer = try makeTrainer(config: config, runDirectory: dir, resume: resume) }
        catch let e as RunInUseError {  // the usual one line, but its own exit status: a sweep counts it "running elsewhere"
            FileHandle.standardError.write(Data("Error: \(e)\n".utf8))
            throw ExitCode(RunInUseError.exitStatus)
        } catch { throw CLIError(error) }
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
        do { summary = try trainer.run(progress: reporter) } catch { throw CLIError(error) }
        switch summary.outcome {
        case .finished:
            let score = summary.finalScore.map { String(format: "%.2f", $0) } ?? "n/a"
            reporter.message("done: \(summary.step) steps, final score (mean of the last 10% of evaluations) \(score); \(dir)")
        case .interrupted:
            reporter.message("stopped at step \(summary.step); resume with: sparrow train --run-dir \(dir) --resume")
        }
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
