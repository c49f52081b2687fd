import Agents
import Environments
import Foundation
import NeuralNet
import SparrowCore

/// The off-policy training loop, shared by every off-policy agent (SAC, TD3, DQN): random start steps, one
/// update per environment step on a replay batch, periodic evaluation, metrics rows, checkpoints and exact resume.
///
/// Seams — each of the other jobs lives in its own file:
/// - what every loop shares (environments, evaluation, logs, checkpoints, the lock, the end of a run):
///   `TrainingSession` (TrainingSession.swift); the on-policy sibling is `OnPolicyTrainer`;
/// - evaluation: `Evaluator` (Evaluator.swift), also used by `sparrow eval`;
/// - the run directory's files and `summary.json`: `RunDirectory` (RunDirectory.swift); the logs: `RunLogs`;
/// - the checkpoint byte layout, restore and agent loading: `TrainingCheckpoint` (Checkpoint.swift), the loop's own
///   state `LoopState` (LoopState.swift), the agent and buffer a config names: `AgentFactory` (AgentFactory.swift);
/// - the environment: any `TrainingEnvironment`; a discrete-action agent (DQN) changes only how `act` and the
///   replay buffer hold an action (one Float index).
public final class OffPolicyTrainer: TrainingLoop {
    public var config: TrainConfig { session.config }
    let session: TrainingSession
    public var runDirectory: String { session.directory.path }
    var env: any TrainingEnvironment { session.env }
    public let agent: any OffPolicyAgent
    public var trainedAgent: any Agent { agent }
    let buffer: any TransitionMemory
    let batch: ReplayBatch
    public var step: Int { session.step }
    public var evaluations: [Evaluation] { session.loop.evaluations }
    var lastUpdate = UpdateMetrics()
    /// Per-phase timing of the loop and the agent's updates (`bench train --profile`); nil: off.
    public var profiler: StepProfiler? {
        didSet { agent.profiler = profiler }
    }

    /// Prepares a run. With `resume`, continues from the run directory's checkpoint if there is one (its config
    /// must equal `config`); without, refuses to touch a directory that already holds a checkpoint.
    public init(config: TrainConfig, runDirectory: String, resume: Bool) throws {
        session = try TrainingSession(config: config, runDirectory: runDirectory)
        let env = session.env
        agent = try AgentFactory.makeOffPolicyAgent(config: config, env: env)
        buffer = AgentFactory.makeTransitionMemory(config: config, env: env)
        batch = ReplayBatch(size: config.agent.batchSize, observationSize: buffer.observationSize, actionSize: buffer.actionSize)
        try session.open(agent: agent, memory: buffer, resume: resume)
    }

    // MARK: the loop

    /// Trains until `config.steps`, a stop signal, or (tests) `stopAfter` steps; writes a checkpoint when it stops.
    @discardableResult
    public func run(progress: ProgressReporter? = nil, stopAfter: Int? = nil, finalCheckpoint: Bool = true) throws -> TrainSummary {
        let reporter = progress ?? ProgressReporter(total: config.steps, label: config.env, mode: .silent)
        session.begin()
        let nu = env.actions.componentCount
        var action = [Float](repeating: 0, count: nu)
        var actionD = [Double](repeating: 0, count: nu)
        var next = [Double](repeating: 0, count: env.observationSpace.dimension)
        let actions = env.actions
        let updateEvery = config.agent.updateEvery, rewardClip = config.agent.rewardClip

        while step < config.steps {
            if session.stopRequested(stopAfter: stopAfter) {
                return try session.interrupt(agent: agent, memory: buffer, finalCheckpoint: finalCheckpoint, reporter: reporter)
            }
            session.loop.step += 1
            // Act.
            profiler?.enter(.acting)
            if step <= config.startSteps {
                action.withUnsafeMutableBufferPointer { actions.sample(into: $0, using: &session.loop.generator) }
            } else {
                session.loop.observation.withUnsafeBufferPointer { o in
                    action.withUnsafeMutableBufferPointer { agent.act(o, deterministic: false, into: $0) }
                }
            }
            for j in 0..<nu { actionD[j] = Double(action[j]) }
            try session.stepEnvironment(actionD, next: &next, profiler: profiler) { o, n, outcome in
                action.withUnsafeBufferPointer { a in
                    buffer.add(observation: o, action: a, reward: rewardClip.map { min(max(outcome.reward, -$0), $0) } ?? outcome.reward,
                               nextObservation: n, terminated: outcome.terminated, truncated: outcome.truncated)
                }
            }

            // Learn: every `update-every` steps after the start steps.
            if step > config.startSteps && step % updateEvery == 0 && buffer.canSample {
                profiler?.enter(.replaySample)
                buffer.sample(into: batch, generator: &session.loop.generator)
                do { lastUpdate = try agent.update(batch) } catch let e as NonFiniteLossError {
                    throw TrainingError("step \(step): \(e.description)")
                }
            }

            profiler?.enter(.evaluation)
            try session.afterStep(agent: agent, memory: buffer, lastUpdate: step > config.startSteps ? lastUpdate : nil,
                                  reporter: reporter)
            profiler?.enter(.rest)
        }
        return try session.finish(agent: agent, memory: buffer, finalCheckpoint: finalCheckpoint, reporter: reporter)
    }
}

/// The name this loop had before the on-policy one arrived, kept for code written against it.
public typealias Trainer = OffPolicyTrainer
