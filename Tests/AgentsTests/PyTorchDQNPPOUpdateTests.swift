import Foundation
import SparrowCore
import XCTest
@testable import Agents
@testable import NeuralNet

/// One DQN update and one PPO minibatch step against the same steps written in PyTorch (`torch.optim.Adam`), as
/// `PyTorchUpdateTests` holds SAC and TD3: `tools/twins/pytorch_dqn_ppo_update.py` read the weights and the data
/// Sparrow wrote (`<case>.input.json`) and wrote the losses and every network after the step
/// (`<case>.output.json`), in float32 and again in float64. Both are committed in Fixtures/pytorch-update-dqn-ppo;
/// this test rebuilds each agent from its seed, checks it still holds the input, runs Sparrow's step and compares,
/// entry by entry, to 1e-5 relative plus twice PyTorch's own float32-vs-float64 distance (the rule of
/// `PyTorchUpdateTests`).
///
/// - DQN (Huber δ = 1 and squared TD loss, dense and truly sparse): the target max_a Q̄(s′, a) over a target network
///   that differs from Q (its weights are perturbed before the update), `notTerminated` masking, reward scale, the
///   mean loss, one Adam step (coupled weight decay on weights and biases in the squared cases), and the soft target
///   sync of the same update (interval 1, τ 0.3). Compared: TD loss, mean Q, Q's weights and both Adam moments, Q̄.
/// - PPO (dense and truly sparse, tanh actor, ReLU value network): `beginLearning` on a rollout with a termination,
///   a truncation and a running last episode (observation and reward normalisers, values, bootstraps, GAE) —
///   PyTorch recomputes all of it from the raw rollout, and Sparrow's advantages and returns are compared — then the
///   first minibatch at the permutation Sparrow drew: advantages normalised within the minibatch, clipped surrogate
///   (old log-probabilities off the current policy, so some ratios are clipped), entropy bonus, c_v·mean (V − R)²,
///   one global-norm clip over both networks and ρ (the norm is above the limit, so it scales), coupled weight decay
///   on kernels after the clip, Adam on the actor with ρ and on the value network. Compared: both reported losses,
///   every weight, ρ and both Adam moments of each.
///
/// Sparse cases run Sparrow's truly sparse layers (static topology, sparsity 0.7, masked moments) against PyTorch's
/// dense layers with the mask applied to gradients and both moments before the step and to the weights after it.
///
/// PyTorch's own float32 error is at most 3e-5 relative here (ppo-sparse's GAE advantages), and Sparrow uses at most
/// a quarter of what the rule allows. Scaling PyTorch's TD or value loss by 1.001 breaks the test by a factor of
/// 95–101; a Huber δ of 1.1 or a clip ratio of 0.25 by factors of thousands.
///
/// To re-make the fixtures:
///     SPARROW_WRITE_UPDATE_INPUTS=Tests/AgentsTests/Fixtures/pytorch-update-dqn-ppo \
///       swift test -c release -Xswiftc -enable-testing --filter PyTorchDQNPPOUpdateTests
///     .build-sb3/venv/bin/python tools/twins/pytorch_dqn_ppo_update.py Tests/AgentsTests/Fixtures/pytorch-update-dqn-ppo
final class PyTorchDQNPPOUpdateTests: XCTestCase {
    struct Case {
        let name: String
        let algorithm: AgentConfig.Algorithm
        let sparse: Bool
        var tdLoss: AgentConfig.TDLoss = .huber
    }
    static let cases = [Case(name: "dqn-huber-dense", algorithm: .dqn, sparse: false, tdLoss: .huber),
                        Case(name: "dqn-huber-sparse", algorithm: .dqn, sparse: true, tdLoss: .huber),
                        Case(name: "dqn-squared-dense", algorithm: .dqn, sparse: false, tdLoss: .squared),
                        Case(name: "dqn-squared-sparse", algorithm: .dqn, sparse: true, tdLoss: .squared),
                        Case(name: "ppo-dense", algorithm: .ppo, sparse: false),
                        Case(name: "ppo-sparse", algorithm: .ppo, sparse: true)]
    static let observationSize = 5, choices = 4, low: [Double] = [-1, -2], high: [Double] = [1, 0.5]
    static let batchSize = 8, rolloutSteps = 32

    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/pytorch-update-dqn-ppo") }

