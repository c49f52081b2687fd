@testable import NeuralNet
import SparrowCore
import XCTest

/// A teacher network's outputs as regression targets, feature-major (1 × batch).
struct RegressionProblem {
    let teacher: MLP
    var generator: Generator
    let inputWidth: Int
    init(inputWidth: Int, seed: UInt64) {
        var g = Generator(seed: seed)
        teacher = MLP(spec: MLPSpec(widths: [inputWidth, 16, 1], activation: .tanh, backend: .dense,
                                    initialization: .xavierUniform), generator: &g)
        for l in teacher.layers { l.weight.setValues(l.weight.values.map { $0 * 2 }) }
        generator = g
        self.inputWidth = inputWidth
    }
    mutating func batch(_ B: Int) -> (x: [Float], y: [Float]) {
        let x = (0..<(inputWidth * B)).map { _ in Float(generator.uniform(-1, 1)) }
        return (x, teacher.predict(x, batch: B))
    }
}

/// One Adam step on MSE; returns the loss.
@discardableResult
func trainStep(_ net: MLP, _ adam: Adam, x: [Float], y: [Float], batch: Int) -> Float {
    let ws = net.workspace(batch: batch)
    ws.input.copy(from: x)
    net.forward(ws)
    let loss = y.withUnsafeBufferPointer { meanSquaredError(prediction: ws.output.pointer, target: $0.baseAddress!, count: batch,
                                                            gradient: ws.outputGradient.pointer) }
    net.backward(ws)
    adam.step(net)
    return loss
}

final class TrainingTests: XCTestCase {
    /// The truly sparse backend and the masked-dense backend with masked moments, from the same seed and topology,
    /// agree step by step through SET and RigL topology updates.
    func testSparseAndMaskedBackendsAgreeThroughTopologyUpdates() {
        for evolution in [TopologyEvolution.set(period: 4, zeta: 0.3), .rigl(period: 5, initialDropFraction: 0.4, lastUpdateStep: 40)] {
            var evo = evolution
            evo.grownInitialization = .pytorchLinear  // non-zero grown values exercise the value path too
            let densities = [0.4, 0.25, 0.6]
            var g1 = Generator(seed: 21), g2 = Generator(seed: 21)
            let sparse = MLP(spec: MLPSpec(widths: [6, 24, 20, 2], activation: .leakyReLU(), backend: .sparse, densities: densities), generator: &g1)
            let masked = MLP(spec: MLPSpec(widths: [6, 24, 20, 2], activation: .leakyReLU(), backend: .masked, densities: densities), generator: &g2)
            let adam = Adam(learningRate: 3e-3, weightDecay: 1e-3)
            var data = Generator(seed: 5)
            let B = 13
            var updates = 0
            for step in 1...40 {
                let x = data.floats(6 * B), y = data.floats(2 * B)
                for net in [sparse, masked] {
                    let ws = net.workspace(batch: B)
                    ws.input.copy(from: x)
                    net.forward(ws)
                    _ = y.withUnsafeBufferPointer { meanSquaredError(prediction: ws.output.pointer, target: $0.baseAddress!,
                                                                     count: 2 * B, gradient: ws.outputGradient.pointer) }
                    net.backward(ws)
                    adam.step(net)
                }
                let p1 = sparse.updateTopology(evo, step: step, workspace: sparse.workspace(batch: B), generator: &g1)
                let p2 = masked.updateTopology(evo, step: step, workspace: masked.workspace(batch: B), generator: &g2)
                XCTAssertEqual(p1, p2, "plans differ at step \(step)")
                if !p1.isEmpty { updates += 1 }
                for (l, layer) in sparse.layers.enumerated() where !p1.isEmpty {  // invariants after every update
                    let p = layer.positions
                    XCTAssertEqual(p.count, liveCounts(shapes: [layer.shape], densities: [densities[l]])[0], "live count, layer \(l)")
                    XCTAssertTrue(zip(p, p.dropFirst()).allSatisfy { $0 < $1 } && p.allSatisfy { $0 >= 0 && Int($0) < layer.shape.count })
                    XCTAssertEqual(layer.weight.firstMoment.count, p.count)
                }
                for (l, (a, b)) in zip(sparse.layers, masked.layers).enumerated() {
                    XCTAssertEqual(a.positions, b.positions, "layer \(l) topology at step \(step)")
                    assertClose(a.denseWeights(), b.denseWeights(), tolerance: 1e-5, "layer \(l) weights at step \(step)")
                    assertClose(a.bias.values, b.bias.values, tolerance: 1e-5, "layer \(l) biases at step \(step)")
                    let live = b.positions.map(Int.init)
                    assertClose(a.weight.firstMoment, live.map { b.weight.firstMoment[$0] }, tolerance: 1e-5, "m, layer \(l)")
                    assertClose(a.weight.secondMoment, live.map { b.weight.secondMoment[$0] }, tolerance: 1e-5, "v, layer \(l)")
                    // The masked backend's absent connections hold nothing.
                    let liveSet = Set(live)
                    for i in 0..<b.shape.count where !liveSet.contains(i) {
                        XCTAssertEqual(b.weight.values[i], 0); XCTAssertEqual(b.weight.firstMoment[i], 0)
                        XCTAssertEqual(b.weight.secondMoment[i], 0)
                    }
                }
            }
            XCTAssertGreaterThanOrEqual(updates, 7)
        }
    }

