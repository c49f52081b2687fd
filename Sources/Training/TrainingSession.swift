import Agents
import Environments
import Foundation
import NeuralNet
import SparrowCore

public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A training loop as the CLI, sweeps and benchmarks drive it: the `OffPolicyTrainer` or the `OnPolicyTrainer`.
public protocol TrainingLoop: AnyObject {
    var config: TrainConfig { get }
    var runDirectory: String { get }
    var step: Int { get }
    var evaluations: [Evaluation] { get }
    /// The agent being trained.
    var trainedAgent: any Agent { get }
    /// Per-phase timing (`bench train`); nil: off.
    var profiler: StepProfiler? { get set }
    /// Trains until `config.steps`, a stop signal, or (tests) `stopAfter` steps; writes a checkpoint when it stops.
    func run(progress: ProgressReporter?, stopAfter: Int?, finalCheckpoint: Bool) throws -> TrainSummary
}

extension TrainingLoop {
    @discardableResult
    public func run(progress: ProgressReporter? = nil) throws -> TrainSummary {
        try run(progress: progress, stopAfter: nil, finalCheckpoint: true)
    }
}

/// The training loop for `config`'s algorithm: on-policy (PPO) or off-policy (SAC, TD3, DQN).
public func makeTrainer(config: TrainConfig, runDirectory: String, resume: Bool) throws -> any TrainingLoop {
    config.agent.algorithm.isOnPolicy
        ? try OnPolicyTrainer(config: config, runDirectory: runDirectory, resume: resume)
        : try OffPolicyTrainer(config: config, runDirectory: runDirectory, resume: resume)
}

/// What every training loop shares, whatever it learns from: the environments and the evaluator, the run
/// directory with its lock, logs and checkpoint, and the loop state (step, episodes, evaluations, generator, the
/// current observation). `OffPolicyTrainer` and `OnPolicyTrainer` own one each and add their agent, their memory (replay
/// buffer or rollout) and the body of the loop.
final class TrainingSession {
    let config: TrainConfig
    let directory: RunDirectory
    let env: any TrainingEnvironment
    let evaluator: Evaluator
    var loop: LoopState
    let logs: RunLogs
    /// Held from `open` until the run finishes or a stop signal ends it: one training process per run directory.
    var lock: RunLock?
    /// When this process started running the loop (for wall time and the checkpoint's elapsed time).
    var started = Date()
    private var intervalStart = Date(), intervalStep = 0
    /// When this process last wrote a checkpoint (or began the loop): `checkpointMinutes` counts from it.
    private var lastCheckpoint = Date()
    /// Steps per second over the last metrics interval.
    private(set) var rate = 0.0
    /// Whether `rate` was measured over steps that updated the network (cumulative training FLOPs above 0 at the
    /// interval's end): warm-up steps only act, far faster, and give no ETA.
    private var rateLearned = false
    /// The latest network-level measurements of the policy and the first value network, which metrics rows repeat
    /// (analysis.csv has every one). A resume reads them back from analysis.csv, so they need no checkpoint.
    private var latest = LatestAnalysis()

    /// Checks the config and makes the environments (training: seed; evaluation: seed + 100); touches no file.
    init(config: TrainConfig, runDirectory: String) throws {
        try config.validate()
        BLASThreads.set(1)  // one thread: deterministic and the papers' single-core setting
        self.config = config
        do {
            env = try config.makeEnvironment(seed: config.seed)
            evaluator = Evaluator(env: try config.makeEnvironment(seed: config.seed &+ 100),
                                  episodes: config.evalEpisodes, seed: config.seed &+ 100, minimumSteps: config.evalSteps)
        } catch let e as EnvironmentError { throw ConfigError("\(e)") }
        loop = LoopState(generator: Generator(seed: config.seed).derived(0xAC7),
                         observation: try env.reset(seed: config.seed).observation)
        directory = RunDirectory(runDirectory)
        logs = RunLogs(directory: runDirectory)
    }

