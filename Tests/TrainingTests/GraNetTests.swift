@testable import Agents
import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Training

/// GraNet (gradual pruning with zero-cost neuroregeneration), added through the sparse-method seam: its updater
/// against a twin written from the reference's `pruning` + `truncate_weights` on dense masks, its schedules, its
/// presets, and a short run that resumes exactly.
final class GraNetTests: XCTestCase {
    /// A 6-12-10-3 network, every layer sparse at density 1 (truly sparse storage, so the moments are per live
    /// connection), after one forward and backward pass of a random batch.
    func trainedNetwork(seed: UInt64) -> (MLP, Workspace) {
        var g = Generator(seed: seed)
        let spec = MLPSpec(widths: [6, 12, 10, 3], activation: .relu,
                           layers: (0..<3).map { _ in LayerSpec(backend: .sparse, density: 1) })
        let net = MLP(spec: spec, generator: &g)
        let ws = net.workspace(batch: 5)
        for i in 0..<(6 * 5) { ws.input[i] = Float(g.normal()) }
        net.forward(ws)
        for i in 0..<(3 * 5) { ws.outputGradient[i] = Float(g.normal()) }
        net.backward(ws)
        // Distinct moments per connection, to see which ones survive.
        for layer in net.layers {
            let p = layer.weight
            p.restore(values: p.values, firstMoment: p.values.map { $0 * 3 }, secondMoment: p.values.map { $0 * $0 }, step: 1)
        }
        return (net, ws)
    }

    /// The dense-mask twin: global pruning to `keep` (ties: lower layer, lower index kept), then per layer drop
    /// ⌈r·n⌉ smallest |w| (ties: higher index dropped first) and grow as many of the largest |g| outside the kept
    /// set (ties: lower position). Returns each layer's live positions and values after the update.
    func twin(net: MLP, ws: Workspace, keep: Int?, rate: Double) -> [[(Int, Float)]] {
        var live: [[(Int, Float)]] = net.layers.map { l in zip(l.positions, l.liveWeights).map { (Int($0), $1) } }
        if let keep {
            var all: [(Float, Int, Int)] = []
            for (l, entries) in live.enumerated() { for e in entries { all.append((abs(e.1), l, e.0)) } }
            all.sort { $0.0 != $1.0 ? $0.0 > $1.0 : ($0.1, $0.2) < ($1.1, $1.2) }
            let survivors = Set(all.prefix(keep).map { [$0.1, $0.2] })
            live = live.enumerated().map { l, entries in entries.filter { survivors.contains([l, $0.0]) } }
        }
        for l in live.indices {
            let n = live[l].count, drop = Int((rate * Double(n)).rounded(.up))
            let ranked = live[l].enumerated().sorted { a, b in
                abs(a.element.1) != abs(b.element.1) ? abs(a.element.1) < abs(b.element.1) : a.offset > b.offset
            }
            let kept = ranked.dropFirst(drop).map(\.element)
            let keptPositions = Set(kept.map(\.0))
            let gradient = net.denseWeightGradient(layer: l, ws)
            let grown = gradient.indices.filter { !keptPositions.contains($0) }
                .sorted { abs(gradient[$0]) != abs(gradient[$1]) ? abs(gradient[$0]) > abs(gradient[$1]) : $0 < $1 }
                .prefix(drop)
            let before = Dictionary(uniqueKeysWithValues: live[l])
            // A weight dropped and regrown in the same step keeps its value; a new one starts at zero.
            live[l] = (kept + grown.map { ($0, before[$0] ?? 0) }).sorted { $0.0 < $1.0 }
        }
        return live
    }

