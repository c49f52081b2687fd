import Foundation
import NeuralNet
import SparrowCore

/// Proximal policy optimisation (Schulman et al. 2017) as rigl/rl's `ppo_train_eval.py` runs TF-Agents'
/// `PPOClipAgent` for Graesser et al., over dense, masked or truly sparse layers.
///
/// Networks (`ppo_mujoco_*.gin`, `sparse_ppo_actor_network.py`, `sparse_value_network.py`):
/// - the actor maps the normalised observation through tanh hidden layers to A means, μ = mid + half·tanh(o)
///   (`GaussianPolicy`), with a state-independent σ = softplus(ρ), ρ initialised so that σ = `init-std` (0.35);
/// - a separate value network with ReLU hidden layers (`value-activation`) maps it to V(s);
/// - hidden layers are orthogonal (`--init orthogonal`); with a dense init the actor's output layer is Keras'
///   `VarianceScaling(0.1)` (truncated normal, σ = √(0.1/fan_in)/0.8796) and the value output U(±0.03), as the
///   reference; sparse networks use the sparsity-aware init in every layer (`fixed_sparse_init`).
///
/// One iteration: collect `rollout-steps` steps with the sampled policy (`sample`), then `beginLearning` (update
/// the normalisers with the rollout, as TF-Agents' `PPOLearner` does before training; values with the updated
/// normaliser; GAE with truncation bootstrapping), then `epochs` passes of
/// shuffled minibatches (`learnMinibatch`), each one gradient step on
///
///     loss = clipped surrogate + c_v · mean (V(s) − R)² − c_e · entropy
///
/// with the advantages normalised within the minibatch, the gradient clipped to a global norm over both networks
/// and ρ (`max-grad-norm`; TF-Agents `clip_by_global_norm`), Adam (`adam-eps` 1e-5) on each network, and then the
/// method's topology update or pruning step on each network, counted in gradient steps.
///
/// Weight decay is coupled (`g += wd·w`) on weights only — TF-Agents' `policy_l2_reg`/`value_function_l2_reg`
/// add l2·Σw² over kernels, whose gradient is 2·l2·w, so the presets set wd = 2·l2 (`Presets.kerasL2`) — and is
/// added after the clipping rather than before it (a difference of order wd·|w| ≪ the clip).
public final class PPO: AgentCore, Agent {
    public let observationSize: Int
    public let actionSize: Int
    public let policy: GaussianPolicy
    /// Completed iterations (learning phases): the step of the learning-rate decay.
    public private(set) var iterations = 0
    public let totalIterations: Int
    public private(set) var actor: MLP
    public private(set) var value: MLP
    /// ρ per action dimension (σ = softplus(ρ)); trained by the actor's optimizer.
    public let rho: ParameterTensor
    public private(set) var observationStats: RunningMeanStd
    public private(set) var rewardStats: RunningMeanStd
    var actorAdam: Adam
    var valueAdam: Adam
    /// The method's updaters of the policy and value networks (nil: the topology never changes).
    let actorUpdater: (any SparsityUpdater)?
    let valueUpdater: (any SparsityUpdater)?
    let batchSize: Int
    // Minibatch scratch (feature-major where it feeds a network).
    let batchActions: FloatBuffer, batchOldLogProb: FloatBuffer, batchAdvantages: FloatBuffer, batchReturns: FloatBuffer
    let batchLogProb: FloatBuffer, rhoGradient: FloatBuffer, actNoise: FloatBuffer, actLogProb: FloatBuffer
    /// The losses of the latest minibatch (nil before the first; checkpointed, so metrics rows resume exactly).
    public private(set) var lastUpdate: UpdateMetrics?
    /// The deterministic action is tanh(output) scaled to the bounds: TD3's head (on normalised observations).
    public var policyHead: PolicyHeadKind { .deterministicTanh }
    /// The normaliser's statistics as they are now (frozen in an export; training goes on updating them).
    public var deterministicPolicy: DeterministicPolicy {
        let normalization = config.normalizeObservations ? observationStats.normalization() : nil
        return DeterministicPolicy(normalization: normalization, network: actor,
                                   output: .squashed(scale: policy.half, offset: policy.mid))
    }

