import Agents
import ArgumentParser
import Environments
import Experiments
import Foundation
import NeuralNet
import Training

/// `sparrow eval`: evaluate a trained agent.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a run's, checkpoint's or policy file's deterministic policy.",
        discussion: """
            Prints mean and standard deviation of the return; the last line is JSON. A policy file (.policy, from \
            `sparrow replay RUN --export-policy`) is evaluated by the same code as a checkpoint, so the two print the \
            same numbers for the same seed (a DQN file takes its run's eval-epsilon, Dopamine's 0.001 on Atari, \
            from draws of its own: the same numbers in distribution). A robot's name (hopper, walker2d, halfcheetah, \
            ant, humanoid, or e.g. Ant-v5) or an Atari game's (breakout, ALE/Breakout-v5) that is not a path \
            evaluates its pretrained policy in assets/ (see `sparrow replay --help`).
            """)

    @Argument(help: "Run directory, checkpoint file, .policy file, or a robot's or Atari game's name (its pretrained policy in assets/).")
    var path: String
    @Option(help: "Episodes.") var episodes: Int = 10
    @Option(help: "Seed of the evaluation environment.") var seed: UInt64 = 12345
    @Option(help: "The environment the policy must be for (a check; the policy's own environment is used).")
    var env: String?
    @OptionGroup var threading: ThreadsOption
    @Option(name: .customLong("eval-epsilon"),
            help: "ε of a DQN's evaluation policy instead of its run's eval-epsilon: 0 greedy, Dopamine's 0.001, the Nature DQN's 0.05 (DQN runs and policy files only).")
    var evalEpsilon: Double?

    @Option(help: ArgumentHelp("Also write every step of the evaluation as a JSON line: episode, t, observation, action.",
                               valueName: "file.jsonl"))
    var record: String?

    @Option(name: .customLong("obs-noise"),
            help: ArgumentHelp("Evaluate under Gaussian observation noise at each level, e.g. 0,0.1,0.2,0.5,1.0 (a table; a run directory also gets noise_robustness.json).",
                               valueName: "σ,…"))
    var obsNoise: String?

    @Option(name: .customLong("noise-scale"),
            help: "σ in observation units (absolute) or times each feature's standard deviation over the run's replay data (std).")
    var noiseScale: String = ObservationNoise.Scale.absolute.rawValue

    /// `--obs-noise`'s levels (checked in `validate`).
    var noiseLevels: [Double]? {
        obsNoise.map { $0.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
    }

    func validate() throws {
        guard episodes > 0 else { throw ValidationError("--episodes must be positive, got \(episodes)") }
        if let e = evalEpsilon, !(0...1).contains(e) { throw ValidationError("--eval-epsilon must be in [0, 1], got \(e)") }
        if let obsNoise {
            let parts = obsNoise.split(separator: ",", omittingEmptySubsequences: false)
            guard !parts.isEmpty, parts.allSatisfy({ Double($0.trimmingCharacters(in: .whitespaces)).map { $0 >= 0 && $0.isFinite } ?? false }) else {
                throw ValidationError("--obs-noise takes comma-separated noise levels ≥ 0 (e.g. 0,0.1,0.5), got '\(obsNoise)'")
            }
            if record != nil { throw ValidationError("--record writes one clean evaluation; drop --obs-noise or --record") }
        }
        guard ObservationNoise.Scale(rawValue: noiseScale) != nil else {
            throw ValidationError("--noise-scale must be one of \(ObservationNoise.Scale.allCases.map(\.rawValue).joined(separator: ", ")), got \(noiseScale)")
        }
    }

    func run() throws {
        do { if let record { try RunDirectory.checkOutput(record, flag: "--record") } } catch { throw CLIError(error) }
        let source = try PolicySource(path, env: env, seed: seed, evalEpsilon: evalEpsilon)
        threading.apply()
        let config = source.config
        if let levels = noiseLevels { return try evaluateUnderNoise(source, levels: levels) }
        do {
            let recorder = try record.map { try StepRecorder(path: $0) }
            let returns = try Evaluator(env: source.environment, episodes: episodes, seed: seed)
                .returns(of: source.agent, observe: recorder.map { r in { r.write(episode: $0, t: $1, observation: $2, action: $3) } })
            recorder?.close()
            let e = Evaluation(step: source.agent.updates, returns: returns)
            print(String(format: "%@ %@: %d episodes, return %.2f ± %.2f", config.env, config.preset, episodes, e.meanReturn, e.stdReturn))
            var o = JSONObject()
            o.add("env", config.env); o.add("preset", config.preset); o.add("episodes", episodes)
            o.add("mean_return", e.meanReturn); o.add("std_return", e.stdReturn); o.add("returns", returns)
            print(o.text)
        } catch let e as CLIError { throw e } catch { throw CLIError(error) }
    }

    /// `--obs-noise`: every level from the same start states; a table, a JSON line and, for a run, its file.
    func evaluateUnderNoise(_ source: PolicySource, levels: [Double]) throws {
        let scale = ObservationNoise.Scale(rawValue: noiseScale)!
        let n = source.environment.observationSpace.dimension
        let unit: [Double]
        switch scale {
        case .absolute: unit = [Double](repeating: 1, count: n)
        case .std:
            guard CheckpointFile.isCheckpointFile(source.file) else {
                throw CLIError("--noise-scale std measures each feature over the run's replay data; \(source.file) is a policy file without any: give the run or its checkpoint, or use --noise-scale absolute")
            }
            do { unit = try TrainingCheckpoint.observationStandardDeviations(checkpoint: source.file) } catch { throw CLIError(error) }
        }
        let noises = levels.enumerated().map { i, level in
            ObservationNoise(level: level, sigma: unit.map { $0 * level }, seed: seed &+ UInt64(i))
        }
        // Policies read float32 observations: a σ near float's range (3.4e38) turns them into ±inf and the actions into
        // NaN. 1e30 is far beyond any perturbation worth measuring and far below the overflow.
        if let bad = noises.first(where: { $0.sigma.contains { $0 > 1e30 } }) {
            throw CLIError("--obs-noise \(bad.level): σ up to \(bad.sigma.max()!) overflows the policy's float32 observations; levels must give σ ≤ 1e30")
        }
        let returns: [[Double]]
        do { returns = try Evaluator(env: source.environment, episodes: episodes, seed: seed).returns(of: source.agent, underEach: noises) }
        catch { throw CLIError(error) }
        let intervals = returns.enumerated().map { i, r in
            Statistics.stratifiedBootstrap([r], reps: 10_000, seed: UInt64(i), aggregate: Statistics.mean)
        }
        let c = source.config
        let result = NoiseRobustness(env: c.env, preset: c.preset, scale: scale.rawValue, episodes: episodes, seed: seed,
                                     sigmas: levels, meanReturn: intervals.map(\.estimate), ciLow: intervals.map(\.lower),
                                     ciHigh: intervals.map(\.upper), returns: returns)
        print("\(c.env) \(c.preset): \(episodes) episodes per noise level, σ \(scale == .std ? "× feature std" : "absolute")")
        print("σ        mean return   95% CI")
        for (i, level) in levels.enumerated() {
            print(String(format: "%-8g %11.2f   [%.2f, %.2f]", level, intervals[i].estimate, intervals[i].lower, intervals[i].upper))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
        // A run directory (the path itself, or its checkpoint's folder) keeps the result for `sparrow report --noise`.
        let folder = (source.file as NSString).deletingLastPathComponent
        let run = RunDirectory(folder.isEmpty ? "." : folder)
        if CheckpointFile.isCheckpointFile(source.file), FileManager.default.fileExists(atPath: run.config) {
            do { try result.write(to: run.noiseRobustness) } catch { throw CLIError(error) }
            print("wrote \(run.noiseRobustness)")
        }
    }
}

/// `sparrow eval --record FILE`: one JSON line per evaluation step, written as the evaluation goes (buffered).
final class StepRecorder {
    private var out: FileHandleOutput

    init(path: String) throws {
        do { out = try FileHandleOutput(path: path) } catch { throw CLIError("--record: cannot write \(path)") }
    }

    func write(episode: Int, t: Int, observation: [Double], action: [Float]) {
        var line = JSONObject()
        line.add("episode", episode); line.add("t", t)
        line.add("observation", observation); line.add("action", action.map(Double.init))
        out.write(line.text)
    }

    func close() { out.close() }
}
