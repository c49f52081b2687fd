import NeuralNet
import SparrowCore

/// ε over training: linear from `start` to `final` over the first `decayUpdates` updates, then `final` (0 updates:
/// `final` from the first learning step on, as TF-Agents' constant `epsilon_greedy` in rigl/rl's DQN, where the
/// initial random-collect steps — Sparrow's `start-steps` — play the part of ε = 1).
public struct EpsilonSchedule: Equatable, Sendable {
    public let start: Double
    public let final: Double
    public let decayUpdates: Int

    public init(start: Double, final: Double, decayUpdates: Int) {
        self.start = start; self.final = final; self.decayUpdates = max(decayUpdates, 0)
    }

    /// ε for the action chosen after `updates` gradient updates.
    public func value(afterUpdates updates: Int) -> Double {
        guard updates < decayUpdates else { return final }
        return start + (final - start) * Double(updates) / Double(decayUpdates)
    }
}

/// Deep Q-learning (Mnih et al. 2015) as TF-Agents' `DqnAgent` runs in rigl/rl's `dqn_gym_*` configs (Graesser et
/// al.): one Q network (observation → one value per action) over dense, masked or truly sparse layers, a target
/// copy synced every `target-update-interval` updates (τ = 1), ε-greedy exploration.
///
/// One update:
/// 1. y = scale·r + γ·(1 − terminated)·max_a Q̄(s′, a) (bootstrapped through truncations, which are not terminal)
/// 2. loss = mean_b ℓ(Q(s_b, a_b) − y_b) with ℓ Huber (δ = 1) or squared (`td-loss`); Adam step on the Q network
///    (learning rate `critic-lr`), then its topology update or pruning step
/// 3. every `target-update-interval` updates: Q̄ ← τ·Q + (1 − τ)·Q̄ with the method's target topology
///
/// Actions are indices; the replay buffer and `act` hold them as one Float.
public final class DQN: AgentCore, OffPolicyAgent {
    public let observationSize: Int
    /// The number of discrete actions.
    public let choices: Int
    public private(set) var q: MLP
    public private(set) var targetQ: MLP
    let adam: Adam
    /// The method's updater of the Q network (nil: its topology never changes).
    let updater: (any SparsityUpdater)?
    let targetTopology: TargetTopology
    public let epsilon: EpsilonSchedule
    let batchSize: Int
    /// The regression targets of the current batch.
    let targets: FloatBuffer
    /// What every observation value is multiplied by on its way into the Q network: 1/255 for the Nature CNN, whose
    /// frames arrive as bytes 0…255 (Dopamine's and rigl/rl's `x / 255` inside the network), else 1.
    public let inputScale: Float
    public var policyHead: PolicyHeadKind { .argmax }
    public var deterministicPolicy: DeterministicPolicy {
        DeterministicPolicy(inputScale: inputScale, network: q, output: .argmax(choices: choices))
    }

    public init(config: AgentConfig, observationSize: Int, choices: Int, totalUpdates: Int, seed: UInt64) throws {
        let factory = try AgentCore.networkFactory(config, totalUpdates: totalUpdates)
        guard choices >= 2 else { throw ConfigError("dqn needs at least 2 discrete actions, got \(choices)") }
        self.observationSize = observationSize
        self.choices = choices
        var g = Generator(seed: seed)
        // One network: the critic budget is its budget (so `--critic-sparsity` and `--sparsity` both work).
        let sparsity = config.effectiveCriticSparsity
        let spec = try factory.spec(input: observationSize, output: choices, sparsity: sparsity)
        q = MLP(spec: spec, generator: &g)
        targetQ = q.copy()
        adam = factory.adam(learningRate: config.criticLR)
        updater = try factory.updater(for: spec, sparsity: sparsity)
        targetTopology = factory.targetTopology
        let decay = config.epsilonDecaySteps.map { $0 / max(config.updateEvery, 1) }
            ?? Int(config.epsilonDecay * Double(max(totalUpdates, 1)))
        epsilon = EpsilonSchedule(start: config.epsilonStart, final: config.epsilonFinal, decayUpdates: decay)
        inputScale = config.network.readsFrames ? 1 / 255 : 1
        batchSize = config.batchSize
        targets = FloatBuffer(count: config.batchSize)
        super.init(config: config, generator: g.derived(0x5EED))
        networks = listNetworks()
    }

    override func listNetworks() -> [AgentNetwork] {
        [AgentNetwork(name: "q", role: .value, network: q, optimizer: adam),
         AgentNetwork(name: "target_q", role: .target(of: "q"), network: targetQ, optimizer: nil)]
    }

    override func adoptCheckpointNetworks(_ decoded: [MLP]) { q = decoded[0]; targetQ = decoded[1] }