    public init(config: AgentConfig, observationSize: Int, actionLow: [Double], actionHigh: [Double],
                totalIterations: Int, seed: UInt64) throws {
        let iterations = max(totalIterations, 1)
        let factory = try AgentCore.networkFactory(config, totalUpdates: iterations * config.updatesPerIteration)
        if config.actorCriticRatio != nil {
            throw ConfigError("actor-critic-ratio is for SAC and TD3's twin critics; for ppo set actor-sparsity and critic-sparsity")
        }
        self.observationSize = observationSize
        actionSize = actionLow.count
        policy = GaussianPolicy(low: actionLow, high: actionHigh)
        self.totalIterations = iterations
        var g = Generator(seed: seed)
        let actorSpec = try factory.spec(input: observationSize, output: actionSize, sparsity: config.effectiveActorSparsity)
        var valueSpec = try factory.spec(input: observationSize, output: 1, sparsity: config.effectiveCriticSparsity)
        valueSpec.activation = NetworkFactory.activation(config.valueActivation ?? config.activation, slope: config.leakySlope)
        actor = MLP(spec: actorSpec, generator: &g)
        value = MLP(spec: valueSpec, generator: &g)
        if config.initialization != .sparsityAware {
            Self.initializeOutputLayers(actor: actor, value: value, generator: &g)
        }
        rho = ParameterTensor(values: [Float](repeating: GaussianPolicy.rho(forStd: config.initStd), count: actionSize))
        observationStats = RunningMeanStd(dimension: observationSize)
        rewardStats = RunningMeanStd(dimension: 1)
        actorAdam = factory.adam(learningRate: config.actorLR)
        valueAdam = factory.adam(learningRate: config.criticLR)
        actorAdam.decayBiases = false; valueAdam.decayBiases = false
        actorUpdater = try factory.updater(for: actorSpec, sparsity: config.effectiveActorSparsity)
        valueUpdater = try factory.updater(for: valueSpec, sparsity: config.effectiveCriticSparsity)
        batchSize = config.batchSize
        let A = actionLow.count, B = config.batchSize
        batchActions = FloatBuffer(count: A * B); batchOldLogProb = FloatBuffer(count: B)
        batchAdvantages = FloatBuffer(count: B); batchReturns = FloatBuffer(count: B)
        batchLogProb = FloatBuffer(count: B); rhoGradient = FloatBuffer(count: A)
        actNoise = FloatBuffer(count: A); actLogProb = FloatBuffer(count: 1)
        super.init(config: config, generator: g.derived(0x5EED))
        networks = listNetworks()
    }

    override func listNetworks() -> [AgentNetwork] {
        [AgentNetwork(name: "actor", role: .policy, network: actor, optimizer: actorAdam),
         AgentNetwork(name: "value", role: .value, network: value, optimizer: valueAdam)]
    }

    override func adoptCheckpointNetworks(_ decoded: [MLP]) { actor = decoded[0]; value = decoded[1] }

    override var updaters: [(any SparsityUpdater)?] { [actorUpdater, valueUpdater] }

    /// The reference's output layers: the actor's means `VarianceScaling(0.1)` (fan_in, truncated normal), the value
    /// output U(±0.03); biases 0. Only live connections get a value.
    static func initializeOutputLayers(actor: MLP, value: MLP, generator g: inout Generator) {
        func set(_ layer: any Layer, _ draw: (inout Generator) -> Float) {
            let w = layer.weight
            var values = (0..<w.count).map { _ in draw(&g) }
            if let mask = w.mask { for i in values.indices { values[i] *= mask[i] } }
            w.setValues(values)
            layer.bias.setValues([Float](repeating: 0, count: layer.bias.count))
        }
        let out = actor.layers[actor.layers.count - 1]
        let sigma = (0.1 / Double(out.shape.fanIn)).squareRoot() / 0.87962566103423978
        set(out) { g in
            while true { let z = g.normal(); if abs(z) <= 2 { return Float(z * sigma) } }
        }
        set(value.layers[value.layers.count - 1]) { g in Float(g.uniform(-0.03, 0.03)) }
    }

