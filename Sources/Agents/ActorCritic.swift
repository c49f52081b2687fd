import Foundation
import NeuralNet
import SparrowCore

/// The machinery SAC and TD3 share: actor, twin critics and their targets built from the config, Adam, the
/// sparse-training schedules (topology evolution or pruning), critic regression on a replay batch, accounting and
/// (de)serialisation. SAC.swift and TD3.swift hold only their own update rules.
public class ActorCriticAgent: AgentCore {
    /// Real observation features: what the environment gives and the replay buffer stores.
    public let observationSize: Int
    /// Noise features drawn afresh for every forward pass (ANF's `--fake_features`; `noise-features-mode network`):
    /// i.i.d. N(0, 1) input rows after the observation rows of the actor's and each critic's input, never stored.
    /// 0 without them (or when the environment adds them, which makes them part of `observationSize`).
    public let noiseInputs: Int
    /// Draws the noise features (its own stream, so the agent's other draws are those of a run without them).
    var noiseGenerator: Generator
    public let actionSize: Int
    public let bounds: ActionBounds

    public internal(set) var actor: MLP
    public internal(set) var critics: [MLP]
    public internal(set) var targetCritics: [MLP]
    /// The actor's target network, if the algorithm has one (TD3: one; SAC: none).
    public internal(set) var targetActors: [MLP]
    let actorAdam: Adam
    let criticAdam: Adam
    /// The method's updater of the actor and of each critic (nil: the topology never changes).
    let actorUpdater: (any SparsityUpdater)?
    let criticUpdaters: [(any SparsityUpdater)?]
    let targetTopology: TargetTopology

    let batchSize: Int
    /// Feature-major scratch of one batch: actions, log-probs, noise, targets.
    let batchAction: FloatBuffer, batchNoise: FloatBuffer, batchLogProb: FloatBuffer, targetQ: FloatBuffer
    let lossGradient: FloatBuffer, actionGradient: FloatBuffer
    /// Each critic's loss of the current update (written by its own thread in `trainCritics`).
    let criticLosses = FloatBuffer(count: 2)
    /// Batch-of-one scratch for acting.
    let actNoise: FloatBuffer, actAction: FloatBuffer, actLogProb: FloatBuffer

    init(config: AgentConfig, observationSize: Int, actionLow: [Double], actionHigh: [Double], totalUpdates: Int,
         actorOutputs: Int, targetActor: Bool, seed: UInt64, noiseInputs: Int = 0) throws {
        let factory = try AgentCore.networkFactory(config, totalUpdates: totalUpdates)
        self.observationSize = observationSize
        self.noiseInputs = noiseInputs
        noiseGenerator = Generator(seed: seed).derived(0x4e4f495345)  // "NOISE", as NoiseFeaturesEnvironment
        self.actionSize = actionLow.count
        bounds = ActionBounds(low: actionLow.map { Float($0) }, high: actionHigh.map { Float($0) })
        var g = Generator(seed: seed)
        let inputs = observationSize + noiseInputs
        let (actorSparsity, criticSparsity) = try factory.budgets(observationSize: inputs,
                                                                  actionSize: actionLow.count, actorOutputs: actorOutputs)
        let actorSpec = try factory.spec(input: inputs, output: actorOutputs, sparsity: actorSparsity)
        let criticSpec = try factory.spec(input: inputs + actionSize, output: 1, sparsity: criticSparsity)
        actor = MLP(spec: actorSpec, generator: &g)
        critics = [MLP(spec: criticSpec, generator: &g), MLP(spec: criticSpec, generator: &g)]
        targetCritics = critics.map { $0.copy() }
        targetActors = targetActor ? [actor.copy()] : []
        actorAdam = factory.adam(learningRate: config.actorLR)
        criticAdam = factory.adam(learningRate: config.criticLR)
        actorUpdater = try factory.updater(for: actorSpec, sparsity: actorSparsity)
        criticUpdaters = try critics.map { _ in try factory.updater(for: criticSpec, sparsity: criticSparsity) }
        targetTopology = factory.targetTopology
        batchSize = config.batchSize
        let A = actionSize, B = config.batchSize
        batchAction = FloatBuffer(count: A * B); batchNoise = FloatBuffer(count: A * B)
        batchLogProb = FloatBuffer(count: B); targetQ = FloatBuffer(count: B)
        lossGradient = FloatBuffer(count: B); actionGradient = FloatBuffer(count: A * B)
        actNoise = FloatBuffer(count: A); actAction = FloatBuffer(count: A); actLogProb = FloatBuffer(count: 1)
        super.init(config: config, generator: g.derived(0x5EED))
        networks = listNetworks()
    }

