import Foundation
import SparrowCore
import XCTest
@testable import Agents
@testable import NeuralNet

/// One SAC and one TD3 update against the same update written in PyTorch (CleanRL-style, `torch.optim.Adam`):
/// `tools/twins/pytorch_update.py` read the weights, the batch and the noise draws Sparrow wrote
/// (`<case>.input.json`) and wrote the losses, α and every network after the step (`<case>.output.json`). Both are
/// committed in Fixtures/pytorch-update; this test rebuilds each agent from its seed, checks it still holds the
/// input's weights, runs Sparrow's update and compares the losses, α, every weight and both Adam moments with
/// PyTorch's: to 1e-5 relative, plus twice the distance between PyTorch's float32 and float64 results where the
/// float32 problem itself is that ill-conditioned (SAC's dense actor gradient here: 3.6e-5 in PyTorch itself).
///
/// A third party, `ReferenceUpdate`, is the plain double-precision twin of the same update (dense matrices, one sample at
/// a time, both critics differentiated in full): it must agree with PyTorch's float64 run to 1e-9, so the gathered
/// min-critic backward and every other shortcut in `SAC.swift` / `TD3.swift` is checked twice.
///
/// The sparse cases run Sparrow's truly sparse layers (static topology, masked Adam moments) against PyTorch's dense
/// layers with the mask applied to weights, gradients and moments.
///
/// To re-make the fixtures:
///     SPARROW_WRITE_UPDATE_INPUTS=Tests/AgentsTests/Fixtures/pytorch-update \
///       swift test -c release -Xswiftc -enable-testing --filter PyTorchUpdateTests
///     .build-sb3/venv/bin/python tools/twins/pytorch_update.py Tests/AgentsTests/Fixtures/pytorch-update
final class PyTorchUpdateTests: XCTestCase {
    struct Case {
        let name: String
        let algorithm: AgentConfig.Algorithm
        let sparse: Bool
        let autotune: Bool
    }
    static let cases = [Case(name: "sac-dense", algorithm: .sac, sparse: false, autotune: true),
                        Case(name: "sac-sparse", algorithm: .sac, sparse: true, autotune: false),
                        Case(name: "td3-dense", algorithm: .td3, sparse: false, autotune: false),
                        Case(name: "td3-sparse", algorithm: .td3, sparse: true, autotune: false)]
    static let observationSize = 5, low: [Double] = [-1, -2], high: [Double] = [1, 0.5], batchSize = 8

    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/pytorch-update") }

    func config(_ c: Case) -> AgentConfig {
        var a = AgentConfig()
        a.algorithm = c.algorithm
        a.method = c.sparse ? .static : .dense
        a.sparsity = c.sparse ? 0.7 : 0
        a.backend = .sparse
        a.moments = .masked
        a.hidden = [16, 16]
        a.batchSize = Self.batchSize
        a.tau = 0.3  // large, so the target update shows in the fixture
        a.actorLR = 3e-3; a.criticLR = 2e-3; a.alphaLR = 5e-3
        a.gamma = 0.97
        a.alpha = 0.3
        a.autotuneAlpha = c.autotune
        a.policyDelay = 1  // TD3: the actor and target step happen in this one update
        a.logStdMin = -5; a.logStdMax = 1
        return a
    }

    func makeAgent(_ c: Case) throws -> ActorCriticAgent & OffPolicyAgent {
        try Agents.makeAgent(config: config(c), observationSize: Self.observationSize, actions: .box(BoxSpace(low: Self.low, high: Self.high)),
                             totalUpdates: 1000, seed: 11) as! ActorCriticAgent & OffPolicyAgent
    }

    /// The batch, feature-major as ReplayBatch holds it, from a fixed generator.
    func makeBatch() -> ReplayBatch {
        let B = Self.batchSize, O = Self.observationSize, A = Self.low.count
        let batch = ReplayBatch(size: B, observationSize: O, actionSize: A)
        var g = Generator(seed: 99)
        for i in 0..<O * B { batch.observations[i] = Float(g.normal()); batch.nextObservations[i] = Float(g.normal()) }
        for j in 0..<A {
            for b in 0..<B { batch.actions[j * B + b] = Float(g.uniform(Self.low[j], Self.high[j])) }
        }
        for b in 0..<B { batch.rewards[b] = Float(g.normal()); batch.notTerminated[b] = b % 3 == 2 ? 0 : 1 }
        return batch
    }