    // MARK: acting

    /// Writes the network input of observation `o` into column `b` of a feature-major input with `B` columns.
    @inline(__always)
    func loadObservation(_ o: (Int) -> Double, into input: UnsafeMutablePointer<Float>, column b: Int, batch B: Int) {
        if config.normalizeObservations {
            for j in 0..<observationSize { input[j * B + b] = observationStats.normalize(o(j), feature: j) }
        } else {
            for j in 0..<observationSize { input[j * B + b] = Float(o(j)) }
        }
    }

    /// Samples an action (before clipping to the bounds) for one observation and returns its log-probability.
    public func sample(_ observation: UnsafeBufferPointer<Double>, into action: UnsafeMutableBufferPointer<Float>) -> Float {
        Subnormals.flushed {
            let ws = actor.workspace(batch: 1)
            loadObservation({ observation[$0] }, into: ws.input.pointer, column: 0, batch: 1)
            actor.forward(ws)
            for j in 0..<actionSize { actNoise[j] = Float(generator.normal()) }
            policy.sample(ws.output.pointer, rho: rho.values, noise: actNoise.pointer, batch: 1,
                          action: action.baseAddress!, logProb: actLogProb.pointer)
            return actLogProb[0]
        }
    }

    /// Deterministic: the mean action; otherwise a sampled one clipped to the bounds (what the env receives).
    public func act(_ observation: UnsafeBufferPointer<Double>, deterministic: Bool, into action: UnsafeMutableBufferPointer<Float>) {
        if !deterministic {
            _ = sample(observation, into: action)
            clipToBounds(action)
            return
        }
        Subnormals.flushed {
            let ws = actor.workspace(batch: 1)
            loadObservation({ observation[$0] }, into: ws.input.pointer, column: 0, batch: 1)
            actor.forward(ws)
            policy.mean(ws.output.pointer, batch: 1, into: action.baseAddress!)
        }
    }

    /// Clips a sampled action to the action bounds (CleanRL's `ClipAction`; the rollout keeps the unclipped one).
    public func clipToBounds(_ action: UnsafeMutableBufferPointer<Float>) {
        for j in 0..<actionSize {
            action[j] = min(max(action[j], policy.mid[j] - policy.half[j]), policy.mid[j] + policy.half[j])
        }
    }

    // MARK: learning