    func config(_ c: Case) -> AgentConfig {
        var a = AgentConfig()
        a.algorithm = c.algorithm
        a.method = c.sparse ? .static : .dense
        a.sparsity = c.sparse ? 0.7 : 0
        a.backend = .sparse
        a.moments = .masked
        a.denseOutputLayer = !c.sparse  // sparse cases: every layer truly sparse
        a.hidden = [16, 16]
        a.batchSize = Self.batchSize
        a.gamma = 0.97
        a.rewardScale = 1.5
        switch c.algorithm {
        case .dqn:
            a.tdLoss = c.tdLoss
            a.criticLR = 2e-3
            a.tau = 0.3  // soft, so the sync shows both networks
            a.targetUpdateInterval = 1  // the sync happens in this update
            a.weightDecay = c.tdLoss == .squared ? 0.01 : 0  // coupled, biases too (decayBiases)
        default:
            a.activation = .tanh
            a.valueActivation = .relu
            a.initialization = c.sparse ? .sparsityAware : .orthogonal
            a.rolloutSteps = Self.rolloutSteps
            a.epochs = 2
            a.actorLR = 3e-3; a.criticLR = 2e-3
            a.adamEpsilon = 1e-5
            a.weightDecay = 2e-3  // kernels only, after the clip (PPO)
            a.clipRatio = 0.2
            a.valueCoef = 0.5
            a.entropyCoef = 0.01
            a.maxGradNorm = 0.5
        }
        return a
    }

    // MARK: DQN

    func makeDQN(_ c: Case) throws -> DQN {
        let agent = try DQN(config: config(c), observationSize: Self.observationSize, choices: Self.choices,
                            totalUpdates: 1000, seed: 11)
        // A target network apart from Q (as after some updates), so the max and the sync are seen on their own.
        var g = Generator(seed: 5)
        for layer in agent.targetQ.layers {
            layer.weight.setValues(layer.weight.values.map { $0 + Float(0.1 * g.normal()) })
            layer.bias.setValues(layer.bias.values.map { $0 + Float(0.1 * g.normal()) })
        }
        return agent
    }

    /// The batch, feature-major as ReplayBatch holds it; actions are indices; every third sample terminated.
    func makeDQNBatch() -> ReplayBatch {
        let B = Self.batchSize, O = Self.observationSize
        let batch = ReplayBatch(size: B, observationSize: O, actionSize: 1)
        var g = Generator(seed: 99)
        for i in 0..<O * B { batch.observations[i] = Float(g.normal()); batch.nextObservations[i] = Float(g.normal()) }
        for b in 0..<B {
            batch.actions[b] = Float(g.nextInt(below: Self.choices))
            batch.rewards[b] = Float(g.normal())
            batch.notTerminated[b] = b % 3 == 2 ? 0 : 1
        }
        return batch
    }

    func dqnInput(_ c: Case, agent: DQN, batch: ReplayBatch) -> [String: Any] {
        let B = Self.batchSize, O = Self.observationSize, cfg = agent.config
        return [
            "algorithm": "dqn", "sparse": c.sparse, "td_loss": cfg.tdLoss.rawValue, "choices": Self.choices,
            "gamma": cfg.gamma, "tau": cfg.tau, "target_update_interval": cfg.targetUpdateInterval,
            "critic_lr": cfg.criticLR, "adam_eps": cfg.adamEpsilon, "weight_decay": cfg.weightDecay,
            "decay_biases": cfg.decayBiases, "reward_scale": cfg.rewardScale, "batch_size": B,
            "observations": PyTorchUpdateTests.columns(batch.observations, rows: O, batch: B),
            "next_observations": PyTorchUpdateTests.columns(batch.nextObservations, rows: O, batch: B),
            "actions": (0..<B).map { Int(batch.actions[$0]) },
            "rewards": (0..<B).map { Double(batch.rewards[$0]) },
            "not_terminated": (0..<B).map { Double(batch.notTerminated[$0]) },
            "networks": Dictionary(uniqueKeysWithValues: agent.networks.map { ($0.name, PyTorchUpdateTests.network($0.network)) }),
        ]
    }

