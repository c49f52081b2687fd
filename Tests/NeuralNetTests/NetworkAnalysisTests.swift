@testable import NeuralNet
import SparrowCore
import XCTest

/// The analyses against direct computations: gradient SNR against per-sample gradients from one backward pass
/// per sample, dormant neurons against their definition, and ReDo's invariants on truly sparse layers.
final class NetworkAnalysisTests: XCTestCase {
    func network(_ backend: LayerBackend, seed: UInt64 = 5) -> MLP {
        var g = Generator(seed: seed)
        let spec = MLPSpec(widths: [5, 12, 9, 3], activation: .relu, backend: backend,
                           densities: backend == .dense ? nil : [0.5, 0.4, 0.7], initialization: .xavierUniform)
        let net = MLP(spec: spec, generator: &g)
        for layer in net.layers { layer.bias.setValues(g.floats(layer.shape.fanOut, scale: 0.2)) }
        return net
    }

    /// One forward and backward pass on a batch, as a training step of a batch-mean loss makes it (dY / B).
    func backward(_ net: MLP, input x: [Float], outputGradient dy: [Float], batch B: Int) -> Workspace {
        let ws = net.workspace(batch: B)
        ws.input.copy(from: x)
        net.forward(ws)
        ws.outputGradient.copy(from: dy.map { $0 / Float(B) })
        net.backward(ws)
        return ws
    }

    /// Per-sample gradients of every live parameter, by separate batch-of-one backward passes.
    func perSampleGradients(_ net: MLP, x: [Float], outputGradient dy: [Float], batch B: Int) -> [[Double]] {
        let n = net.inputWidth, m = net.outputWidth
        var rows: [[Double]] = []
        for b in 0..<B {
            let ws = net.workspace(batch: 1)
            for i in 0..<n { ws.input[i] = x[i * B + b] }
            net.forward(ws)
            for j in 0..<m { ws.outputGradient[j] = dy[j * B + b] }
            net.backward(ws)
            var g: [Double] = []
            for layer in net.layers {
                for (k, p) in layer.positions.enumerated() { g.append(Double(layer.weight.gradients[layer.slot(ofLiveIndex: k, position: p)])) }
                g += layer.bias.gradients.map(Double.init)
            }
            rows.append(g)
        }
        return rows
    }

