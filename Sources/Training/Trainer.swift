import Agents
import Environments
import Foundation
import NeuralNet
import SparrowCore

public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The off-policy training loop, shared by every off-policy agent (SAC, TD3; DQN next): random start steps, one
/// update per environment step on a replay batch, periodic evaluation, metrics rows, checkpoints and exact resume.
///
/// Seams — each of the other jobs lives in its own file:
/// - evaluation: `Evaluator` (Evaluator.swift), also used by `sparrow eval`;
/// - the run directory's files and `summary.json`: `RunDirectory` (RunDirectory.swift);
/// - the checkpoint byte layout, restore and agent loading: `TrainingCheckpoint` and `LoopState` (Checkpoint.swift);
/// - the environment: any `TrainingEnvironment`; this loop needs continuous actions (`ActionSpace.box`) because
///   its agents do — a discrete-action agent (DQN) changes only how `act` and the replay buffer hold an action;
/// - an on-policy driver (PPO) is a sibling of this class: it keeps `Evaluator`, `RunDirectory`, the metrics and
///   checkpoint files, and replaces `run`'s body by "collect a rollout of N steps, then epochs of minibatches".
public final class Trainer {
    public let config: TrainConfig
    let directory: RunDirectory
    public var runDirectory: String { directory.path }
    let env: any TrainingEnvironment
    let evaluator: Evaluator
    public let agent: any OffPolicyAgent
    let buffer: ReplayBuffer
    let batch: ReplayBatch
    /// Step, episode bookkeeping, evaluations, the loop's generator and the current observation (checkpointed).
    var loop: LoopState
    public var step: Int { loop.step }
    public var evaluations: [Evaluation] { loop.evaluations }
    var lastUpdate = UpdateMetrics()
    let metricsLog: CSVLog
    let evaluationLog: CSVLog
    /// Held from `init` until the run finishes or a stop signal ends it: one training process per run directory.
    private var lock: RunLock?
    /// Per-phase timing of the loop and the agent's updates (`bench train --profile`); nil: off.
    public var profiler: StepProfiler? {
        didSet { agent.profiler = profiler }
    }