    // MARK: PPO

    func makePPO(_ c: Case) throws -> PPO {
        try PPO(config: config(c), observationSize: Self.observationSize, actionLow: Self.low, actionHigh: Self.high,
                totalIterations: 10, seed: 11)
    }

    /// A full rollout as a collector would leave it: a termination at t = 9, a truncation at t = 20 (bootstrapped from
    /// its final observation), the last step's episode still running. Observations are off-centre and scaled so the
    /// normaliser matters; each action's stored log-probability is the current policy's (under the normaliser
    /// `beginLearning` will compute) plus noise, so the first minibatch's ratios straddle the clip range.
    func makeRollout(_ agent: PPO) -> RolloutBuffer {
        let n = Self.rolloutSteps, d = Self.observationSize, A = Self.low.count
        var g = Generator(seed: 77)
        let observations = (0..<n * d).map { i in Float(g.normal() * Double(i % d + 1) + Double(i % d) - 2) }
        let finals = (0..<n * d).map { i in Float(g.normal() * Double(i % d + 1) + Double(i % d) - 2) }
        let actions = (0..<n * A).map { i in Float(g.normal() * 0.6 + (i % A == 1 ? -0.7 : 0)) }
        let rewards = (0..<n).map { _ in g.normal() * 2 + 0.5 }
        // The policy's log-probabilities under the statistics beginLearning will have (a fresh normaliser's first batch).
        var stats = RunningMeanStd(dimension: d)
        stats.update(observations, rows: n)
        let ws = agent.actor.workspace(batch: n)
        for t in 0..<n { for j in 0..<d { ws.input[j * n + t] = stats.normalize(Double(observations[t * d + j]), feature: j) } }
        agent.actor.forward(ws)
        var featureMajor = [Float](repeating: 0, count: A * n), logProbs = [Float](repeating: 0, count: n)
        for t in 0..<n { for j in 0..<A { featureMajor[j * n + t] = actions[t * A + j] } }
        featureMajor.withUnsafeBufferPointer { a in
            logProbs.withUnsafeMutableBufferPointer { lp in
                agent.policy.logProb(ws.output.pointer, rho: agent.rho.values, actions: a.baseAddress!, batch: n, into: lp.baseAddress!)
            }
        }
        let rollout = RolloutBuffer(capacity: n, observationSize: d, actionSize: A)
        for t in 0..<n {
            let o = (0..<d).map { Double(observations[t * d + $0]) }, next = (0..<d).map { Double(finals[t * d + $0]) }
            let a = Array(actions[t * A..<(t + 1) * A])
            o.withUnsafeBufferPointer { o in
                a.withUnsafeBufferPointer { a in
                    next.withUnsafeBufferPointer { next in
                        rollout.add(observation: o, action: a, logProb: logProbs[t] + Float(0.3 * g.normal()), reward: rewards[t],
                                    terminated: t == 9, truncated: t == 20, next: next)
                    }
                }
            }
        }
        return rollout
    }

