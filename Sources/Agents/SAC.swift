import Foundation
import NeuralNet
import SparrowCore

/// Soft Actor-Critic (Haarnoja et al. 2018) with twin Q networks, target critics, a squashed Gaussian policy and
/// a fixed or learned temperature α — over dense, masked or truly sparse layers.
///
/// One update, in the order of the reference implementations (CleanRL / ANF `sac.py`):
/// 1. a′ ~ π(·|s′), y = scale·r + γ·(1 − terminated)·(min_k Q̄_k(s′, a′) − α·log π(a′|s′))
/// 2. each critic: MSE(Q_k(s, a), y), Adam step, then its topology update (if the method evolves one)
/// 3. actor (every `policy-delay` updates is TD3's; SAC updates every step): a ~ π(·|s) reparameterised,
///    loss = mean(α·log π(a|s) − min_k Q_k(s, a)), Adam step, topology update
/// 4. temperature (if auto-tuned): loss = −mean(log α · (log π + H̄)) with H̄ = −|A| by default (SB3 form)
/// 5. every `target-update-interval` updates: Q̄_k ← τ·Q_k + (1 − τ)·Q̄_k (τ = 1: hard copy, Sokar's DS-SAC)
public final class SAC: ActorCriticAgent, OffPolicyAgent {
    let head: GaussianTanhHead
    /// log α as a one-element tensor, so Adam keeps its moments like any other parameter.
    let logAlpha: ParameterTensor
    let alphaAdam: Adam
    public var alpha: Double { Double(Foundation.exp(logAlpha.values[0])) }
    public var policyHead: PolicyHeadKind { .gaussianTanh }
    /// Per critic, the batch samples for which it gives min(Q₁, Q₂) in the actor step (first `count` entries).
    private var minCriticSamples: [[Int32]]
    var targetEntropy: Double { config.targetEntropy ?? config.targetEntropyPerAction * Double(actionSize) }

    public init(config: AgentConfig, observationSize: Int, actionLow: [Double], actionHigh: [Double],
                totalUpdates: Int, seed: UInt64, noiseInputs: Int = 0) throws {
        let bounding: LogStdBounding = config.logStdBounding == .tanh
            ? .tanhRescale(min: Float(config.logStdMin), max: Float(config.logStdMax))
            : .clamp(min: Float(config.logStdMin), max: Float(config.logStdMax))
        let A = actionLow.count
        logAlpha = ParameterTensor(values: [Float(Foundation.log(max(config.alpha, 1e-12)))])
        alphaAdam = Adam(learningRate: Float(config.alphaLR))
        minCriticSamples = Array(repeating: Array(repeating: 0, count: config.batchSize), count: 2)
        head = GaussianTanhHead(bounds: ActionBounds(low: actionLow.map { Float($0) }, high: actionHigh.map { Float($0) }),
                                logStd: bounding)
        try super.init(config: config, observationSize: observationSize, actionLow: actionLow, actionHigh: actionHigh,
                       totalUpdates: totalUpdates, actorOutputs: 2 * A, targetActor: false, seed: seed, noiseInputs: noiseInputs)
    }

    public func act(_ observation: UnsafeBufferPointer<Double>, deterministic: Bool, into action: UnsafeMutableBufferPointer<Float>) {
        Subnormals.flushed { actFlushed(observation, deterministic: deterministic, into: action) }
    }

    private func actFlushed(_ observation: UnsafeBufferPointer<Double>, deterministic: Bool, into action: UnsafeMutableBufferPointer<Float>) {
        let ws = actor.workspace(batch: 1)
        loadObservation(observation, into: ws)
        actor.forward(ws)
        if deterministic {
            head.meanAction(ws.output.pointer, batch: 1, action: action.baseAddress!)
        } else {
            for j in 0..<actionSize { actNoise[j] = Float(generator.normal()) }
            head.sample(ws.output.pointer, noise: actNoise.pointer, batch: 1, action: action.baseAddress!,
                        logProb: actLogProb.pointer)
        }
    }

    /// Fills `batchNoise` with ε ~ N(0, 1) and samples actions and log-probs from the actor on `observations`.
    private func samplePolicy(_ observations: UnsafePointer<Float>) -> Workspace {
        let B = batchSize
        let ws = actor.workspace(batch: B)
        loadObservations(ws.input.pointer, from: observations, batch: B)
        actor.forward(ws)
        for i in 0..<actionSize * B { batchNoise[i] = Float(generator.normal()) }
        head.sample(ws.output.pointer, noise: batchNoise.pointer, batch: B, action: batchAction.pointer,
                    logProb: batchLogProb.pointer)
        return ws
    }

    /// One gradient update (`AgentCore.countedUpdate`: counted, timed, subnormals flushed).
    public func update(_ batch: ReplayBatch) throws -> UpdateMetrics {
        try countedUpdate { try learn(batch) }
    }