    /// Creates the run directory and takes its lock; with `resume`, restores agent, memory and loop from its
    /// checkpoint if there is one (its config must equal `config`); without, refuses a directory that already holds
    /// a checkpoint.
    func open(agent: any Agent, memory: any TrainingMemory, resume: Bool) throws {
        try directory.create()
        lock = try RunLock(directory: directory.path)
        directory.removeDeadWritersTemporaries()
        let hasCheckpoint = directory.hasCheckpoint
        if hasCheckpoint && !resume {
            throw TrainingError("\(directory.path) already holds a run (checkpoint.sparrow); use --resume to continue it or another --run-dir")
        }
        // Before the checkpoint's networks are decoded: their layers choose their path as they are built.
        try RunDensePath.choose(config: config, directory: directory, agent: agent, resuming: hasCheckpoint)
        if hasCheckpoint {
            loop = try TrainingCheckpoint.restore(from: directory.checkpoint, config: config, agent: agent, env: env,
                                                  buffer: memory)
        } else {
            try directory.writeConfig(config)
        }
        try logs.start(keepingRowsUpTo: hasCheckpoint ? loop.step : nil)
        latest = LatestAnalysis(agent: agent)
        latest.update(logs.loggedMeasurements())
    }

    var step: Int { loop.step }

    /// Call when the loop starts running.
    func begin() {
        started = Date()
        intervalStart = started
        lastCheckpoint = started
        intervalStep = step
    }

    // MARK: one environment step's bookkeeping