    func testUpdaterMatchesTheReferenceTwinThroughPruningAndRegeneration() throws {
        let schedule = PolynomialPruningSchedule(initialSparsity: 0, finalSparsity: 0.8, beginStep: 100, endStep: 400, frequency: 100)
        for (step, seed) in [(100, UInt64(1)), (200, 2), (400, 3), (700, 4)] {
            let (net, ws) = trainedNetwork(seed: seed)
            let updater = GraNetUpdater(layers: [0, 1, 2], schedule: schedule, initialDeathRate: 0.5, totalUpdates: 1000)
            let total = net.layers.reduce(0) { $0 + $1.shape.count }
            let keep = schedule.isPruningStep(step)
                ? Int((Double(total) * (1 - schedule.sparsity(atStep: step))).rounded()) : nil
            let rate = updater.deathRate(atStep: step)
            let expected = twin(net: net, ws: ws, keep: keep, rate: rate)
            let momentsBefore = net.layers.map { l in
                Dictionary(uniqueKeysWithValues: zip(l.positions.map(Int.init), l.weight.firstMoment))
            }
            var g = Generator(seed: 9)
            let changed = updater.update(net, step: step, workspace: ws, generator: &g)
            XCTAssertEqual(changed, [0, 1, 2], "step \(step)")
            for (l, layer) in net.layers.enumerated() {
                XCTAssertEqual(layer.positions.map(Int.init), expected[l].map(\.0), "step \(step) layer \(l) positions")
                XCTAssertEqual(layer.liveWeights, expected[l].map(\.1), "step \(step) layer \(l) values")
                // Moments follow the values: kept with a surviving connection, zero for one that starts at zero
                // (absent before, or pruned by this step's pruning and regrown by its regeneration).
                for (e, m) in zip(expected[l], layer.weight.firstMoment) {
                    XCTAssertEqual(m, e.1 == 0 ? 0 : momentsBefore[l][e.0]!, "step \(step) layer \(l) position \(e.0) moment")
                }
            }
            let live = net.layers.reduce(0) { $0 + $1.liveConnections }
            XCTAssertEqual(live, keep ?? total, "regeneration keeps each layer's count; pruning sets the total")
        }
        // Global, not per layer: after pruning to 80%, the layers' own sparsities differ.
        let (net, ws) = trainedNetwork(seed: 5)
        var g = Generator(seed: 1)
        GraNetUpdater(layers: [0, 1, 2], schedule: schedule, initialDeathRate: 0.5, totalUpdates: 1000)
            .update(net, step: 400, workspace: ws, generator: &g)
        let densities = net.layers.map { Double($0.liveConnections) / Double($0.shape.count) }
        XCTAssertGreaterThan(densities.max()! - densities.min()!, 0.01, "\(densities)")
    }

    func testStepsAndDeathRate() {
        let schedule = PolynomialPruningSchedule(initialSparsity: 0, finalSparsity: 0.9, beginStep: 200, endStep: 800, frequency: 50)
        let u = GraNetUpdater(layers: [0], schedule: schedule, initialDeathRate: 0.5, totalUpdates: 1000)
        XCTAssertFalse(u.isUpdateStep(150))
        XCTAssertTrue(u.isUpdateStep(200))
        XCTAssertFalse(u.isUpdateStep(225))
        XCTAssertTrue(u.isUpdateStep(950), "regeneration goes on after pruning ends")
        XCTAssertFalse(schedule.isPruningStep(950))
        XCTAssertEqual(u.deathRate(atStep: 0), 0.5, accuracy: 1e-12)
        XCTAssertEqual(u.deathRate(atStep: 500), (0.5 + 0.005) / 2, accuracy: 1e-12)
        XCTAssertEqual(u.deathRate(atStep: 1000), 0.005, accuracy: 1e-12)
        XCTAssertEqual(u.deathRate(atStep: 5000), 0.005, accuracy: 1e-12)
    }

    func testGlobalPruningPlanKeepsTheLargestAndBreaksTiesByLayerThenIndex() {
        let kept = planGlobalMagnitudePruning(weights: [[0.5, -2, 0.1], [1, -0.5, .nan], [3]], keep: 4)
        // Magnitudes 3, 2, 1, then a tie at 0.5 between layer 0 index 0 and layer 1 index 1: layer 0 wins.
        XCTAssertEqual(kept, [[0, 1], [0], [0]])
        XCTAssertEqual(planGlobalMagnitudePruning(weights: [[1, 2]], keep: 5), [[0, 1]])
        XCTAssertEqual(planGlobalMagnitudePruning(weights: [[1, 2], []], keep: 0), [[], []])
    }