    /// The actor (policy), the critics (value), their targets, then the actor's target if any: the order
    /// checkpoints store them in.
    override func listNetworks() -> [AgentNetwork] {
        var list = [AgentNetwork(name: "actor", role: .policy, network: actor, optimizer: actorAdam)]
        for (k, c) in critics.enumerated() {
            list.append(AgentNetwork(name: "critic\(k + 1)", role: .value, network: c, optimizer: criticAdam))
        }
        for (k, t) in targetCritics.enumerated() {
            list.append(AgentNetwork(name: "target_critic\(k + 1)", role: .target(of: "critic\(k + 1)"), network: t, optimizer: nil))
        }
        for t in targetActors { list.append(AgentNetwork(name: "target_actor", role: .target(of: "actor"), network: t, optimizer: nil)) }
        return list
    }

    /// Overall weight sparsity of one network, or of several taken together.
    public static func sparsity(of nets: MLP...) -> Double { weightSparsity(nets) }

    // MARK: shared steps

    /// Input rows before the action rows: the observation, then the noise features if the agent draws them.
    var observationRows: Int { observationSize + noiseInputs }

    /// Writes a batch of observations (feature-major) into a network's input, followed by fresh noise features when
    /// the agent draws them (ANF: every forward pass sees new noise; the replay buffer holds only the real part).
    func loadObservations(_ input: UnsafeMutablePointer<Float>, from observations: UnsafePointer<Float>, batch B: Int) {
        input.update(from: observations, count: observationSize * B)
        for i in 0..<(noiseInputs * B) { input[observationSize * B + i] = Float(noiseGenerator.normal()) }
    }

    /// Writes (s, a) into a critic's input rows: observation rows first (with the noise features), then action rows
    /// (feature-major). Not thread-safe with noise features: fill inputs before any `Parallel` section.
    func fillCriticInput(_ ws: Workspace, observations: UnsafePointer<Float>, actions: UnsafePointer<Float>) {
        let B = ws.batch
        loadObservations(ws.input.pointer, from: observations, batch: B)
        (ws.input.pointer + observationRows * B).update(from: actions, count: actionSize * B)
    }

    /// The action rows of a critic's input (observation rows first): the only input gradient an actor step needs.
    var criticActionRows: Range<Int> { observationRows..<(observationRows + actionSize) }

    /// targetQ[b] ← min_k Q̄_k(s′_b, a′_b), with a′ the next-state actions already in `batchAction`.
    /// The target critics run side by side with `--threads` > 1 (`Parallel`); the minimum is taken afterwards in
    /// critic order, so the result does not depend on the thread count.
    func fillMinTargetQ(nextObservations: UnsafePointer<Float>) {
        let B = batchSize
        // Inputs in critic order first (noise features draw from one generator), then the forward passes side by side.
        for target in targetCritics { fillCriticInput(target.workspace(batch: B), observations: nextObservations, actions: batchAction.pointer) }
        Parallel.forEach(targetCritics.count) { k in targetCritics[k].forward(targetCritics[k].workspace(batch: B)) }
        for b in 0..<B { targetQ[b] = .infinity }
        for target in targetCritics {
            let q = target.workspace(batch: B).output
            for b in 0..<B { targetQ[b] = min(targetQ[b], q[b]) }
        }
    }

    /// One regression step of every critic toward `targetQ` on (s, a) of the batch; returns (sum of losses, mean Q).
    /// The critics' gradient steps run side by side with `--threads` > 1; their topology updates (which draw from
    /// the agent's generator) follow in critic order. The critics share nothing, so this computes exactly what
    /// step-then-evolve per critic in turn does.
    func trainCritics(_ batch: ReplayBatch) throws -> (loss: Double, meanQ: Double) {
        for critic in critics { fillCriticInput(critic.workspace(batch: batchSize), observations: batch.observations, actions: batch.actions) }
        Parallel.forEach(critics.count) { k in
            let critic = critics[k], ws = critic.workspace(batch: batchSize)
            critic.forward(ws)
            let loss = meanSquaredError(prediction: ws.output.pointer, target: targetQ.pointer, count: batchSize,
                                        gradient: ws.outputGradient.pointer)
            criticLosses[k] = loss
            guard loss.isFinite else { return }
            critic.backward(ws)
            criticAdam.step(critic)
        }
        var total = 0.0, meanQ = 0.0
        for (k, critic) in critics.enumerated() {
            let loss = criticLosses[k], ws = critic.workspace(batch: batchSize)
            guard loss.isFinite else { throw NonFiniteLossError(update: updates, network: "critic\(k + 1)", value: Double(loss)) }
            if k == 0 { for b in 0..<batchSize { meanQ += Double(ws.output[b]) }; meanQ /= Double(batchSize) }
            afterOptimizerStep(critic, name: "critic\(k + 1)", updater: criticUpdaters[k], workspace: ws)
            total += Double(loss)
        }
        return (total, meanQ)
    }