    /// The input after `beginLearning` (which changes no weight): the raw rollout, the permutation it drew, the networks.
    func ppoInput(_ c: Case, agent: PPO, rollout: RolloutBuffer) -> [String: Any] {
        let n = rollout.capacity, d = Self.observationSize, A = Self.low.count, cfg = agent.config
        func rows(_ v: [Float], _ width: Int) -> [[Double]] { (0..<n).map { t in (0..<width).map { Double(v[t * width + $0]) } } }
        let frac = cfg.lrDecay ? 1 - Double(agent.iterations) / Double(agent.totalIterations) : 1
        return [
            "algorithm": "ppo", "sparse": c.sparse, "action_low": Self.low, "action_high": Self.high,
            "gamma": cfg.gamma, "gae_lambda": cfg.gaeLambda, "clip_ratio": cfg.clipRatio, "value_coef": cfg.valueCoef,
            "entropy_coef": cfg.entropyCoef, "max_grad_norm": cfg.maxGradNorm,
            "actor_lr": cfg.actorLR * frac, "critic_lr": cfg.criticLR * frac, "adam_eps": cfg.adamEpsilon,
            "weight_decay": cfg.weightDecay, "reward_scale": cfg.rewardScale,
            "normalize_observations": cfg.normalizeObservations, "normalize_rewards": cfg.normalizeRewards,
            "activation": cfg.activation.rawValue, "value_activation": (cfg.valueActivation ?? cfg.activation).rawValue,
            "batch_size": Self.batchSize, "minibatch": rollout.minibatch,
            "observations": rows(rollout.observations, d), "actions": rows(rollout.actions, A),
            "log_probs": rollout.logProbs.map(Double.init), "rewards": rollout.rewards.map(Double.init),
            "episode_ends": rollout.episodeEnds, "has_bootstrap": rollout.hasBootstrapObservation,
            "bootstrap_observations": rows(rollout.bootstrapObservations, d),
            "permutation": rollout.permutation.map(Int.init),
            "networks": Dictionary(uniqueKeysWithValues: agent.networks.map { ($0.name, PyTorchUpdateTests.network($0.network)) }),
            "rho": Self.rho(agent),
        ]
    }

    static func rho(_ agent: PPO) -> [String: Any] {
        ["value": agent.rho.values.map(Double.init), "m": agent.rho.firstMoment.map(Double.init),
         "v": agent.rho.secondMoment.map(Double.init)]
    }

    // MARK: the test

    /// Builds the case's agent and data and returns the input and the step to run (with the agent, and PPO's rollout).
    func prepare(_ c: Case) throws -> (input: [String: Any], step: () throws -> (agent: AnyObject, metrics: UpdateMetrics, rollout: RolloutBuffer?)) {
        switch c.algorithm {
        case .dqn:
            let agent = try makeDQN(c), batch = makeDQNBatch()
            return (dqnInput(c, agent: agent, batch: batch), { (agent, try agent.update(batch), nil) })
        default:
            let agent = try makePPO(c), rollout = makeRollout(agent)
            agent.beginLearning(rollout)
            return (ppoInput(c, agent: agent, rollout: rollout), { (agent, try agent.learnMinibatch(rollout), rollout) })
        }
    }

    func testOneUpdateMatchesPyTorch() throws {
        if let dir = ProcessInfo.processInfo.environment["SPARROW_WRITE_UPDATE_INPUTS"], !dir.isEmpty {
            for c in Self.cases {
                let data = try JSONSerialization.data(withJSONObject: try prepare(c).input, options: [.sortedKeys])
                try data.write(to: URL(fileURLWithPath: dir).appendingPathComponent("\(c.name).input.json"))
            }
            return
        }
        for c in Self.cases {
            let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("\(c.name).input.json"))) as! [String: Any]
            let (input, step) = try prepare(c)
            // The fixture still describes this agent (both sides through one JSON writer).
            let now = try JSONSerialization.jsonObject(with: JSONSerialization.data(withJSONObject: input, options: [.sortedKeys])) as! [String: Any]
            XCTAssertEqual(NSDictionary(dictionary: now), NSDictionary(dictionary: stored), "\(c.name): the input fixture is this agent's")