    /// rigl/rl's `log_snr` over every kernel entry and bias, computed directly: per-sample backward passes of the
    /// dense twin (the sparse network's weights densified, absent ones 0), whose kernel gradients are the dense
    /// gradients the masked kernel variable receives; |mean/(std + 1e-10)| per entry, zero-variance entries included.
    func testReferenceGradientSNRCoversEveryPosition() {
        let net = network(.sparse)
        var g = Generator(seed: 9)
        let B = 16
        let x = g.floats(5 * B, scale: 2), dy = g.floats(3 * B)
        let ws = backward(net, input: x, outputGradient: dy, batch: B)
        let (snr, counted) = net.gradientSNR(ws)

        let dense = MLP(spec: MLPSpec(widths: [5, 12, 9, 3], activation: .relu, backend: .dense, densities: nil,
                                      initialization: .xavierUniform),
                        layers: net.layers.map { DenseLayer(shape: $0.shape, weights: $0.denseWeights(), biases: $0.bias.values) })
        var samples: [[Double]] = []
        for b in 0..<B {
            let one = dense.workspace(batch: 1)
            for i in 0..<5 { one.input[i] = x[i * B + b] }
            dense.forward(one)
            for j in 0..<3 { one.outputGradient[j] = dy[j * B + b] }  // the sample's own loss
            dense.backward(one)
            samples.append(dense.layers.flatMap { $0.weight.gradients.map(Double.init) + $0.bias.gradients.map(Double.init) })
        }
        var total = 0.0, zeroVariance = 0
        for p in samples[0].indices {
            let v = samples.map { $0[p] }
            let mean = v.reduce(0, +) / Double(B)
            let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(B)).squareRoot()
            if std == 0 { zeroVariance += 1 }
            total += abs(mean / (std + 1e-10))
        }
        XCTAssertEqual(counted, samples[0].count, "every kernel entry and bias")
        XCTAssertEqual(counted, 5 * 12 + 12 + 12 * 9 + 9 + 9 * 3 + 3)
        XCTAssertLessThan(net.layers.reduce(0) { $0 + $1.liveConnections }, counted / 2, "absent positions are most of them")
        XCTAssertEqual(snr, total / Double(counted), accuracy: 1e-6 * max(1, total / Double(counted)))
        // Today's live-only figure is a different number on the same batch.
        XCTAssertNotEqual(snr, net.liveGradientSNR(ws).mean)
    }

    func testGradientSNRMatchesPerSampleGradients() {
        for backend in [LayerBackend.sparse, .masked, .dense] {
            let net = network(backend)
            var g = Generator(seed: 9)
            let B = 24
            let x = g.floats(5 * B, scale: 2), dy = g.floats(3 * B)
            let ws = backward(net, input: x, outputGradient: dy, batch: B)  // SNR does not see the batch mean's 1/B
            let (snr, counted) = net.liveGradientSNR(ws)

            let samples = perSampleGradients(net, x: x, outputGradient: dy, batch: B)
            var total = 0.0, n = 0
            for p in samples[0].indices {
                let v = samples.map { $0[p] }
                let mean = v.reduce(0, +) / Double(B)
                let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(B)
                guard variance > 1e-12 * max(v.map { $0 * $0 }.reduce(0, +) / Double(B), .leastNonzeroMagnitude) else { continue }
                total += abs(mean) / variance.squareRoot()
                n += 1
            }
            XCTAssertEqual(counted, n, "\(backend): the same parameters counted")
            XCTAssertGreaterThan(n, net.layers.reduce(0) { $0 + $1.liveConnections } / 3, "most parameters have noise")
            XCTAssertEqual(snr, total / Double(n), accuracy: 1e-4 * (total / Double(n)), "\(backend)")
        }
    }

    func testDormantNeuronsFollowTheDefinition() {
        let net = network(.sparse)
        net.layers[0].bias.setValues((0..<12).map { $0 < 3 ? -50 : 0.1 })  // three neurons of layer 0 never fire
        var g = Generator(seed: 3)
        let B = 32
        let ws = net.workspace(batch: B)
        ws.input.copy(from: g.floats(5 * B))
        net.forward(ws)
        for tau in [0.0, 0.1, 0.5] {
            let flags = net.dormantNeurons(ws, tau: tau)
            XCTAssertEqual(flags.map(\.count), [12, 9], "hidden layers only")
            for l in 0..<2 {
                let h = ws.layerOutput(l).array, width = flags[l].count
                let score = (0..<width).map { i in (0..<B).map { Double(abs(h[i * B + $0])) }.reduce(0, +) / Double(B) }
                let mean = score.reduce(0, +) / Double(width)
                XCTAssertEqual(flags[l], score.map { $0 / mean <= tau }, "layer \(l) τ \(tau)")
            }
            XCTAssertEqual(Array(flags[0].prefix(3)), [true, true, true], "dead neurons are dormant at every τ")
        }
    }

    /// Recycling keeps the topology and live counts, resets the moments it touches, leaves the outputs as they
    /// were (the recycled neurons' outgoing weights are 0) and leaves every other neuron alone.
    func testReDoKeepsTopologyResetsMomentsAndZeroesRecycledOutputs() {
        for backend in [LayerBackend.sparse, .masked] {
            let net = network(backend, seed: 8)
            var g = Generator(seed: 4)
            let B = 16
            let adam = Adam(learningRate: 1e-2)
            let ws = net.workspace(batch: B)
            let x = g.floats(5 * B)
            for _ in 0..<3 {  // non-zero moments everywhere
                ws.input.copy(from: x)
                net.forward(ws)
                ws.outputGradient.copy(from: g.floats(3 * B))
                net.backward(ws)
                adam.step(net)
            }
            net.layers[0].bias.setValues((0..<12).map { [2, 7].contains($0) ? -50 : net.layers[0].bias.values[$0] })
            ws.input.copy(from: x)
            net.forward(ws)
            let before = ws.output.array
            let positions = net.layers.map(\.positions), weights = net.layers.map(\.liveWeights)
            let moments = net.layers.map { ($0.weight.firstMoment, $0.weight.secondMoment, $0.bias.firstMoment) }
            let dormant = net.dormantNeurons(ws, tau: 0)
            var g2 = Generator(seed: 1)
            let recycled = net.recycleDormantNeurons(ws, tau: 0, generator: &g2)
            XCTAssertEqual(recycled, dormant.map { $0.filter { $0 }.count })
            XCTAssertGreaterThanOrEqual(recycled[0], 2)
            XCTAssertEqual(net.layers.map(\.positions), positions, "\(backend): topology kept")

            for l in 0..<2 {
                let inLayer = net.layers[l], outLayer = net.layers[l + 1]
                for (k, p) in inLayer.positions.enumerated() {
                    let s = inLayer.slot(ofLiveIndex: k, position: p), row = Int(p) / inLayer.shape.fanIn
                    if dormant[l][row] {
                        XCTAssertEqual(inLayer.weight.firstMoment[s], 0); XCTAssertEqual(inLayer.weight.secondMoment[s], 0)
                    } else if !(l == 1 && dormant[0][Int(p) % inLayer.shape.fanIn]) {
                        XCTAssertEqual(inLayer.liveWeights[k], weights[l][k], "untouched weight")
                        XCTAssertEqual(inLayer.weight.firstMoment[s], moments[l].0[s], "untouched moment")
                    }
                }
                for (i, d) in dormant[l].enumerated() where d {
                    XCTAssertEqual(inLayer.bias.values[i], 0); XCTAssertEqual(inLayer.bias.firstMoment[i], 0)
                }
                for (k, p) in outLayer.positions.enumerated() where dormant[l][Int(p) % outLayer.shape.fanIn] {
                    let s = outLayer.slot(ofLiveIndex: k, position: p)
                    XCTAssertEqual(outLayer.liveWeights[k], 0, "outgoing weight of a recycled neuron")
                    XCTAssertEqual(outLayer.weight.firstMoment[s], 0); XCTAssertEqual(outLayer.weight.secondMoment[s], 0)
                }
            }
            ws.input.copy(from: x)
            net.forward(ws)
            // Dead neurons (τ 0: exactly the silent ones) contributed nothing before; recycled ones nothing after.
            assertClose(ws.output.array, before, tolerance: 1e-6, "\(backend): outputs unchanged")
        }
    }
}