    /// Applying a plan: exact live count, sorted unique positions, kept values and moments carried, grown ones with
    /// the chosen value and zero moments, dropped ones gone, regrown ones keep their state.
    func testTopologyPlanKeepsGrowsAndDropsOptimizerState() {
        var g = Generator(seed: 22)
        let shape = LayerShape(fanIn: 10, fanOut: 8)
        let pos = randomTopology(shape: shape, count: 30, generator: &g)
        for backend in [LayerBackend.sparse, .masked] {
            let layer = MLP.makeLayer(backend: backend, shape: shape, positions: pos, values: g.floats(30), biases: g.floats(8),
                                      momentPolicy: .masked)
            // Give every live connection distinct moments.
            var m = layer.weight.firstMoment, v = layer.weight.secondMoment
            for (k, p) in pos.enumerated() { let i = backend == .sparse ? k : Int(p); m[i] = Float(k + 1); v[i] = Float(100 + k) }
            layer.weight.replace(values: layer.weight.values, firstMoment: m, secondMoment: v, mask: layer.weight.mask)
            let before = (w: layer.liveWeights, m: pos.indices.map { backend == .sparse ? m[$0] : m[Int(pos[$0])] })
            let droppedIdx = [0, 3, 7, 12, 29]
            let kept = pos.indices.filter { !droppedIdx.contains($0) }
            let live = Set(pos)
            var fresh = (0..<Int32(shape.count)).filter { !live.contains($0) }.prefix(4).map { $0 }
            fresh.append(pos[7])  // dropped and regrown
            fresh.sort()
            let plan = TopologyPlan(kept: kept, grown: fresh)
            let values = fresh.map { Float($0) + 0.5 }
            layer.apply(plan, grownValues: values, keepRegrown: true)
            let after = layer.positions
            XCTAssertEqual(after.count, 30)
            XCTAssertEqual(after, Array(Set(after)).sorted())
            XCTAssertTrue(after.allSatisfy { $0 >= 0 && Int($0) < shape.count })
            let w = layer.liveWeights
            let am = backend == .sparse ? layer.weight.firstMoment : after.map { layer.weight.firstMoment[Int($0)] }
            let av = backend == .sparse ? layer.weight.secondMoment : after.map { layer.weight.secondMoment[Int($0)] }
            for (j, p) in after.enumerated() {
                if let k = pos.firstIndex(of: p), kept.contains(k) || p == pos[7] {
                    XCTAssertEqual(w[j], before.w[k], "\(backend) kept/regrown value")
                    XCTAssertEqual(am[j], before.m[k], "\(backend) kept/regrown moment")
                } else {
                    XCTAssertEqual(w[j], Float(p) + 0.5, "\(backend) grown value")
                    XCTAssertEqual(am[j], 0, "\(backend) grown m"); XCTAssertEqual(av[j], 0, "\(backend) grown v")
                }
            }
            for k in droppedIdx where k != 7 { XCTAssertFalse(after.contains(pos[k]), "\(backend) dropped \(pos[k]) still live") }
            if backend == .sparse { XCTAssertEqual(layer.weight.firstMoment.count, 30, "sparse moments exist only for live connections") }
        }
    }

