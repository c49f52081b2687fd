import Agents
import Environments
import Foundation
import NeuralNet
import SparrowCore

/// How a run ended.
public struct TrainSummary: Equatable, Sendable {
    public enum Outcome: String, Sendable { case finished, interrupted }
    public var outcome: Outcome
    public var step: Int
    public var finalScore: Double?
    public var evaluations: [Evaluation]
}

public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The off-policy training loop, shared by every agent: random start steps, one update per environment step,
/// periodic evaluation, metrics, checkpoints and exact resume.
///
/// Run directory: `config.json` (resolved config), `metrics.csv` (one row per log interval), `evaluations.csv`,
/// `checkpoint.sparrow` (latest, atomic), `summary.json` (when finished).
public final class Trainer {
    public let config: TrainConfig
    public let runDirectory: String
    let env: LocomotionEnv
    let evalEnv: LocomotionEnv
    public let agent: any OffPolicyAgent
    let buffer: ReplayBuffer
    let batch: ReplayBatch

    public private(set) var step = 0
    /// Draws the random start actions and the replay-batch indices (the agent has its own for policy noise).
    var loopGenerator: Generator
    var observation: [Double]
    var episodeReturn = 0.0
    var episodes = 0
    var intervalReturns: [Double] = []
    public private(set) var evaluations: [Evaluation] = []
    var elapsedBefore = 0.0
    var lastUpdate = UpdateMetrics()
    let metricsLog: CSVLog
    let evaluationLog: CSVLog
    /// Held from `init` until the run finishes or a stop signal ends it: one training process per run directory.
    private var lock: RunLock?
    /// Per-phase timing of the loop and the agent's updates (`bench train --profile`); nil: off.
    public var profiler: StepProfiler? {
        didSet { agent.profiler = profiler }
    }

    var checkpointPath: String { (runDirectory as NSString).appendingPathComponent(CheckpointFile.fileName) }

    /// Prepares a run. With `resume`, continues from the run directory's checkpoint if there is one (its config
    /// must equal `config`); without, refuses to touch a directory that already holds a checkpoint.
    public init(config: TrainConfig, runDirectory: String, resume: Bool) throws {
        try config.validate()
        BLASThreads.set(1)  // one thread: deterministic and the papers' single-core setting
        self.config = config
        self.runDirectory = runDirectory
        let id: EnvironmentID
        do { id = try EnvironmentID(name: config.env) } catch { throw ConfigError("\(error)") }
        env = try LocomotionEnv(id, options: id.defaultOptions, seed: config.seed)
        evalEnv = try LocomotionEnv(id, options: id.defaultOptions, seed: config.seed &+ 100)
        agent = try makeAgent(config: config.agent, observationSize: env.observationSpace.dimension,
                              actionLow: env.actionSpace.low, actionHigh: env.actionSpace.high,
                              totalUpdates: config.totalUpdates, seed: config.seed)
        buffer = ReplayBuffer(capacity: min(config.agent.bufferSize, config.steps),
                              observationSize: env.observationSpace.dimension, actionSize: env.actionSpace.dimension)
        batch = ReplayBatch(size: config.agent.batchSize, observationSize: buffer.observationSize, actionSize: buffer.actionSize)
        loopGenerator = Generator(seed: config.seed).derived(0xAC7)
        observation = try env.reset(seed: config.seed).observation
        metricsLog = CSVLog(path: (runDirectory as NSString).appendingPathComponent("metrics.csv"), header: MetricsRow.header)
        evaluationLog = CSVLog(path: (runDirectory as NSString).appendingPathComponent("evaluations.csv"), header: Evaluation.header)

        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        lock = try RunLock(directory: runDirectory)
        let hasCheckpoint = FileManager.default.fileExists(atPath: checkpointPath)
        if hasCheckpoint && !resume {
            throw TrainingError("\(runDirectory) already holds a run (checkpoint.sparrow); use --resume to continue it or another --run-dir")
        }
        if hasCheckpoint {
            try restore()
        } else {
            try AtomicFile.write(try config.json(machine: .current),
                                 to: (runDirectory as NSString).appendingPathComponent("config.json"))
        }
        try metricsLog.start(keepingRowsUpTo: hasCheckpoint ? step : nil)
        try evaluationLog.start(keepingRowsUpTo: hasCheckpoint ? step : nil)
    }