    /// Prepares learning from a full rollout: normaliser updates, values, advantages and returns, the first epoch's
    /// order.
    public func beginLearning(_ rollout: RolloutBuffer) {
        precondition(rollout.isFull && !rollout.isLearning)
        Subnormals.flushed {
            let n = rollout.capacity, d = observationSize
            if config.normalizeObservations { observationStats.update(rollout.observations, rows: n) }
            if config.normalizeRewards { rewardStats.update(rollout.rewards, rows: n) }
            // V(s_t) in minibatch-sized chunks, and V of the bootstrap observations.
            let B = batchSize, ws = value.workspace(batch: B)
            var t0 = 0
            while t0 < n {
                let m = min(B, n - t0)
                for b in 0..<B {
                    let t = t0 + min(b, m - 1)
                    rollout.observations.withUnsafeBufferPointer { o in
                        loadObservation({ Double(o[t * d + $0]) }, into: ws.input.pointer, column: b, batch: B)
                    }
                }
                value.forward(ws)
                for b in 0..<m { rollout.values[t0 + b] = ws.output[b] }
                t0 += m
            }
            let one = value.workspace(batch: 1)
            for t in 0..<n {
                guard rollout.hasBootstrapObservation[t] else {
                    // Inside an episode V(s_{t+1}); after a termination 0.
                    rollout.bootstrapValues[t] = rollout.episodeEnds[t] || t == n - 1 ? 0 : rollout.values[t + 1]
                    continue
                }
                rollout.bootstrapObservations.withUnsafeBufferPointer { o in
                    loadObservation({ Double(o[t * d + $0]) }, into: one.input.pointer, column: 0, batch: 1)
                }
                value.forward(one)
                rollout.bootstrapValues[t] = one.output[0]
            }
            // Rewards as learned from: scaled (reward-scale), then normalised by their streaming std.
            var learned = [Float](repeating: 0, count: n)
            for t in 0..<n {
                let r = Double(rollout.rewards[t]) * config.rewardScale
                learned[t] = config.normalizeRewards ? rewardStats.scale(r) : Float(r)
            }
            learned.withUnsafeBufferPointer { r in
                rollout.values.withUnsafeBufferPointer { v in
                    rollout.bootstrapValues.withUnsafeBufferPointer { bv in
                        rollout.episodeEnds.withUnsafeBufferPointer { e in
                            rollout.advantages.withUnsafeMutableBufferPointer { a in
                                rollout.returns.withUnsafeMutableBufferPointer { ret in
                                    generalizedAdvantages(rewards: r.baseAddress!, values: v.baseAddress!,
                                                          bootstrapValues: bv.baseAddress!, episodeEnds: e.baseAddress!,
                                                          count: n, gamma: Float(config.gamma), lambda: Float(config.gaeLambda),
                                                          advantages: a.baseAddress!, returns: ret.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
        rollout.isLearning = true
        rollout.epoch = 0
        rollout.minibatch = 0
        shuffle(&rollout.permutation)
    }

    /// Fisher–Yates with the agent's generator (from the identity, so the order depends only on the generator).
    func shuffle(_ p: inout [Int32]) {
        for i in p.indices { p[i] = Int32(i) }
        for i in stride(from: p.count - 1, to: 0, by: -1) {
            let j = generator.nextInt(below: i + 1)
            p.swapAt(i, j)
        }
    }

    /// The minibatches of one epoch.
    func minibatchesPerEpoch(_ rollout: RolloutBuffer) -> Int { rollout.capacity / batchSize }

    /// One gradient step on the next minibatch; advances the rollout's epoch/minibatch position and, after the last
    /// epoch, clears it for the next rollout.
    public func learnMinibatch(_ rollout: RolloutBuffer) throws -> UpdateMetrics {
        precondition(rollout.isLearning)
        let m = try countedUpdate(.actorUpdate) { try learnStep(rollout) }
        lastUpdate = m
        rollout.minibatch += 1
        if rollout.minibatch == minibatchesPerEpoch(rollout) {
            rollout.minibatch = 0
            rollout.epoch += 1
            if rollout.epoch == config.epochs {
                rollout.clear()
                iterations += 1
            } else {
                shuffle(&rollout.permutation)
            }
        }
        return m
    }

    private func learnStep(_ rollout: RolloutBuffer) throws -> UpdateMetrics {
        // Learning rates: base · (1 − iteration/iterations), as rigl/rl's `learning_rate_fn` (set from the
        // checkpointed iteration count at every step, so a resume mid-epoch uses the same rate).
        let frac = config.lrDecay ? 1 - Double(iterations) / Double(totalIterations) : 1
        actorAdam.learningRate = Float(config.actorLR * frac)
        valueAdam.learningRate = Float(config.criticLR * frac)
        let B = batchSize, A = actionSize, d = observationSize
        let aws = actor.workspace(batch: B), vws = value.workspace(batch: B)
        let start = rollout.minibatch * B
        // Gather: observations (normalised) for both networks, actions, old log-probs, advantages, returns.
        var meanAdv = 0.0
        rollout.observations.withUnsafeBufferPointer { o in
            for b in 0..<B {
                let t = Int(rollout.permutation[start + b])
                loadObservation({ Double(o[t * d + $0]) }, into: aws.input.pointer, column: b, batch: B)
                for j in 0..<A { batchActions[j * B + b] = rollout.actions[t * A + j] }
                batchOldLogProb[b] = rollout.logProbs[t]
                batchAdvantages[b] = rollout.advantages[t]
                batchReturns[b] = rollout.returns[t]
                meanAdv += Double(rollout.advantages[t])
            }
        }
        vws.input.pointer.update(from: aws.input.pointer, count: d * B)
        // Advantages normalised within the minibatch (TF-Agents: (x − mean)/√(var + 1e-8)).
        meanAdv /= Double(B)
        var varAdv = 0.0
        for b in 0..<B { let e = Double(batchAdvantages[b]) - meanAdv; varAdv += e * e }
        let invStd = 1 / (varAdv / Double(B) + 1e-8).squareRoot()
        for b in 0..<B { batchAdvantages[b] = Float((Double(batchAdvantages[b]) - meanAdv) * invStd) }

        // Policy loss and its gradients.
        actor.forward(aws)
        var (policyLoss, clipFraction, approxKL) = rho.values.withUnsafeBufferPointer { r in
            policy.clippedSurrogate(aws.output.pointer, rho: r.baseAddress!, actions: batchActions.pointer,
                                    oldLogProb: batchOldLogProb.pointer, advantages: batchAdvantages.pointer, batch: B,
                                    clip: Float(config.clipRatio), scratch: batchLogProb.pointer,
                                    outputGradient: aws.outputGradient.pointer, rhoGradient: rhoGradient.pointer)
        }
        if config.entropyCoef > 0 {
            // H = Σ_j log σ_j + ½ log 2πe per sample: −c·H, with ∂/∂ρ_j = −c·sigmoid(ρ_j)/σ_j.
            let c = config.entropyCoef
            for j in 0..<A {
                let r = rho.values[j], sigma = GaussianPolicy.softplus(r)
                policyLoss -= c * (Double(Foundation.log(sigma)) + 0.5 * Foundation.log(2 * Double.pi * M_E))
                rhoGradient[j] -= Float(c) * GaussianPolicy.sigmoid(r) / sigma
            }
        }
        // Value loss c·mean (V − R)².
        value.forward(vws)
        var valueLoss = 0.0
        let c = Float(config.valueCoef), invB = 1 / Float(B)
        for b in 0..<B {
            let e = vws.output[b] - batchReturns[b]
            valueLoss += Double(e * e)
            vws.outputGradient[b] = 2 * c * e * invB
        }
        valueLoss = Double(c) * valueLoss / Double(B)
        guard policyLoss.isFinite else { throw NonFiniteLossError(update: updates, network: "actor", value: policyLoss) }
        guard valueLoss.isFinite else { throw NonFiniteLossError(update: updates, network: "value", value: valueLoss) }
        actor.backward(aws)
        value.backward(vws)
        for j in 0..<A { rho.gradients[j] = rhoGradient[j] }
        clipGlobalNorm()
        actorAdam.step(rho, isBias: true)
        // Each network's whole step in turn: the actor's topology change touches neither ρ nor the value network.
        optimize(actor, name: "actor", adam: actorAdam, updater: actorUpdater, workspace: aws)
        optimize(value, name: "value", adam: valueAdam, updater: valueUpdater, workspace: vws)
        analyses.measureJointSNR(of: ["actor", "value"], step: updates)
        countFLOPs()
        var metrics = UpdateMetrics()
        metrics.actorLoss = policyLoss
        metrics.criticLoss = valueLoss
        metrics.valueLoss = valueLoss
        metrics.approxKL = approxKL
        metrics.clipFraction = clipFraction
        return metrics
    }

    /// The gradients of both networks and ρ, scaled to global norm ≤ `max-grad-norm` (`tf.clip_by_global_norm`:
    /// g · clip / max(‖g‖, clip)). Absent connections of masked layers do not count.
    func clipGlobalNorm() {
        guard config.maxGradNorm > 0 else { return }
        let tensors = actor.parameters + value.parameters + [rho]
        var sum = 0.0
        for p in tensors {
            p.gradients.withUnsafeBufferPointer { g in
                if let mask = p.mask {
                    for i in 0..<g.count where mask[i] != 0 { sum += Double(g[i]) * Double(g[i]) }
                } else {
                    for i in 0..<g.count { sum += Double(g[i]) * Double(g[i]) }
                }
            }
        }
        let norm = sum.squareRoot(), clip = config.maxGradNorm
        guard norm > clip else { return }
        let scale = Float(clip / norm)
        for p in tensors { p.gradients.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] *= scale } } }
    }

    /// As the papers count (`LayerCost`): each minibatch trains both networks.
    func countFLOPs() {
        trainingFLOPs += AgentCore.trainingFLOPs(actor, batch: batchSize) + AgentCore.trainingFLOPs(value, batch: batchSize)
    }

    // MARK: checkpoint state

    override func encodeCounters(into w: inout ByteWriter) { w.write(iterations) }
    override func decodeCounters(from r: inout ByteReader) throws { iterations = try r.read(Int.self) }

    override func encodeBeforeNetworks(into w: inout ByteWriter) throws {
        observationStats.encode(into: &w)
        rewardStats.encode(into: &w)
    }

    override func decodeBeforeNetworks(from r: inout ByteReader) throws {
        observationStats = try RunningMeanStd.decode(from: &r, dimension: observationSize)
        rewardStats = try RunningMeanStd.decode(from: &r, dimension: 1)
    }

    override func encodeAfterNetworks(into w: inout ByteWriter) throws {
        w.write(rho.values); w.write(rho.firstMoment); w.write(rho.secondMoment); w.write(rho.step)
        w.write(lastUpdate != nil)
        if let u = lastUpdate { w.write(u.actorLoss); w.write(u.criticLoss) }
        // Added later, at the end: a checkpoint from before ends here and reads back without them.
        if let u = lastUpdate { w.write(u.approxKL); w.write(u.clipFraction) }
    }

    override func decodeAfterNetworks(from r: inout ByteReader) throws {
        let values = try r.read([Float].self), m = try r.read([Float].self), v = try r.read([Float].self)
        let step = try r.read(Int.self)
        guard values.count == actionSize && m.count == actionSize && v.count == actionSize else {
            throw FormatError.corrupt("log-std parameters have \(values.count) values, expected \(actionSize)")
        }
        rho.restore(values: values, firstMoment: m, secondMoment: v, step: step)
        if try r.read(Bool.self) {
            var u = UpdateMetrics()
            u.actorLoss = try r.read(Double.self)
            u.criticLoss = try r.read(Double.self)
            u.valueLoss = u.criticLoss
            lastUpdate = u
        } else {
            lastUpdate = nil
        }
        if lastUpdate != nil, !r.isAtEnd {  // the PPO diagnostics, in checkpoints written since they were added
            lastUpdate!.approxKL = try r.read(Double.self)
            lastUpdate!.clipFraction = try r.read(Double.self)
        }
    }
}

extension AlgorithmDeclaration {
    public static let ppo = AlgorithmDeclaration(
        algorithm: .ppo, summary: "PPO (Schulman et al. 2017), as TF-Agents' PPOClipAgent (rigl/rl).",
        actions: .continuous, loop: .onPolicy,
        networks: [("actor", .policy), ("value", .value)],
        updateMetrics: ["critic_loss", "actor_loss", "value_loss", "approx_kl", "clip_fraction"], drawsNoiseFeatures: false,
        make: { r in
            try PPO(config: r.config, observationSize: r.observationSize, actionLow: r.actions.box!.low,
                    actionHigh: r.actions.box!.high, totalIterations: r.totalIterations, seed: r.seed)
        })
}