    /// A newly grown weight's first Adam step is ≈ 3.16·lr (per-tensor bias correction), a fresh tensor's is lr.
    func testGrownConnectionFirstStepIsAboutThreePointOneSixLearningRates() {
        let shape = LayerShape(fanIn: 2, fanOut: 1)
        let layer = SparseLayer(shape: shape, positions: [0], values: [0.5], biases: [0])
        let adam = Adam(learningRate: 1e-3)
        for _ in 0..<5000 { layer.weight.gradients = [0.2]; adam.step(layer.weight) }
        layer.apply(TopologyPlan(kept: [0], grown: [1]), grownValues: [0])
        layer.weight.gradients = [0.2, -0.7]
        adam.step(layer.weight)
        XCTAssertEqual(layer.weight.values[1], 3.162 * 1e-3, accuracy: 2e-5)
        let fresh = SparseLayer(shape: shape, positions: [1], values: [0], biases: [0])
        fresh.weight.gradients = [-0.7]
        adam.step(fresh.weight)
        XCTAssertEqual(fresh.weight.values[0], 1e-3, accuracy: 1e-6)
    }

    /// DS-TD3's "unmasked" policy: absent connections accumulate Adam moments from their dense gradients, while
    /// their weights stay 0; the masked policy keeps them at zero.
    func testUnmaskedMomentPolicyAccumulatesAtAbsentPositions() {
        for policy in MomentPolicy.allCases {
            var g = Generator(seed: 27)
            let net = MLP(spec: MLPSpec(widths: [3, 8, 1], backend: .masked, densities: [0.5, 1], momentPolicy: policy), generator: &g)
            trainStep(net, Adam(learningRate: 1e-2), x: g.floats(12), y: g.floats(4), batch: 4)
            let layer = net.layers[0], mask = layer.weight.mask!
            let absent = mask.indices.filter { mask[$0] == 0 }
            XCTAssertTrue(absent.allSatisfy { layer.weight.values[$0] == 0 }, "\(policy): absent weights must stay 0")
            let nonZeroMoments = absent.filter { layer.weight.secondMoment[$0] != 0 }.count
            if policy == .masked { XCTAssertEqual(nonZeroMoments, 0) } else { XCTAssertGreaterThan(nonZeroMoments, absent.count / 2) }
        }
    }

    /// Same seed → same topology and values after updates.
    func testSameSeedSameTopology() {
        func run() -> [[Position]] {
            var g = Generator(seed: 23)
            let net = MLP(spec: MLPSpec(widths: [5, 30, 1], backend: .sparse, densities: [0.3, 0.5]), generator: &g)
            for step in 1...3 { net.updateTopology(.set(period: 1, zeta: 0.2), step: step, generator: &g) }
            return net.layers.map(\.positions)
        }
        XCTAssertEqual(run(), run())
    }

    func testFinalUpdateDropsWithoutRegrowth() {
        var g = Generator(seed: 24)
        let net = MLP(spec: MLPSpec(widths: [5, 40, 1], backend: .sparse, densities: [0.5, 1]), generator: &g)
        let evo = TopologyEvolution.set(period: 10, zeta: 0.1, stopStep: 15, finalDropWithoutRegrow: true)
        let n0 = net.layers[0].liveConnections
        net.updateTopology(evo, step: 10, generator: &g)
        XCTAssertEqual(net.layers[0].liveConnections, n0)
        net.updateTopology(evo, step: 20, generator: &g)
        XCTAssertEqual(net.layers[0].liveConnections, n0 - Int(Double(n0) * 0.1))
        XCTAssertTrue(net.updateTopology(evo, step: 30, generator: &g).isEmpty)
    }