    // MARK: the loop

    /// Trains until `config.steps`, a stop signal, or (tests) `stopAfter` steps; writes a checkpoint when it stops.
    @discardableResult
    public func run(progress: ProgressReporter? = nil, stopAfter: Int? = nil, finalCheckpoint: Bool = true) throws -> TrainSummary {
        let reporter = progress ?? ProgressReporter(total: config.steps, label: config.env, mode: .silent)
        let started = Date()
        var intervalStart = Date(), intervalStep = step
        var rate = 0.0
        let nu = env.actionSpace.dimension
        var action = [Float](repeating: 0, count: nu)
        var actionD = [Double](repeating: 0, count: nu)
        var next = [Double](repeating: 0, count: env.observationSpace.dimension)
        let low = env.actionSpace.low, high = env.actionSpace.high

        while step < config.steps {
            if StopSignal.requested || (stopAfter.map { step >= $0 } ?? false) {
                if finalCheckpoint { try checkpoint(elapsed: Date().timeIntervalSince(started)) }
                reporter.message("\(StopSignal.requested ? StopSignal.signalName : "stop") at step \(step): checkpoint written to \(checkpointPath)")
                if StopSignal.requested { lock = nil }  // the run is over for this process
                return TrainSummary(outcome: .interrupted, step: step, finalScore: Evaluation.finalScore(evaluations),
                                    evaluations: evaluations)
            }
            step += 1
            // Act.
            profiler?.enter(.acting)
            if step <= config.startSteps {
                for j in 0..<nu { action[j] = Float(loopGenerator.uniform(low[j], high[j])) }
            } else {
                observation.withUnsafeBufferPointer { o in
                    action.withUnsafeMutableBufferPointer { agent.act(o, deterministic: false, into: $0) }
                }
            }
            for j in 0..<nu { actionD[j] = Double(action[j]) }
            profiler?.enter(.envStep)
            let outcome = try actionD.withUnsafeBufferPointer { a in
                try next.withUnsafeMutableBufferPointer { try env.step(action: a, observation: $0) }
            }
            profiler?.enter(.replay)
            observation.withUnsafeBufferPointer { o in
                action.withUnsafeBufferPointer { a in
                    next.withUnsafeBufferPointer { n in
                        buffer.add(observation: o, action: a, reward: outcome.reward, nextObservation: n,
                                   terminated: outcome.terminated)
                    }
                }
            }
            episodeReturn += outcome.reward
            if outcome.terminated || outcome.truncated {
                intervalReturns.append(episodeReturn)
                episodes += 1
                episodeReturn = 0
                profiler?.enter(.envStep)
                _ = try observation.withUnsafeMutableBufferPointer { try env.reset(seed: nil, observation: $0) }  // no allocation
            } else {
                swap(&observation, &next)
            }

            // Learn.
            if step > config.startSteps {
                profiler?.enter(.replay)
                buffer.sample(into: batch, generator: &loopGenerator)
                do { lastUpdate = try agent.update(batch) } catch let e as NonFiniteLossError {
                    throw TrainingError("step \(step): \(e.description)")
                }
            }

            profiler?.enter(.evaluation)
            if step % config.evalEvery == 0 { try evaluate() }
            profiler?.enter(.rest)
            if step % config.logEvery == 0 || step == config.steps {
                let now = Date()
                rate = Double(step - intervalStep) / max(now.timeIntervalSince(intervalStart), 1e-9)
                intervalStart = now; intervalStep = step
                logMetrics(wallTime: elapsedBefore + now.timeIntervalSince(started), rate: rate)
            }
            reporter.update(step: step, stepsPerSecond: rate, evalReturn: evaluations.last?.meanReturn)
            if step % config.checkpointEvery == 0 && step < config.steps {
                try checkpoint(elapsed: Date().timeIntervalSince(started))
            }
        }
        if finalCheckpoint { try checkpoint(elapsed: Date().timeIntervalSince(started)) }
        reporter.update(step: step, stepsPerSecond: rate, evalReturn: evaluations.last?.meanReturn, force: true)
        reporter.finish()
        let summary = TrainSummary(outcome: .finished, step: step, finalScore: Evaluation.finalScore(evaluations),
                                   evaluations: evaluations)
        try writeSummary(summary)
        lock = nil  // finished: the directory is free
        return summary
    }