    // MARK: JSON views

    static func network(_ net: MLP) -> [[String: Any]] {
        net.layers.map { layer in
            let w = layer.denseWeights(), s = layer.shape
            var mask = [Float](repeating: layer.backend == .dense ? 1 : 0, count: s.count)
            if layer.backend != .dense { for p in layer.positions { mask[Int(p)] = 1 } }
            func rows(_ v: [Float]) -> [[Double]] { (0..<s.fanOut).map { o in (0..<s.fanIn).map { Double(v[o * s.fanIn + $0]) } } }
            func dense(_ live: [Float]) -> [Float] {  // moments: live entries (sparse) or the whole matrix
                guard layer.backend == .sparse else { return live }
                var d = [Float](repeating: 0, count: s.count)
                for (k, p) in layer.positions.enumerated() { d[Int(p)] = live[k] }
                return d
            }
            return ["weight": rows(w), "bias": layer.bias.values.map(Double.init), "mask": rows(mask),
                    "weight_m": rows(dense(layer.weight.firstMoment)), "weight_v": rows(dense(layer.weight.secondMoment)),
                    "bias_m": layer.bias.firstMoment.map(Double.init), "bias_v": layer.bias.secondMoment.map(Double.init)]
        }
    }

    static func columns(_ p: UnsafePointer<Float>, rows: Int, batch: Int) -> [[Double]] {
        (0..<batch).map { b in (0..<rows).map { Double(p[$0 * batch + b]) } }  // per sample
    }

    func input(_ c: Case, agent: ActorCriticAgent, batch: ReplayBatch) -> [String: Any] {
        let B = Self.batchSize, A = Self.low.count, O = Self.observationSize
        var g = agent.generator  // the update's draws, in its order: a copy of the agent's generator
        let draws = (c.algorithm == .sac ? 2 : 1) * A * B
        let noise = (0..<draws).map { _ in g.normal() }
        let cfg = agent.config
        return [
            "algorithm": c.algorithm.rawValue, "sparse": c.sparse, "action_low": Self.low, "action_high": Self.high,
            "gamma": cfg.gamma, "tau": cfg.tau, "actor_lr": cfg.actorLR, "critic_lr": cfg.criticLR, "alpha_lr": cfg.alphaLR,
            "adam_eps": cfg.adamEpsilon, "alpha": cfg.alpha, "autotune_alpha": cfg.autotuneAlpha,
            "target_entropy": -Double(A), "log_std_min": cfg.logStdMin, "log_std_max": cfg.logStdMax,
            "policy_noise": cfg.policyNoise, "noise_clip": cfg.noiseClip, "reward_scale": cfg.rewardScale,
            // Noise in draw order: feature-major (action j of sample b at j·B + b); SAC: next-state sample, then actor step.
            "noise": noise, "batch_size": B,
            "observations": Self.columns(batch.observations, rows: O, batch: B),
            "next_observations": Self.columns(batch.nextObservations, rows: O, batch: B),
            "actions": Self.columns(batch.actions, rows: A, batch: B),
            "rewards": (0..<B).map { Double(batch.rewards[$0]) },
            "not_terminated": (0..<B).map { Double(batch.notTerminated[$0]) },
            "networks": Dictionary(uniqueKeysWithValues: agent.networks.map { ($0.name, Self.network($0.network)) }),
        ]
    }

    // MARK: the test

