import Agents
import Environments
import Foundation
import NeuralNet
import SparrowCore

/// The on-policy training loop (PPO), sibling of the `OffPolicyTrainer` and sharing its `TrainingSession`
/// (environments, evaluation, logs, checkpoints, the lock): collect `rollout-steps` environment steps with the
/// sampled policy, then learn from them for `epochs` passes of minibatches, and again, until `steps`.
///
/// Evaluation, metrics rows and checkpoints fall on environment steps as in `OffPolicyTrainer`; at the step that fills the
/// rollout they come after its learning phase. A stop signal is honoured between environment steps and between
/// minibatches, and the checkpoint holds the rollout and the epoch/minibatch position (`RolloutBuffer`), so a run
/// stopped while collecting or in the middle of an epoch continues exactly.
///
/// Sampled actions are clipped to the action bounds for the environment; the rollout keeps the sampled ones.
/// Steps after the last full rollout (when `steps` is not a multiple of `rollout-steps`) are collected and not
/// learned from.
public final class OnPolicyTrainer: TrainingLoop {
    public var config: TrainConfig { session.config }
    let session: TrainingSession
    public var runDirectory: String { session.directory.path }
    var env: any TrainingEnvironment { session.env }
    public let agent: PPO
    public var trainedAgent: any Agent { agent }
    let rollout: RolloutBuffer
    public var step: Int { session.step }
    public var evaluations: [Evaluation] { session.loop.evaluations }
    public var profiler: StepProfiler? {
        didSet { agent.profiler = profiler }
    }

    public init(config: TrainConfig, runDirectory: String, resume: Bool) throws {
        session = try TrainingSession(config: config, runDirectory: runDirectory)
        agent = try AgentFactory.makePPO(config: config, env: session.env)
        rollout = RolloutBuffer(capacity: config.agent.rolloutSteps, observationSize: session.env.observationSpace.dimension,
                                actionSize: session.env.actions.componentCount)
        try session.open(agent: agent, memory: rollout, resume: resume)
    }

    public func run(progress: ProgressReporter?, stopAfter: Int?, finalCheckpoint: Bool) throws -> TrainSummary {
        try run(progress: progress, stopAfter: stopAfter, stopAfterUpdates: nil, finalCheckpoint: finalCheckpoint)
    }

    /// As `run(progress:stopAfter:finalCheckpoint:)`; `stopAfterUpdates` (tests) also stops once the agent has made
    /// that many gradient steps, which may fall in the middle of an epoch.
    @discardableResult
    public func run(progress: ProgressReporter? = nil, stopAfter: Int? = nil, stopAfterUpdates: Int? = nil,
                    finalCheckpoint: Bool = true) throws -> TrainSummary {
        let reporter = progress ?? ProgressReporter(total: config.steps, label: config.env, mode: .silent)
        session.begin()
        let nu = env.actions.componentCount
        var action = [Float](repeating: 0, count: nu), envAction = [Float](repeating: 0, count: nu)
        var actionD = [Double](repeating: 0, count: nu)
        var next = [Double](repeating: 0, count: env.observationSpace.dimension)
        func interrupted() throws -> TrainSummary {
            try session.interrupt(agent: agent, memory: rollout, finalCheckpoint: finalCheckpoint, reporter: reporter)
        }
        // Resumed in the middle of a learning phase: finish it, then what was due after its step.
        if rollout.isLearning {
            guard try learn(stopAfterUpdates: stopAfterUpdates) else { return try interrupted() }
            try session.afterStep(agent: agent, memory: rollout, lastUpdate: agent.lastUpdate, reporter: reporter)
        }

        while step < config.steps {
            if session.stopRequested(stopAfter: stopAfter) { return try interrupted() }
            session.loop.step += 1
            profiler?.enter(.acting)
            let logProb = session.loop.observation.withUnsafeBufferPointer { o in
                action.withUnsafeMutableBufferPointer { agent.sample(o, into: $0) }
            }
            for j in 0..<nu { envAction[j] = action[j] }
            envAction.withUnsafeMutableBufferPointer { agent.clipToBounds($0) }
            for j in 0..<nu { actionD[j] = Double(envAction[j]) }
            try session.stepEnvironment(actionD, next: &next, profiler: profiler) { o, n, outcome in
                action.withUnsafeBufferPointer { a in
                    rollout.add(observation: o, action: a, logProb: logProb, reward: outcome.reward,
                                terminated: outcome.terminated, truncated: outcome.truncated, next: n)
                }
            }

            if rollout.isFull {
                profiler?.enter(.actorUpdate)
                agent.beginLearning(rollout)
                guard try learn(stopAfterUpdates: stopAfterUpdates) else { return try interrupted() }
            }
            profiler?.enter(.evaluation)
            try session.afterStep(agent: agent, memory: rollout, lastUpdate: agent.lastUpdate, reporter: reporter)
            profiler?.enter(.rest)
        }
        return try session.finish(agent: agent, memory: rollout, finalCheckpoint: finalCheckpoint, reporter: reporter)
    }

    /// The rest of the current learning phase; false if a stop came first (the rollout keeps its position).
    func learn(stopAfterUpdates: Int?) throws -> Bool {
        while rollout.isLearning {
            if StopSignal.requested || (stopAfterUpdates.map { agent.updates >= $0 } ?? false) { return false }
            do { _ = try agent.learnMinibatch(rollout) } catch let e as NonFiniteLossError {
                throw TrainingError("step \(step): \(e.description)")
            }
        }
        return true
    }
}