    func testPresetsAndRefusals() throws {
        for (preset, base) in [("granet-sac", "prune-sac"), ("granet-dqn", "prune-dqn"), ("granet-ppo", "prune-ppo")] {
            XCTAssertTrue(Presets.names.contains(preset))
            let env = preset == "granet-dqn" ? "CartPole-v1" : "Hopper-v5"
            let c = try Presets.config(named: preset, env: env), b = try Presets.config(named: base, env: env)
            XCTAssertEqual(c.agent.method, .granet)
            XCTAssertEqual(c.agent.grow, .gradient)
            XCTAssertEqual(c.agent.dropFraction, 0.5)
            XCTAssertEqual(Presets.family(ofPreset: preset), Presets.family(ofPreset: base))
            // Everything else is the pruning preset's.
            var same = c.agent
            same.method = b.agent.method; same.grow = b.agent.grow; same.dropFraction = b.agent.dropFraction
            XCTAssertEqual(same, b.agent, preset)
        }
        var a = try Presets.config(named: "granet-sac", env: "Hopper-v5").agent
        a.grow = .random
        XCTAssertThrowsError(try a.validate()) { XCTAssertTrue("\($0)".contains("method granet regrows connections by gradient"), "\($0)") }
        XCTAssertThrowsError(try TrainConfig.resolve(preset: "granet-sac", env: "Hopper-v5", file: nil, flags: ["method": "granett"])) {
            XCTAssertTrue("\($0)".contains("granet"), "\($0)")
        }
    }

    /// A short GraNet SAC run through pruning and regeneration, interrupted and resumed: the same run.
    func testShortRunPrunesToTheTargetAndResumesExactly() throws {
        let config = try smallConfig("granet-sac", ["prune-frequency": 100, "hidden": [64, 64], "steps": 2000])
        let straight = temporaryRunDirectory("granetStraight"), resumed = temporaryRunDirectory("granetResumed")
        defer { try? FileManager.default.removeItem(atPath: straight); try? FileManager.default.removeItem(atPath: resumed) }
        XCTAssertEqual(try makeTrainer(config: config, runDirectory: straight, resume: false).run().outcome, .finished)
        XCTAssertEqual(try makeTrainer(config: config, runDirectory: resumed, resume: false)
            .run(progress: nil, stopAfter: 1234, finalCheckpoint: true).outcome, .interrupted)
        XCTAssertEqual(try makeTrainer(config: config, runDirectory: resumed, resume: true).run().outcome, .finished)
        XCTAssertEqual(try deterministicMetrics(straight), try deterministicMetrics(resumed))
        XCTAssertEqual(try file(straight, "evaluations.csv"), try file(resumed, "evaluations.csv"))
        let (_, a) = try TrainingCheckpoint.loadAgent(checkpoint: straight + "/checkpoint.sparrow")
        let (_, b) = try TrainingCheckpoint.loadAgent(checkpoint: resumed + "/checkpoint.sparrow")
        for (x, y) in zip(a.namedNetworks, b.namedNetworks) {
            XCTAssertEqual(x.network.parameters.map(\.values), y.network.parameters.map(\.values), x.name)
        }
        // The actor ends at the preset's sparsity over its prunable layers (global threshold: per layer it varies).
        let actor = try XCTUnwrap(a.namedNetworks.first { $0.name == "actor" }?.network)
        let prunable = actor.layers.filter { $0.backend != .dense }
        let live = prunable.reduce(0) { $0 + $1.liveConnections }, all = prunable.reduce(0) { $0 + $1.shape.count }
        XCTAssertEqual(1 - Double(live) / Double(all), config.agent.sparsity, accuracy: 0.002)
    }
}