    func testOneUpdateMatchesPyTorch() throws {
        if let dir = ProcessInfo.processInfo.environment["SPARROW_WRITE_UPDATE_INPUTS"], !dir.isEmpty {
            for c in Self.cases {
                let agent = try makeAgent(c)
                let data = try JSONSerialization.data(withJSONObject: input(c, agent: agent, batch: makeBatch()),
                                                      options: [.sortedKeys])
                try data.write(to: URL(fileURLWithPath: dir).appendingPathComponent("\(c.name).input.json"))
            }
            return
        }
        for c in Self.cases {
            let url = fixtures.appendingPathComponent("\(c.name).input.json")
            let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            let agent = try makeAgent(c), batch = makeBatch()
            // The fixture still describes this agent: same weights, batch and noise (both sides through one JSON writer).
            let now = try JSONSerialization.jsonObject(with: JSONSerialization.data(withJSONObject: input(c, agent: agent, batch: batch),
                                                                                     options: [.sortedKeys])) as! [String: Any]
            XCTAssertEqual(NSDictionary(dictionary: now), NSDictionary(dictionary: stored), "\(c.name): the input fixture is this agent's")

            let metrics = try agent.update(batch)
            let out = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("\(c.name).output.json"))) as! [String: Any]
            // Per quantity, the worst entry. PyTorch ran the update in float32 and again in float64 from the same inputs:
            // Sparrow (float32) must be as close to the float64 result as 2× PyTorch's own float32 distance from it,
            // plus 1e-5 relative (to the larger magnitude, floored at 1e-2 so entries near zero are held to 1e-7).
            let exact = out["float64"] as! [String: Any]
            // The plain double-precision twin (ReferenceUpdate) must agree with PyTorch's float64 run to 1e-9.
            let reference = ReferenceUpdate.run(stored)
            var worst: [String: (excess: Double, detail: String)] = [:]
            func close(_ a: Double, _ b: Double, _ b64: Double, _ r: Double, _ what: String, _ index: String = "") {
                let allowed = 1e-5 * max(abs(a), abs(b), 1e-2) + 2 * abs(b - b64)
                let excess = abs(a - b64) / allowed  // ≤ 1 passes
                if excess > (worst[what]?.excess ?? -1) {
                    worst[what] = (excess, "\(index): Sparrow \(a), PyTorch \(b) (float64 \(b64))")
                }
                let twin = abs(r - b64) / (1e-9 * max(abs(r), abs(b64), 1e-2))
                if twin > (worst["reference twin: " + what]?.excess ?? -1) {
                    worst["reference twin: " + what] = (twin, "\(index): reference \(r), PyTorch float64 \(b64)")
                }
            }
            func scalar(_ key: String) -> (Double, Double, Double) {
                (out[key] as! Double, exact[key] as! Double, reference[key] as! Double)
            }
            let (cl, cl64, clr) = scalar("critic_loss"), (al, al64, alr) = scalar("actor_loss")
            close(metrics.criticLoss, cl, cl64, clr, "critic loss (sum of both)")
            close(metrics.actorLoss, al, al64, alr, "actor loss")
            if c.algorithm == .sac {
                let (alpha, alpha64, alphar) = scalar("alpha")
                close(metrics.alpha, alpha, alpha64, alphar, "α after the step")
                if c.autotune { let (l, l64, lr) = scalar("alpha_loss"); close(metrics.alphaLoss, l, l64, lr, "α loss") }
            }
            let nets = out["networks"] as! [String: [[String: Any]]], nets64 = exact["networks"] as! [String: [[String: Any]]]
            let netsRef = reference["networks"] as! [String: [[String: Any]]]
            for n in agent.networks {
                let mine = Self.network(n.network), theirs = try XCTUnwrap(nets[n.name], "\(n.name) in the output")
                let theirs64 = try XCTUnwrap(nets64[n.name]), twin = try XCTUnwrap(netsRef[n.name])
                XCTAssertEqual(mine.count, theirs.count)
                for l in mine.indices {
                    let (a, b, b64, r) = (mine[l], theirs[l], theirs64[l], twin[l])
                    for key in ["weight", "weight_m", "weight_v", "bias", "bias_m", "bias_v"] where n.optimizer != nil || !key.contains("_") {
                        func flat(_ x: Any?) -> [Double] { (x as? [[Double]])?.flatMap { $0 } ?? (x as! [Double]) }
                        let x = flat(a[key]), y = flat(b[key]), y64 = flat(b64[key]), z = flat(r[key])
                        XCTAssertEqual(x.count, y.count, "\(n.name) layer \(l) \(key) size")
                        for i in x.indices { close(x[i], y[i], y64[i], z[i], "\(n.name) layer \(l) \(key)", "[\(i)]") }
                    }
                    XCTAssertEqual(a["mask"] as! [[Double]], b["mask"] as! [[Double]], "\(n.name) layer \(l) topology")
                }
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