            let (agent, metrics, learned) = try step()
            let out = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("\(c.name).output.json"))) as! [String: Any]
            let exact = out["float64"] as! [String: Any]
            // Per quantity, the worst entry: Sparrow (float32) within 1e-5 relative (to the larger magnitude, floored at
            // 1e-2) plus twice PyTorch's own float32 distance of the float64 result.
            var worst: [String: (excess: Double, detail: String)] = [:]
            func close(_ a: Double, _ b: Double, _ b64: Double, _ what: String, _ index: String = "") {
                let allowed = 1e-5 * max(abs(a), abs(b), 1e-2) + 2 * abs(b - b64)
                let excess = abs(a - b64) / allowed  // ≤ 1 passes
                if excess > (worst[what]?.excess ?? -1) {
                    worst[what] = (excess, "\(index): Sparrow \(a), PyTorch \(b) (float64 \(b64))")
                }
            }
            func flat(_ x: Any?) -> [Double] { (x as? [[Double]])?.flatMap { $0 } ?? (x as! [Double]) }
            func compare(_ mine: [Double], _ key: String, in o: [String: Any], _ o64: [String: Any], _ what: String) {
                let y = flat(o[key]), y64 = flat(o64[key])
                XCTAssertEqual(mine.count, y.count, "\(c.name) \(what) size")
                for i in mine.indices where i < y.count { close(mine[i], y[i], y64[i], what, "[\(i)]") }
            }
            func compareNetworks(_ networks: [AgentNetwork]) throws {
                let nets = out["networks"] as! [String: [[String: Any]]], nets64 = exact["networks"] as! [String: [[String: Any]]]
                for n in networks {
                    let mine = PyTorchUpdateTests.network(n.network), theirs = try XCTUnwrap(nets[n.name], "\(n.name) in the output")
                    let theirs64 = try XCTUnwrap(nets64[n.name])
                    XCTAssertEqual(mine.count, theirs.count)
                    for l in mine.indices {
                        for key in ["weight", "weight_m", "weight_v", "bias", "bias_m", "bias_v"] where n.optimizer != nil || !key.contains("_") {
                            compare(flat(mine[l][key]), key, in: theirs[l], theirs64[l], "\(n.name) layer \(l) \(key)")
                        }
                        XCTAssertEqual(mine[l]["mask"] as! [[Double]], theirs[l]["mask"] as! [[Double]], "\(n.name) layer \(l) topology")
                    }
                }
            }
            func scalar(_ value: Double, _ key: String, _ what: String) {
                close(value, out[key] as! Double, exact[key] as! Double, what)
            }
            if let dqn = agent as? DQN {
                scalar(metrics.criticLoss, "td_loss", "TD loss")
                scalar(metrics.meanQ, "mean_q", "mean Q")
                try compareNetworks(dqn.networks)
            } else if let ppo = agent as? PPO {
                scalar(metrics.actorLoss, "policy_loss", "policy loss (surrogate − c_e·entropy)")
                scalar(metrics.criticLoss, "value_loss", "value loss")
                XCTAssertGreaterThan(out["grad_norm"] as! Double, ppo.config.maxGradNorm, "\(c.name): the clip must scale")
                let clipped = out["clip_fraction"] as! Double
                XCTAssertTrue(clipped > 0 && clipped < 1, "\(c.name): some ratios clipped, not all (\(clipped))")
                let rollout = try XCTUnwrap(out["rollout"] as? [String: Any]), rollout64 = exact["rollout"] as! [String: Any]
                // Sparrow's rollout after the step still holds what beginLearning computed.
                let r = try XCTUnwrap(learned)
                compare(r.advantages.map(Double.init), "advantages", in: rollout, rollout64, "GAE advantages")
                compare(r.returns.map(Double.init), "returns", in: rollout, rollout64, "returns")
                try compareNetworks(ppo.networks)
                let rho = Self.rho(ppo), theirs = out["rho"] as! [String: Any], theirs64 = exact["rho"] as! [String: Any]
                for key in ["value", "m", "v"] { compare(rho[key] as! [Double], key, in: theirs, theirs64, "ρ \(key)") }
            }
            for (what, w) in worst.sorted(by: { $0.key < $1.key }) {
                XCTAssertLessThanOrEqual(w.excess, 1, "\(c.name) \(what) \(w.detail)")
                if ProcessInfo.processInfo.environment["SPARROW_TWIN_REPORT"] != nil {
                    print(String(format: "%@ %@: worst difference %.3f of the allowed", c.name, what, w.excess))
                }
            }
        }
    }
}