    /// SAC's mean action and TD3's action alike: tanh of the actor's first A outputs, scaled into the bounds.
    public var deterministicPolicy: DeterministicPolicy {
        DeterministicPolicy(network: actor, output: .squashed(scale: bounds.scale, offset: bounds.offset))
    }

    /// The actor's whole optimizer step after its backward pass on `workspace` (Adam, analyses, topology, ReDo).
    func optimizeActor(workspace: Workspace) {
        optimize(actor, name: "actor", adam: actorAdam, updater: actorUpdater, workspace: workspace)
    }

    override var updaters: [(any SparsityUpdater)?] { [actorUpdater] + criticUpdaters }

    /// Adds this update's FLOPs as the papers count them (`LayerCost`: forward 2·live·batch, backward twice that):
    /// training of each critic, forward passes of the target networks, and on actor steps the actor's training
    /// plus the critic forward and input-gradient passes it needs. Computed from the current live counts each
    /// update (O(layers), no allocation), so topology and target-sparsity changes count from the step they happen.
    func countFLOPs(actorSteps: Double) {
        let B = batchSize
        func forward(_ n: MLP) -> Double { AgentCore.forwardFLOPs(n, batch: B) }
        func training(_ n: MLP) -> Double { AgentCore.trainingFLOPs(n, batch: B) }
        // By role: value networks train; targets of value networks run forward; the next-state actions come from
        // the policy's target if it has one, else from the policy.
        var flops = 0.0, valueForwards = 0.0
        var policy = actor, nextActions: MLP?
        for n in networks {
            switch n.role {
            case .policy: policy = n.network
            case .value: flops += training(n.network); valueForwards += forward(n.network)
            case .target(of: let online): if online == "actor" { nextActions = n.network } else { flops += forward(n.network) }
            }
        }
        flops += forward(nextActions ?? policy)
        if actorSteps > 0 {
            // Actor training, plus a critic forward and a backward pass for the action gradient (≈ 2 forwards).
            flops += actorSteps * (training(policy) + 3 * valueForwards)
        }
        trainingFLOPs += flops
    }

    /// Soft (or, with τ = 1, hard) target update of the target critics, and of the target actor when `actor` is
    /// set (TD3), following the method's target-topology convention. Called every update: no array literals or
    /// zips, which allocate.
    func updateTargets(actor: Bool = false) {
        let outer = profiler?.enter(.targetUpdate)
        defer { if let outer { profiler?.enter(outer) } }
        // Independent networks: side by side with `--threads` > 1.
        Parallel.forEach(critics.count + (actor ? targetActors.count : 0)) { k in
            if k < critics.count { updateTarget(targetCritics[k], toward: critics[k]) } else { updateTarget(targetActors[k - critics.count], toward: self.actor) }
        }
    }

    func updateTarget(_ target: MLP, toward online: MLP) {
        target.softUpdate(toward: online, tau: Float(config.tau), topology: targetTopology)
    }

    /// Converts an observation (Double) into a batch-of-one network input.
    func loadObservation(_ observation: UnsafeBufferPointer<Double>, into ws: Workspace) {
        precondition(observation.count == observationSize)
        for i in 0..<observationSize { ws.input[i] = Float(observation[i]) }
        for i in 0..<noiseInputs { ws.input[observationSize + i] = Float(noiseGenerator.normal()) }
    }

    // MARK: checkpoint state

    override func adoptCheckpointNetworks(_ decoded: [MLP]) {
        // In `networks` order: actor, critics, target critics, target actors.
        var rest = decoded[...]
        func take(_ n: Int) -> [MLP] { defer { rest = rest.dropFirst(n) }; return Array(rest.prefix(n)) }
        actor = take(1)[0]
        critics = take(critics.count)
        targetCritics = take(targetCritics.count)
        targetActors = take(targetActors.count)
    }

    override func encodeAfterNetworks(into w: inout ByteWriter) throws {
        if noiseInputs > 0 { w.write(noiseGenerator.stateWords) }  // only then: checkpoints of other runs are unchanged
    }

    override func decodeAfterNetworks(from r: inout ByteReader) throws {
        if noiseInputs > 0 {
            let noise = try r.read([UInt64].self)
            guard noise.count == 4 else { throw FormatError.corrupt("noise-feature generator state") }
            noiseGenerator = Generator(stateWords: noise)
        }
    }
}