    private func learn(_ batch: ReplayBatch) throws -> UpdateMetrics {
        let B = batchSize
        let a = Float(alpha), gamma = Float(config.gamma), scale = Float(config.rewardScale)
        var m = UpdateMetrics()

        // 1. Soft Bellman target from the target critics.
        _ = samplePolicy(batch.nextObservations)
        fillMinTargetQ(nextObservations: batch.nextObservations)
        for b in 0..<B {
            targetQ[b] = scale * batch.rewards[b] + gamma * batch.notTerminated[b] * (targetQ[b] - a * batchLogProb[b])
        }

        // 2. Critics.
        (m.criticLoss, m.meanQ) = try trainCritics(batch)

        // 3. Actor: maximise min_k Q_k(s, π(s)) − α log π.
        profiler?.enter(.actorUpdate)
        let actorWS = samplePolicy(batch.observations)
        let q1 = critics[0].workspace(batch: B), q2 = critics[1].workspace(batch: B)
        fillCriticInput(q1, observations: batch.observations, actions: batchAction.pointer)
        fillCriticInput(q2, observations: batch.observations, actions: batchAction.pointer)
        Parallel.forEach(2) { k in critics[k].forward(k == 0 ? q1 : q2) }
        // ∂min(Q₁, Q₂)/∂a is ∂Q_k/∂a of whichever critic is smaller (critic 1 on ties), so each sample is
        // differentiated through that critic only: the samples are split by argmin and each critic's backward
        // runs on its share (half the work of two full-batch backward passes with zero gradients).
        var actorLoss = 0.0
        let invB = 1 / Float(B)
        var counts = (0, 0)
        for b in 0..<B {
            let first = q1.output[b] <= q2.output[b]
            actorLoss += Double(a * batchLogProb[b] - (first ? q1.output[b] : q2.output[b]))
            if first { minCriticSamples[0][counts.0] = Int32(b); counts.0 += 1 } else {
                minCriticSamples[1][counts.1] = Int32(b); counts.1 += 1
            }
            lossGradient[b] = a * invB  // ∂loss/∂log π
        }
        actorLoss /= Double(B)
        guard actorLoss.isFinite else { throw NonFiniteLossError(update: updates, network: "actor", value: actorLoss) }
        // Each critic's share on its own thread with `--threads` > 1: disjoint samples, disjoint columns written.
        Parallel.forEach(2) { k in
            let n = k == 0 ? counts.0 : counts.1
            guard n > 0 else { return }
            minCriticSamples[k].withUnsafeBufferPointer { all in
                let samples = UnsafeBufferPointer(rebasing: all[0..<n])
                let sub = critics[k].gather(k == 0 ? q1 : q2, columns: samples)
                for i in 0..<n { sub.outputGradient[i] = -invB }
                critics[k].backward(sub, parameterGradients: false, inputGradient: true, inputRows: criticActionRows)
                let offset = observationRows * n
                for j in 0..<actionSize {
                    for (i, b) in samples.enumerated() { actionGradient[j * B + Int(b)] = sub.inputGradient[offset + j * n + i] }
                }
            }
        }
        head.backward(actorWS.output.pointer, noise: batchNoise.pointer, batch: B, actionGradient: actionGradient.pointer,
                      logProbGradient: lossGradient.pointer, into: actorWS.outputGradient.pointer)
        actor.backward(actorWS)
        optimizeActor(workspace: actorWS)
        m.actorLoss = actorLoss

        // 4. Temperature.
        if config.autotuneAlpha {
            var meanTerm = 0.0
            for b in 0..<B { meanTerm += Double(batchLogProb[b]) + targetEntropy }
            meanTerm /= Double(B)
            m.alphaLoss = -Double(logAlpha.values[0]) * meanTerm
            logAlpha.gradients[0] = Float(-meanTerm)
            alphaAdam.step(logAlpha)
        }
        m.alpha = alpha

        // 5. Targets.
        if updates % config.targetUpdateInterval == 0 { updateTargets() }
        countFLOPs(actorSteps: 1)
        return m
    }

    /// The temperature's state, after the shared state (last, as every SAC checkpoint has it).
    override func encodeAfterNetworks(into w: inout ByteWriter) throws {
        try super.encodeAfterNetworks(into: &w)
        w.write(logAlpha.values); w.write(logAlpha.firstMoment); w.write(logAlpha.secondMoment); w.write(logAlpha.step)
    }

    override func decodeAfterNetworks(from r: inout ByteReader) throws {
        try super.decodeAfterNetworks(from: &r)
        let v = try r.read([Float].self), m1 = try r.read([Float].self), m2 = try r.read([Float].self)
        let step = try r.read(Int.self)
        guard v.count == 1, m1.count == 1, m2.count == 1 else { throw FormatError.corrupt("temperature state") }
        logAlpha.restore(values: v, firstMoment: m1, secondMoment: m2, step: step)
    }
}

extension AlgorithmDeclaration {
    public static let sac = AlgorithmDeclaration(
        algorithm: .sac, summary: "Soft actor-critic (Haarnoja et al. 2018), as ANF's and TF-Agents' code.",
        actions: .continuous, loop: .offPolicy,
        networks: [("actor", .policy), ("critic1", .value), ("critic2", .value),
                   ("target_critic1", .target(of: "critic1")), ("target_critic2", .target(of: "critic2"))],
        updateMetrics: ["critic_loss", "actor_loss", "alpha", "mean_q"], drawsNoiseFeatures: true,
        make: { r in
            try SAC(config: r.config, observationSize: r.observationSize, actionLow: r.actions.box!.low,
                    actionHigh: r.actions.box!.high, totalUpdates: r.totalUpdates, seed: r.seed, noiseInputs: r.noiseInputs)
        })
}