    /// Prepares a run. With `resume`, continues from the run directory's checkpoint if there is one (its config
    /// must equal `config`); without, refuses to touch a directory that already holds a checkpoint.
    public init(config: TrainConfig, runDirectory: String, resume: Bool) throws {
        try config.validate()
        BLASThreads.set(1)  // one thread: deterministic and the papers' single-core setting
        self.config = config
        directory = RunDirectory(runDirectory)
        do {
            env = try makeTrainingEnvironment(config.env, seed: config.seed)
            evaluator = Evaluator(env: try makeTrainingEnvironment(config.env, seed: config.seed &+ 100),
                                  episodes: config.evalEpisodes, seed: config.seed &+ 100)
        } catch let e as EnvironmentError { throw ConfigError("\(e)") }
        agent = try TrainingCheckpoint.makeOffPolicyAgent(config: config, env: env)
        let actionSize = env.actions.componentCount
        buffer = ReplayBuffer(capacity: min(config.agent.bufferSize, config.steps),
                              observationSize: env.observationSpace.dimension, actionSize: actionSize)
        batch = ReplayBatch(size: config.agent.batchSize, observationSize: buffer.observationSize, actionSize: buffer.actionSize)
        loop = LoopState(generator: Generator(seed: config.seed).derived(0xAC7),
                         observation: try env.reset(seed: config.seed).observation)
        metricsLog = CSVLog(path: directory.metrics, header: MetricsRow.header)
        evaluationLog = CSVLog(path: directory.evaluations, header: Evaluation.header)

        try directory.create()
        lock = try RunLock(directory: runDirectory)
        let hasCheckpoint = directory.hasCheckpoint
        if hasCheckpoint && !resume {
            throw TrainingError("\(runDirectory) already holds a run (checkpoint.sparrow); use --resume to continue it or another --run-dir")
        }
        if hasCheckpoint {
            loop = try TrainingCheckpoint.restore(from: directory.checkpoint, config: config, agent: agent, env: env, buffer: buffer)
        } else {
            try directory.writeConfig(config)
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
        let nu = env.actions.componentCount
        var action = [Float](repeating: 0, count: nu)
        var actionD = [Double](repeating: 0, count: nu)
        var next = [Double](repeating: 0, count: env.observationSpace.dimension)
        let actions = env.actions

        while step < config.steps {
            if StopSignal.requested || (stopAfter.map { step >= $0 } ?? false) {
                if finalCheckpoint { try checkpoint(elapsed: Date().timeIntervalSince(started)) }
                reporter.message("\(StopSignal.requested ? StopSignal.signalName : "stop") at step \(step): checkpoint written to \(directory.checkpoint)")
                if StopSignal.requested { lock = nil }  // the run is over for this process
                return TrainSummary(outcome: .interrupted, step: step, finalScore: Evaluation.finalScore(evaluations),
                                    evaluations: evaluations)
            }
            loop.step += 1
            // Act.
            profiler?.enter(.acting)
            if step <= config.startSteps {
                action.withUnsafeMutableBufferPointer { actions.sample(into: $0, using: &loop.generator) }
            } else {
                loop.observation.withUnsafeBufferPointer { o in
                    action.withUnsafeMutableBufferPointer { agent.act(o, deterministic: false, into: $0) }
                }
            }
            for j in 0..<nu { actionD[j] = Double(action[j]) }
            profiler?.enter(.envStep)
            let outcome = try actionD.withUnsafeBufferPointer { a in
                try next.withUnsafeMutableBufferPointer { try env.step(action: a, observation: $0) }
            }
            profiler?.enter(.replay)
            loop.observation.withUnsafeBufferPointer { o in
                action.withUnsafeBufferPointer { a in
                    next.withUnsafeBufferPointer { n in
                        buffer.add(observation: o, action: a, reward: outcome.reward, nextObservation: n,
                                   terminated: outcome.terminated)
                    }
                }
            }
            loop.episodeReturn += outcome.reward
            if outcome.terminated || outcome.truncated {
                loop.intervalReturns.append(loop.episodeReturn)
                loop.episodes += 1
                loop.episodeReturn = 0
                profiler?.enter(.envStep)
                _ = try loop.observation.withUnsafeMutableBufferPointer { try env.reset(seed: nil, observation: $0) }  // no allocation
            } else {
                swap(&loop.observation, &next)
            }

            // Learn.
            if step > config.startSteps {
                profiler?.enter(.replay)
                buffer.sample(into: batch, generator: &loop.generator)
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
                logMetrics(wallTime: loop.elapsedBefore + now.timeIntervalSince(started), rate: rate)
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
        try directory.writeSummary(summary, config: config, agent: agent, episodes: loop.episodes)
        lock = nil  // finished: the directory is free
        return summary
    }

    /// Deterministic-policy evaluation on the evaluation env, reseeded (seed + 100) at every evaluation as Sokar's
    /// code does, so every evaluation starts from the same states.
    func evaluate() throws {
        let e = try evaluator.evaluate(agent, atStep: step)
        loop.evaluations.append(e)
        evaluationLog.append(e.csv)
    }

    func logMetrics(wallTime: Double, rate: Double) {
        var row = MetricsRow()
        row.step = step
        row.wallTime = wallTime
        row.stepsPerSecond = rate
        row.episodeReturn = loop.intervalReturns.isEmpty ? nil : loop.intervalReturns.reduce(0, +) / Double(loop.intervalReturns.count)
        loop.intervalReturns.removeAll(keepingCapacity: true)
        row.evalReturn = evaluations.last?.meanReturn
        if step > config.startSteps {
            row.criticLoss = lastUpdate.criticLoss
            row.actorLoss = lastUpdate.actorLoss
            row.alpha = lastUpdate.alpha
            row.meanQ = lastUpdate.meanQ
        }
        row.liveParameters = agent.liveParameters
        row.actorSparsity = weightSparsity([agent.policyNetwork])
        row.criticSparsity = weightSparsity([agent.valueNetworks[0]])  // the first critic, as the column always held
        row.trainingFLOPs = agent.trainingFLOPs
        metricsLog.append(row.csv)
    }

    // MARK: checkpoints

    func checkpoint(elapsed: Double) throws {
        try TrainingCheckpoint.write(config: config, agent: agent, loop: loop, elapsed: elapsed, env: env, buffer: buffer,
                                     to: directory.checkpoint)
    }
}