    /// Deterministic-policy evaluation on the evaluation env, reseeded (seed + 100) at every evaluation as Sokar's
    /// code does, so every evaluation starts from the same states.
    func evaluate() throws {
        let returns = try Self.evaluate(agent: agent, env: evalEnv, episodes: config.evalEpisodes, seed: config.seed &+ 100)
        let mean = returns.reduce(0, +) / Double(returns.count)
        let std = (returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count)).squareRoot()
        let e = Evaluation(step: step, meanReturn: mean, stdReturn: std, episodes: returns.count)
        evaluations.append(e)
        evaluationLog.append(e.csv)
    }

    /// Returns of `episodes` deterministic episodes; the first reset uses `seed`.
    public static func evaluate(agent: any OffPolicyAgent, env: LocomotionEnv, episodes: Int, seed: UInt64) throws -> [Double] {
        var returns: [Double] = []
        var action = [Float](repeating: 0, count: env.actionSpace.dimension)
        for k in 0..<episodes {
            var obs = try env.reset(seed: k == 0 ? seed : nil).observation
            var total = 0.0
            while true {
                obs.withUnsafeBufferPointer { o in action.withUnsafeMutableBufferPointer { agent.act(o, deterministic: true, into: $0) } }
                let r = try env.step(action.map(Double.init))
                total += r.reward
                obs = r.observation
                if r.terminated || r.truncated { break }
            }
            returns.append(total)
        }
        return returns
    }

    func logMetrics(wallTime: Double, rate: Double) {
        var row = MetricsRow()
        row.step = step
        row.wallTime = wallTime
        row.stepsPerSecond = rate
        row.episodeReturn = intervalReturns.isEmpty ? nil : intervalReturns.reduce(0, +) / Double(intervalReturns.count)
        intervalReturns.removeAll(keepingCapacity: true)
        row.evalReturn = evaluations.last?.meanReturn
        if step > config.startSteps {
            row.criticLoss = lastUpdate.criticLoss
            row.actorLoss = lastUpdate.actorLoss
            row.alpha = lastUpdate.alpha
            row.meanQ = lastUpdate.meanQ
        }
        row.liveParameters = agent.liveParameters
        row.actorSparsity = weightSparsity([agent.policyNetwork])
        row.criticSparsity = weightSparsity(agent.valueNetworks)
        row.trainingFLOPs = agent.trainingFLOPs
        metricsLog.append(row.csv)
    }

    // MARK: checkpoints

    func checkpoint(elapsed: Double) throws {
        var agentBytes = ByteWriter()
        try agent.encode(into: &agentBytes)
        var w = ByteWriter()
        w.write(bytes: agentBytes.bytes)
        w.write(step); w.write(episodes); w.write(episodeReturn); w.write(intervalReturns)
        w.write(evaluations.count)
        for e in evaluations { w.write(e.step); w.write(e.meanReturn); w.write(e.stdReturn); w.write(e.episodes) }
        w.write(loopGenerator.stateWords)
        w.write(observation)
        w.write(elapsedBefore + elapsed)
        env.encodeState(into: &w)
        buffer.encode(into: &w)
        try CheckpointFile.write(config: config, payload: w.bytes, to: checkpointPath)
    }

    func restore() throws {
        var (saved, r) = try CheckpointFile.read(checkpointPath)
        if saved.env != config.env {
            throw CheckpointError("checkpoint \(checkpointPath) is for env \(saved.env), not \(config.env)")
        }
        if saved.agent.algorithm != config.agent.algorithm {
            throw CheckpointError("checkpoint \(checkpointPath) is for algorithm \(saved.agent.algorithm.rawValue), not \(config.agent.algorithm.rawValue)")
        }
        if saved != config {
            let a = (try? saved.json()) ?? "", b = (try? config.json()) ?? ""
            let diff = zip(a.split(separator: "\n"), b.split(separator: "\n")).first { $0 != $1 }
            throw CheckpointError("checkpoint \(checkpointPath) was made with other settings (\(diff.map { "\($0.0.trimmingCharacters(in: .whitespaces)) vs \($0.1.trimmingCharacters(in: .whitespaces))" } ?? "")); resume with the run's own config")
        }
        do {
            var agentReader = ByteReader(try r.readBytes())
            try agent.decode(from: &agentReader)
            guard agentReader.isAtEnd else { throw FormatError.corrupt("agent state has trailing bytes") }
            step = try r.read(Int.self)
            episodes = try r.read(Int.self)
            episodeReturn = try r.read(Double.self)
            intervalReturns = try r.read([Double].self)
            let n = try r.read(Int.self)
            guard n >= 0 && n <= r.remaining else { throw FormatError.corrupt("evaluation count") }
            evaluations = try (0..<n).map { _ in
                Evaluation(step: try r.read(Int.self), meanReturn: try r.read(Double.self), stdReturn: try r.read(Double.self),
                           episodes: try r.read(Int.self))
            }
            let words = try r.read([UInt64].self)
            guard words.count == 4 else { throw FormatError.corrupt("generator state") }
            loopGenerator = Generator(stateWords: words)
            observation = try r.read([Double].self)
            elapsedBefore = try r.read(Double.self)
            try env.decodeState(from: &r)
            try buffer.decode(from: &r)
            guard r.isAtEnd else { throw FormatError.corrupt("\(r.remaining) unexpected trailing bytes") }
        } catch let e as FormatError {
            throw CheckpointError("checkpoint \(checkpointPath): \(e)")
        }
    }

    /// The trained agent of a checkpoint (its config, and the agent ready to act), without the replay buffer.
    public static func loadAgent(checkpoint path: String) throws -> (config: TrainConfig, agent: any OffPolicyAgent) {
        var (config, r) = try CheckpointFile.read(path)
        let id = try EnvironmentID(name: config.env)
        let env = try LocomotionEnv(id, options: id.defaultOptions)
        let agent = try makeAgent(config: config.agent, observationSize: env.observationSpace.dimension,
                                  actionLow: env.actionSpace.low, actionHigh: env.actionSpace.high,
                                  totalUpdates: config.totalUpdates, seed: config.seed)
        do {
            var a = ByteReader(try r.readBytes())
            try agent.decode(from: &a)
        } catch let e as FormatError {
            throw CheckpointError("checkpoint \(path): \(e)")
        }
        return (config, agent)
    }

    func writeSummary(_ s: TrainSummary) throws {
        var o: [String: Any] = ["env": config.env, "preset": config.preset, "steps": s.step, "seed": config.seed,
                                "evaluations": s.evaluations.count, "live_params": agent.liveParameters,
                                "training_flops": agent.trainingFLOPs, "episodes": episodes]
        if let f = s.finalScore { o["final_score"] = f }
        if let last = s.evaluations.last { o["last_eval_return"] = last.meanReturn }
        let data = try JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(Array(data) + [10], to: (runDirectory as NSString).appendingPathComponent("summary.json"))
    }
}
