import Foundation
import NeuralNet
import SparrowCore

/// Twin Delayed DDPG (Fujimoto et al. 2018) — the base of Sokar's DS-TD3 and Grooten's TowS-TD3.
///
/// One update, in the order of Sokar's `DS_TD3.py` / ANF's `anf_td3.py`:
/// 1. a′ = clip(π̄(s′) + clip(N(0, σ·scale), ±c·scale), low, high); y = scale·r + γ(1 − terminated)·min_k Q̄_k(s′, a′)
/// 2. each critic: MSE(Q_k(s, a), y), Adam step, topology update
/// 3. every `policy-delay` updates: actor loss −mean Q_1(s, π(s)), Adam step, topology update; then soft updates of
///    the target critics and the target actor.
/// Exploration: a = clip(π(s) + N(0, exploration-noise·scale), low, high).
public final class TD3: ActorCriticAgent, OffPolicyAgent {
    let head: DeterministicTanhHead
    /// The target actor (built with the actor by the base class, which keeps it in `targetActors`).
    public var targetActor: MLP { targetActors[0] }
    public var policyHead: PolicyHeadKind { .deterministicTanh }

    public init(config: AgentConfig, observationSize: Int, actionLow: [Double], actionHigh: [Double],
                totalUpdates: Int, seed: UInt64, noiseInputs: Int = 0) throws {
        head = DeterministicTanhHead(bounds: ActionBounds(low: actionLow.map { Float($0) }, high: actionHigh.map { Float($0) }))
        try super.init(config: config, observationSize: observationSize, actionLow: actionLow, actionHigh: actionHigh,
                       totalUpdates: totalUpdates, actorOutputs: actionLow.count, targetActor: true, seed: seed,
                       noiseInputs: noiseInputs)
    }

    public func act(_ observation: UnsafeBufferPointer<Double>, deterministic: Bool, into action: UnsafeMutableBufferPointer<Float>) {
        Subnormals.flushed { actFlushed(observation, deterministic: deterministic, into: action) }
    }

    private func actFlushed(_ observation: UnsafeBufferPointer<Double>, deterministic: Bool, into action: UnsafeMutableBufferPointer<Float>) {
        let ws = actor.workspace(batch: 1)
        loadObservation(observation, into: ws)
        actor.forward(ws)
        head.action(ws.output.pointer, batch: 1, into: action.baseAddress!)
        guard !deterministic else { return }
        for j in 0..<actionSize {
            let noise = Float(generator.normal() * config.explorationNoise) * bounds.scale[j]
            let lo = bounds.offset[j] - bounds.scale[j], hi = bounds.offset[j] + bounds.scale[j]
            action[j] = min(max(action[j] + noise, lo), hi)
        }
    }

    /// One gradient update (`AgentCore.countedUpdate`: counted, timed, subnormals flushed).
    public func update(_ batch: ReplayBatch) throws -> UpdateMetrics {
        try countedUpdate { try learn(batch) }
    }

    private func learn(_ batch: ReplayBatch) throws -> UpdateMetrics {
        let B = batchSize
        let gamma = Float(config.gamma), scale = Float(config.rewardScale)
        var m = UpdateMetrics()

        // 1. Target with smoothed target-policy actions.
        let tws = targetActor.workspace(batch: B)
        loadObservations(tws.input.pointer, from: batch.nextObservations, batch: B)
        targetActor.forward(tws)
        head.action(tws.output.pointer, batch: B, into: batchAction.pointer)
        for j in 0..<actionSize {
            let s = bounds.scale[j], lo = bounds.offset[j] - s, hi = bounds.offset[j] + s
            let clip = Float(config.noiseClip) * s
            for b in 0..<B {
                let noise = min(max(Float(generator.normal() * config.policyNoise) * s, -clip), clip)
                batchAction[j * B + b] = min(max(batchAction[j * B + b] + noise, lo), hi)
            }
        }
        fillMinTargetQ(nextObservations: batch.nextObservations)
        for b in 0..<B { targetQ[b] = scale * batch.rewards[b] + gamma * batch.notTerminated[b] * targetQ[b] }

        // 2. Critics.
        (m.criticLoss, m.meanQ) = try trainCritics(batch)

        // 3. Delayed actor and target updates.
        let actorStep = updates % config.policyDelay == 0
        if actorStep {
            profiler?.enter(.actorUpdate)
            let aws = actor.workspace(batch: B)
            loadObservations(aws.input.pointer, from: batch.observations, batch: B)
            actor.forward(aws)
            head.action(aws.output.pointer, batch: B, into: batchAction.pointer)
            let q = critics[0].workspace(batch: B)
            fillCriticInput(q, observations: batch.observations, actions: batchAction.pointer)
            critics[0].forward(q)
            var loss = 0.0
            for b in 0..<B { loss -= Double(q.output[b]); q.outputGradient[b] = -1 / Float(B) }
            loss /= Double(B)
            guard loss.isFinite else { throw NonFiniteLossError(update: updates, network: "actor", value: loss) }
            critics[0].backward(q, parameterGradients: false, inputGradient: true, inputRows: criticActionRows)
            let offset = observationRows * B
            for i in 0..<actionSize * B { actionGradient[i] = q.inputGradient[offset + i] }
            head.backward(aws.output.pointer, batch: B, actionGradient: actionGradient.pointer, into: aws.outputGradient.pointer)
            actor.backward(aws)
            optimizeActor(workspace: aws)
            m.actorLoss = loss
            updateTargets(actor: true)
        }
        countFLOPs(actorSteps: actorStep ? 1 : 0)
        return m
    }
}

extension AlgorithmDeclaration {
    public static let td3 = AlgorithmDeclaration(
        algorithm: .td3, summary: "TD3 (Fujimoto et al. 2018), as ANF's and Sokar's code.",
        actions: .continuous, loop: .offPolicy,
        networks: [("actor", .policy), ("critic1", .value), ("critic2", .value),
                   ("target_critic1", .target(of: "critic1")), ("target_critic2", .target(of: "critic2")),
                   ("target_actor", .target(of: "actor"))],
        updateMetrics: ["critic_loss", "actor_loss", "mean_q"], drawsNoiseFeatures: true,
        make: { r in
            try TD3(config: r.config, observationSize: r.observationSize, actionLow: r.actions.box!.low,
                    actionHigh: r.actions.box!.high, totalUpdates: r.totalUpdates, seed: r.seed, noiseInputs: r.noiseInputs)
        })
}