    /// 90 % sparse networks learn a regression problem: dense, static sparse, SET and RigL all reach the threshold.
    func testRegressionLearnsWithDenseStaticSETAndRigLAtNinetyPercent() throws {
        let widths = [8, 128, 128, 1]
        let shapes = LayerShape.mlp(widths)
        let densities = try layerDensities(shapes: shapes, sparsity: 0.9, distribution: .erdosRenyiKernel)
        let steps = 1500, B = 64
        var results: [String: Float] = [:]
        for (name, backend, evolution) in [("dense", LayerBackend.dense, TopologyEvolution?.none),
                                           ("static", .sparse, nil),
                                           ("SET", .sparse, .set(period: 100, zeta: 0.3)),
                                           ("RigL", .sparse, .rigl(period: 100, initialDropFraction: 0.3, lastUpdateStep: 1200))] {
            var g = Generator(seed: 31)
            let net = MLP(spec: MLPSpec(widths: widths, backend: backend, densities: backend == .dense ? nil : densities,
                                        initialization: backend == .dense ? .pytorchLinear : .sparsityAware), generator: &g)
            var problem = RegressionProblem(inputWidth: 8, seed: 7)
            let adam = Adam(learningRate: 2e-3)
            let (vx, vy) = problem.batch(1024)
            let mean = vy.reduce(0, +) / Float(vy.count)
            let variance = vy.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(vy.count)
            for step in 1...steps {
                let (x, y) = problem.batch(B)
                trainStep(net, adam, x: x, y: y, batch: B)
                if let evolution { net.updateTopology(evolution, step: step, workspace: net.workspace(batch: B), generator: &g) }
            }
            let pred = net.predict(vx, batch: 1024)
            let mse = zip(pred, vy).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Float(vy.count)
            results[name] = mse / variance
            print("regression \(name): validation MSE / variance = \(mse / variance)")
            if backend == .sparse {
                XCTAssertEqual(net.cost.liveWeights, liveCounts(shapes: shapes, densities: densities).reduce(0, +), name)
            }
        }
        for (name, r) in results { XCTAssertLessThan(r, 0.05, "\(name): validation MSE / variance = \(r); all: \(results)") }
    }

    func testMagnitudePruningFromDense() {
        var g = Generator(seed: 25)
        let net = MLP(spec: MLPSpec(widths: [6, 20, 1], backend: .sparse, densities: [1, 1]), generator: &g)
        let schedule = PolynomialPruningSchedule(finalSparsity: 0.9, beginStep: 0, endStep: 100, frequency: 10)
        var previous = net.layers[0].liveConnections
        for step in 0...100 {
            if !net.pruneByMagnitude([schedule, nil], step: step).isEmpty {
                XCTAssertLessThanOrEqual(net.layers[0].liveConnections, previous)
                previous = net.layers[0].liveConnections
            }
        }
        XCTAssertEqual(net.layers[0].liveConnections, pruningTargetCount(shape: net.layers[0].shape, sparsity: 0.9))
        XCTAssertEqual(net.layers[1].liveConnections, 20)
        XCTAssertEqual(net.layers[0].weight.firstMoment.count, net.layers[0].liveConnections)
    }

    /// Both target conventions on both sparse backends; the masked (in-place) target must agree exactly with the
    /// truly sparse one built from the same seed.
    func testTargetNetworksFollowBothConventions() {
        var results: [LayerBackend: [(positions: [Position], weights: [Float], output: [Float])]] = [:]
        let x: [Float] = [0.1, 0.2, 0.3, 0.4, -0.5, 0.6, -0.7, 0.8]
        for backend in [LayerBackend.sparse, .masked] {
            var g = Generator(seed: 26)
            let online = MLP(spec: MLPSpec(widths: [4, 12, 1], backend: backend, densities: [0.5, 1]), generator: &g)
            let copyTarget = online.copy(), sokarTarget = online.copy()
            XCTAssertEqual(copyTarget.layers[0].positions, online.layers[0].positions)
            online.updateTopology(.set(period: 1, zeta: 0.5), step: 1, generator: &g)
            for l in online.layers {  // move the live weights (a masked layer's dead entries stay 0)
                let mask = l.weight.mask
                l.weight.setValues(l.weight.values.enumerated().map { $1 + 0.1 * (mask?[$0] ?? 1) })
            }
            copyTarget.softUpdate(toward: online, tau: 0.1, topology: .copyOnline)
            XCTAssertEqual(copyTarget.layers[0].positions, online.layers[0].positions, "\(backend)")
            sokarTarget.softUpdate(toward: online, tau: 0.1, topology: .maintainSparsity)
            XCTAssertEqual(sokarTarget.layers[0].liveConnections, online.layers[0].liveConnections, "\(backend)")
            // Outputs too: a masked layer's products read every entry, so dead ones must really be 0.
            results[backend] = [copyTarget, sokarTarget].map { ($0.layers[0].positions, $0.layers[0].liveWeights, $0.predict(x, batch: 2)) }
            // τ = 1 is a hard copy under both conventions.
            copyTarget.softUpdate(toward: online, tau: 1, topology: .copyOnline)
            sokarTarget.softUpdate(toward: online, tau: 1, topology: .maintainSparsity)
            for t in [copyTarget, sokarTarget] {
                XCTAssertEqual(t.layers[0].positions, online.layers[0].positions, "\(backend)")
                XCTAssertEqual(t.layers[0].liveWeights, online.layers[0].liveWeights, "\(backend)")
                XCTAssertEqual(t.predict([0.1, 0.2, 0.3, 0.4], batch: 1), online.predict([0.1, 0.2, 0.3, 0.4], batch: 1))
            }
        }
        for k in 0..<2 {
            XCTAssertEqual(results[.sparse]![k].positions, results[.masked]![k].positions, "target \(k)")
            XCTAssertEqual(results[.sparse]![k].weights, results[.masked]![k].weights, "target \(k)")
            assertClose(results[.masked]![k].output, results[.sparse]![k].output, tolerance: 1e-6, "target \(k) outputs")
        }
    }
}