    /// One environment step from `loop.observation` with `action`: `store` sees the observation, the next one
    /// (before any reset) and the outcome; then the episode's return is counted and, at its end, the env reset.
    /// Afterwards `loop.observation` is the observation the next action is for. Allocates nothing.
    func stepEnvironment(_ action: [Double], next: inout [Double], profiler: StepProfiler?,
                         store: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, StepOutcome) -> Void) throws {
        profiler?.enter(.envStep)
        let outcome = try action.withUnsafeBufferPointer { a in
            try next.withUnsafeMutableBufferPointer { try env.step(action: a, observation: $0) }
        }
        profiler?.enter(.replay)
        loop.observation.withUnsafeBufferPointer { o in next.withUnsafeBufferPointer { n in store(o, n, outcome) } }
        loop.episodeReturn += outcome.reward
        if outcome.terminated || outcome.truncated {
            loop.intervalReturns.append(loop.episodeReturn)
            loop.episodes += 1
            loop.episodeReturn = 0
            profiler?.enter(.envStep)
            _ = try loop.observation.withUnsafeMutableBufferPointer { try env.reset(seed: nil, observation: $0) }
        } else {
            swap(&loop.observation, &next)
        }
    }

    /// Deterministic-policy evaluation on the evaluation env, reseeded (seed + 100) at every evaluation as Sokar's
    /// code does, so every evaluation starts from the same states.
    func evaluate(_ agent: any Agent) throws {
        let e = try evaluator.evaluate(agent, atStep: step)
        loop.evaluations.append(e)
        try logs.append(e)
    }

    /// Evaluation, metrics row and periodic checkpoint, as due after the current step.
    func afterStep(agent: any Agent, memory: any TrainingMemory, lastUpdate: UpdateMetrics?,
                   reporter: ProgressReporter) throws {
        let measured = agent.analyses.take()
        if !measured.isEmpty {
            try logs.append(measured, step: step)
            latest.update(measured)
        }
        if step % config.evalEvery == 0 { try evaluate(agent) }
        if step % config.logEvery == 0 || step == config.steps {
            let now = Date()
            rate = Double(step - intervalStep) / max(now.timeIntervalSince(intervalStart), 1e-9)
            intervalStart = now; intervalStep = step; rateLearned = agent.trainingFLOPs > 0
            try logMetrics(agent: agent, lastUpdate: lastUpdate, wallTime: loop.elapsedBefore + now.timeIntervalSince(started))
        }
        reporter.update(step: step, stepsPerSecond: rate, evalReturn: loop.evaluations.last?.meanReturn,
                        learning: rateLearned)
        if (step % config.checkpointEvery == 0 || checkpointDueByTime) && step < config.steps {
            try checkpoint(agent: agent, memory: memory)
        }
    }

    private var checkpointDueByTime: Bool {
        config.checkpointMinutes > 0 && Date().timeIntervalSince(lastCheckpoint) >= config.checkpointMinutes * 60
    }

    func logMetrics(agent: any Agent, lastUpdate: UpdateMetrics?, wallTime: Double) throws {
        var row = MetricsRow()
        row.step = step
        row.wallTime = wallTime
        row.stepsPerSecond = rate
        row.episodeReturn = loop.intervalReturns.isEmpty ? nil : loop.intervalReturns.reduce(0, +) / Double(loop.intervalReturns.count)
        loop.intervalReturns.removeAll(keepingCapacity: true)
        row.evalReturn = loop.evaluations.last?.meanReturn
        if let u = lastUpdate {
            row.criticLoss = u.criticLoss
            row.actorLoss = u.actorLoss
            row.alpha = u.alpha
            row.meanQ = u.meanQ
            (row.tdLoss, row.valueLoss, row.approxKL, row.clipFraction) = (u.tdLoss, u.valueLoss, u.approxKL, u.clipFraction)
        }
        row.liveParameters = agent.liveParameters
        row.actorSparsity = weightSparsity([agent.policyNetwork])
        row.criticSparsity = weightSparsity([agent.valueNetworks[0]])  // the first value network, as the column always held
        row.trainingFLOPs = agent.trainingFLOPs
        (row.actorSNR, row.criticSNR, row.actorDormant, row.criticDormant) =
            (latest.actorSNR, latest.criticSNR, latest.actorDormant, latest.criticDormant)
        let (real, noise): (Int, Int) = (env as? NoiseFeaturesEnvironment).map { ($0.realFeatures, $0.noiseFeatures) }
            ?? (env.observationSpace.dimension, config.agentNoiseInputs(realFeatures: env.observationSpace.dimension))
        if noise > 0 {
            let c = NoiseFeatureConnections(agent: agent, realFeatures: real, noiseFeatures: noise)
            (row.actorInputReal, row.actorInputNoise, row.criticInputReal, row.criticInputNoise) =
                (c.actorReal, c.actorNoise, c.criticReal, c.criticNoise)
        }
        try logs.append(row)
    }

    func checkpoint(agent: any Agent, memory: any TrainingMemory) throws {
        try TrainingCheckpoint.write(config: config, agent: agent, loop: loop, elapsed: Date().timeIntervalSince(started),
                                     env: env, buffer: memory, to: directory.checkpoint)
        lastCheckpoint = Date()
    }

    // MARK: ending

    /// A stop signal or `stopAfter`: whether the loop must stop now.
    func stopRequested(stopAfter: Int?) -> Bool { StopSignal.requested || (stopAfter.map { step >= $0 } ?? false) }

    /// Ends an interrupted run: the checkpoint (unless a test asks for none) and the summary.
    func interrupt(agent: any Agent, memory: any TrainingMemory, finalCheckpoint: Bool, reporter: ProgressReporter) throws -> TrainSummary {
        if finalCheckpoint { try checkpoint(agent: agent, memory: memory) }
        reporter.message("\(StopSignal.requested ? StopSignal.signalName : "stop") at step \(step): checkpoint written to \(directory.checkpoint)")
        if StopSignal.requested { lock = nil }  // the run is over for this process
        return TrainSummary(outcome: .interrupted, step: step, finalScore: Evaluation.finalScore(loop.evaluations),
                            evaluations: loop.evaluations)
    }

    /// Ends a finished run: checkpoint, summary.json, the lock released.
    func finish(agent: any Agent, memory: any TrainingMemory, finalCheckpoint: Bool, reporter: ProgressReporter) throws -> TrainSummary {
        if finalCheckpoint { try checkpoint(agent: agent, memory: memory) }
        reporter.update(step: step, stepsPerSecond: rate, evalReturn: loop.evaluations.last?.meanReturn, force: true)
        reporter.finish()
        let summary = TrainSummary(outcome: .finished, step: step, finalScore: Evaluation.finalScore(loop.evaluations),
                                   evaluations: loop.evaluations)
        try directory.writeSummary(summary, config: config, agent: agent, episodes: loop.episodes)
        lock = nil  // finished: the directory is free
        return summary
    }
}

/// The latest whole-network gradient SNR and dormant fraction of an agent's policy network ("actor") and first
/// value network (critic1, q or value), as metrics.csv's actor_* and critic_* columns show them.
struct LatestAnalysis {
    var actorName: String?, criticName: String?
    var actorSNR: Double?, criticSNR: Double?, actorDormant: Double?, criticDormant: Double?

    init() {}

    init(agent: any Agent) {
        actorName = agent.networks.first { $0.role == .policy }?.name
        criticName = agent.networks.first { $0.role == .value }?.name
    }

    mutating func update(_ measurements: [NetworkMeasurement]) {
        for m in measurements where m.layer == nil {
            switch (m.quantity, m.network) {
            case (.gradientSNR, actorName): actorSNR = m.value
            case (.gradientSNR, criticName): criticSNR = m.value
            case (.dormantFraction, actorName): actorDormant = m.value
            case (.dormantFraction, criticName): criticDormant = m.value
            default: break
            }
        }
    }
}