    override var updaters: [(any SparsityUpdater)?] { [updater] }

    /// ε-greedy action index, written as one Float; `deterministic` (evaluation) uses `eval-epsilon`, greedy at 0
    /// (no random draw then, so greedy evaluations leave the generator alone).
    public func act(_ observation: UnsafeBufferPointer<Double>, deterministic: Bool, into action: UnsafeMutableBufferPointer<Float>) {
        Subnormals.flushed {
            let explore = deterministic
                ? config.evalEpsilon > 0 && generator.nextDouble() < config.evalEpsilon
                : generator.nextDouble() < epsilon.value(afterUpdates: updates)
            if explore {
                action[0] = Float(generator.nextInt(below: choices))
                return
            }
            let ws = q.workspace(batch: 1)
            precondition(observation.count == observationSize)
            for i in 0..<observationSize { ws.input[i] = Float(observation[i]) * inputScale }
            q.forward(ws)
            action[0] = Float(argmax(ws.output.pointer, count: choices))
        }
    }

    /// One gradient update (`AgentCore.countedUpdate`: counted, timed, subnormals flushed).
    public func update(_ batch: ReplayBatch) throws -> UpdateMetrics {
        try countedUpdate { try learn(batch) }
    }

    private func learn(_ batch: ReplayBatch) throws -> UpdateMetrics {
        let B = batchSize, n = choices
        let gamma = Float(config.gamma), scale = Float(config.rewardScale)

        // 1. Targets from the target network.
        let tws = targetQ.workspace(batch: B)
        load(batch.nextObservations, into: tws)
        targetQ.forward(tws)
        for b in 0..<B {
            let best = tws.output[argmax(tws.output.pointer + b, count: n, stride: B) * B + b]
            targets[b] = scale * batch.rewards[b] + gamma * batch.notTerminated[b] * best
        }

        // 2. Regression of Q(s, a) on the taken actions only: the other outputs get zero gradient.
        let ws = q.workspace(batch: B)
        load(batch.observations, into: ws)
        q.forward(ws)
        ws.outputGradient.pointer.update(repeating: 0, count: n * B)
        var loss = 0.0, meanQ = 0.0
        let invB = 1 / Float(B)
        for b in 0..<B {
            let a = min(max(Int(batch.actions[b]), 0), n - 1)
            let i = a * B + b
            let d = ws.output[i] - targets[b]
            switch config.tdLoss {
            case .huber:
                let h = huber(d)
                loss += Double(h.loss); ws.outputGradient[i] = h.gradient * invB
            case .squared:
                loss += Double(d * d); ws.outputGradient[i] = 2 * d * invB
            }
            meanQ += Double(ws.output[i])
        }
        loss /= Double(B); meanQ /= Double(B)
        guard loss.isFinite else { throw NonFiniteLossError(update: updates, network: "q", value: loss) }
        q.backward(ws)
        optimize(q, name: "q", adam: adam, updater: updater, workspace: ws)

        // 3. Target sync.
        if updates % config.targetUpdateInterval == 0 {
            let outer = profiler?.enter(.targetUpdate)
            defer { if let outer { profiler?.enter(outer) } }
            targetQ.softUpdate(toward: q, tau: Float(config.tau), topology: targetTopology)
        }
        countFLOPs()
        var m = UpdateMetrics()
        m.criticLoss = loss
        m.tdLoss = loss
        m.meanQ = meanQ
        return m
    }

    /// A batch of observations into a workspace's input, scaled by `inputScale`.
    private func load(_ observations: UnsafePointer<Float>, into ws: Workspace) {
        let n = observationSize * batchSize, input = ws.input.pointer
        if inputScale == 1 { input.update(from: observations, count: n); return }
        for i in 0..<n { input[i] = observations[i] * inputScale }
    }

    /// As the papers count (`LayerCost`): the Q network's training and the target network's forward pass.
    func countFLOPs() {
        trainingFLOPs += AgentCore.trainingFLOPs(q, batch: batchSize) + AgentCore.forwardFLOPs(targetQ, batch: batchSize)
    }
}

extension AlgorithmDeclaration {
    public static let dqn = AlgorithmDeclaration(
        algorithm: .dqn, summary: "DQN (Mnih et al. 2015), as TF-Agents' DqnAgent (rigl/rl) and Dopamine on Atari.",
        actions: .discrete, loop: .offPolicy,
        networks: [("q", .value), ("target_q", .target(of: "q"))],
        updateMetrics: ["critic_loss", "mean_q", "td_loss"], drawsNoiseFeatures: false,
        make: { r in
            try DQN(config: r.config, observationSize: r.observationSize, choices: r.actions.choices!,
                    totalUpdates: r.totalUpdates, seed: r.seed)
        })
}