final class SerializationTests: XCTestCase {
    func makeTrained(_ backend: LayerBackend, policy: MomentPolicy = .masked) -> MLP {
        var g = Generator(seed: 41)
        let net = MLP(spec: MLPSpec(widths: [5, 9, 2], activation: .leakyReLU(slope: 0.2), outputActivation: .tanh,
                                    backend: backend, densities: backend == .dense ? nil : [0.5, 0.7], momentPolicy: policy),
                      generator: &g)
        let adam = Adam(learningRate: 1e-2)
        for _ in 0..<3 { trainStep(net, adam, x: g.floats(20), y: g.floats(8), batch: 4) }
        return net
    }

    func testRoundTripIsExact() throws {
        for (backend, policy) in [(LayerBackend.dense, MomentPolicy.masked), (.sparse, .masked), (.masked, .unmasked)] {
            let net = makeTrained(backend, policy: policy)
            let adam = Adam(learningRate: 3e-4, weightDecay: 2e-4, decoupledWeightDecay: true)
            let bytes = try NetworkArchive.encode(net, adam: adam)
            let (back, adamBack) = try NetworkArchive.decode(bytes)
            XCTAssertEqual(adamBack, adam)
            XCTAssertEqual(back.spec, net.spec)
            for (a, b) in zip(net.layers, back.layers) {
                XCTAssertEqual(a.backend, b.backend)
                XCTAssertEqual(a.positions, b.positions)
                for (s, t) in [(a.weight, b.weight), (a.bias, b.bias)] {
                    XCTAssertEqual(s.values.map(\.bitPattern), t.values.map(\.bitPattern))
                    XCTAssertEqual(s.firstMoment.map(\.bitPattern), t.firstMoment.map(\.bitPattern))
                    XCTAssertEqual(s.secondMoment.map(\.bitPattern), t.secondMoment.map(\.bitPattern))
                    XCTAssertEqual(s.mask, t.mask); XCTAssertEqual(s.step, t.step); XCTAssertEqual(s.momentPolicy, t.momentPolicy)
                }
            }
            XCTAssertEqual(try NetworkArchive.encode(back, adam: adam), bytes)
        }
    }

    func testCorruptionTruncationAndUnknownVersionThrow() throws {
        let bytes = try NetworkArchive.encode(makeTrained(.sparse))
        for cut in [0, 5, 12, 40, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try NetworkArchive.decode(Array(bytes[0..<cut])), "cut at \(cut)") {
                XCTAssertEqual($0 as? NetworkArchiveError, cut < 8 ? (cut == 0 || cut == 5 ? .truncated : .badMagic) : .truncated)
            }
        }
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        XCTAssertThrowsError(try NetworkArchive.decode(flipped)) { XCTAssertEqual($0 as? NetworkArchiveError, .checksumMismatch) }
        var version = bytes
        version[8] = 99
        XCTAssertThrowsError(try NetworkArchive.decode(version)) { XCTAssertEqual($0 as? NetworkArchiveError, .unsupportedVersion(99)) }
        var magic = bytes
        magic[0] = UInt8(ascii: "X")
        XCTAssertThrowsError(try NetworkArchive.decode(magic)) { XCTAssertEqual($0 as? NetworkArchiveError, .badMagic) }
    }
}
