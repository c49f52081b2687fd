@testable import NeuralNet
import SparrowCore
import XCTest

/// Graph networks (`MLPSpec.graph`: residual connections, max-pooling, activations between layers) and the Impala
/// network built with them: gradients against finite differences in every backend, the truly sparse and masked
/// backends against each other, max-pooling against a brute-force twin with TF's SAME padding, archives, refused
/// graphs, and the full-size Impala against rigl/rl's layer list.
final class NetworkGraphTests: XCTestCase {
    /// A small residual network with every op: 2×9×9 → conv 3·3×3 → pool 3/2 (9 → 5) → [x + conv(tanh(conv(tanh x)))]
    /// → tanh → dense 5 (tanh) → dense 3. Tanh rather than ReLU keeps finite differences away from kinks.
    func smallSpec(_ backend: LayerBackend, activation: Activation = .tanh, densities: [Double] = [0.7, 0.6, 0.5, 0.8, 0.9]) -> MLPSpec {
        let c0 = ConvGeometry.same(inChannels: 2, size: 9, outChannels: 3, kernel: 3)
        let pool = PoolGeometry.same(channels: 3, height: 9, width: 9, window: 3, stride: 2)
        let c1 = ConvGeometry.same(inChannels: 3, size: 5, outChannels: 3, kernel: 3)
        let graph = NetworkGraph(ops: [.layer(0, .identity), .maxPool(pool), .saveSkip,
                                       .activation(activation), .layer(1, .identity), .activation(activation), .layer(2, .identity),
                                       .addSkip, .activation(activation), .layer(3, activation), .layer(4, .identity)])
        let convs = [c0, c1, c1]
        let layers = densities.enumerated().map { l, d in
            LayerSpec(backend: backend, density: backend == .dense ? 1 : d, initialization: .xavierUniform,
                      convolution: l < 3 ? convs[l] : nil)
        }
        return MLPSpec(widths: [c0.inputCount, c0.outputCount, c1.outputCount, c1.outputCount, 5, 3], layers: layers, graph: graph)
    }

    func network(_ spec: MLPSpec, seed: UInt64 = 5) -> MLP { networkWithBiases(spec, seed: seed) }

    func lossAndBackward(_ net: MLP, _ x: [Float], _ c: [Float], batch: Int) -> (Double, [Float]) {
        quadraticLossAndBackward(net, x, c, batch: batch)
    }

    func loss(_ out: [Float], _ c: [Float]) -> Double { quadraticLoss(out, c) }

    func testShapesFollowTheGraph() {
        let spec = smallSpec(.sparse)
        XCTAssertEqual(spec.layerInputWidths, [162, 75, 75, 75, 5])
        XCTAssertEqual(spec.shapes[3], LayerShape(fanIn: 75, fanOut: 5), "the dense layer reads the pooled, added value")
        XCTAssertEqual(spec.shapes[1], ConvGeometry.same(inChannels: 3, size: 5, outChannels: 3, kernel: 3).kernelShape)
    }

    func testGradientsOfAResidualNetworkMatchFiniteDifferences() {
        for backend in LayerBackend.allCases {
            let net = network(smallSpec(backend)), batch = 3
            var g = Generator(seed: 9)
            let x = g.floats(net.inputWidth * batch), c = g.floats(net.outputWidth * batch)
            let (_, inputGradient) = lossAndBackward(net, x, c, batch: batch)
            let analytic = net.parameters.map(\.gradients)
            // The max-pool is not differentiable where its winner changes: a difference quotient whose ±ε passes
            // pick other winners than the unperturbed one is skipped (counted below), the rest must match.
            let ws = net.workspace(batch: batch)
            func winners() -> [Int32] { ws.graph!.argmax.sorted { $0.key < $1.key }.flatMap { Array($0.value) } }
            _ = net.predict(x, batch: batch)
            let reference = winners()
            func lossAt(_ x: [Float]) -> (Double, Bool) {
                let l = loss(net.predict(x, batch: batch), c)
                return (l, winners() == reference)
            }
            let eps: Float = 3e-3
            var checked = 0, skipped = 0
            func compare(_ a: Float, _ p: (Double, Bool), _ m: (Double, Bool), _ what: String) {
                guard p.1 && m.1 else { skipped += 1; return }
                let n = (p.0 - m.0) / (2 * Double(eps))
                XCTAssertEqual(Double(a), n, accuracy: 2e-2 * abs(n) + 3e-3, "\(backend) \(what)")
                checked += 1
            }
            for (k, tensor) in net.parameters.enumerated() {
                for i in stride(from: 0, to: tensor.count, by: max(1, tensor.count / 40)) {
                    let v = tensor.values[i]
                    tensor.values[i] = v + eps; let lp = lossAt(x)
                    tensor.values[i] = v - eps; let lm = lossAt(x)
                    tensor.values[i] = v
                    compare(analytic[k][i], lp, lm, "tensor \(k) entry \(i)")
                }
            }
            var xm = x
            for i in stride(from: 0, to: x.count, by: 5) {
                xm[i] = x[i] + eps; let lp = lossAt(xm)
                xm[i] = x[i] - eps; let lm = lossAt(xm)
                xm[i] = x[i]
                compare(inputGradient[i], lp, lm, "input \(i)")
            }
            XCTAssertGreaterThan(checked, 150, "\(backend)")
            XCTAssertLessThan(skipped * 5, checked, "\(backend): most quotients stay off the pool's kinks")
            // The skip carries gradient: without it the block's input gradient would be the branch's alone.
            XCTAssertFalse(inputGradient.allSatisfy { $0 == 0 })
        }
    }

    /// Sparse and masked backends from one seed: same outputs, gradients and RigL scores through the graph.
    func testSparseAndMaskedGraphNetworksAgree() {
        let sparse = network(smallSpec(.sparse, activation: .relu)), masked = network(smallSpec(.masked, activation: .relu))
        assertSparseMatchesMasked(sparse, masked, batch: 4)
    }

    /// TF's SAME max-pooling written out: every window over the unpadded input (padded taps never count), and the
    /// gradient of each output to the first of its maxima in scan order; overlapping windows add.
    func testMaxPoolMatchesABruteForceTwin() {
        for (size, padBefore) in [(9, 1), (84, 0), (42, 0), (21, 1), (4, 0)] {
            let g = PoolGeometry.same(channels: 2, height: size, width: size, window: 3, stride: 2)
            XCTAssertEqual(g.outputHeight, (size + 1) / 2)
            XCTAssertEqual(g.padding, padBefore, "size \(size)")
            let B = 3
            var r = Generator(seed: UInt64(size))
            var x = r.floats(g.inputCount * B)
            x[5 * B + 1] = x[4 * B + 1]  // a tie
            let top = x.max()!
            for i in stride(from: 0, to: x.count, by: 11) { x[i] = top }  // and ties at the top
            let dy = r.floats(g.outputCount * B)
            var y = [Float](repeating: 0, count: g.outputCount * B), dx = [Float](repeating: 0, count: g.inputCount * B)
            var arg = [Int32](repeating: 0, count: g.outputCount * B)
            maxPoolForward(g, x, batch: B, into: &y, argmax: &arg)
            arg.withUnsafeBufferPointer { a in maxPoolBackward(g, dy, argmax: a.baseAddress!, batch: B, into: &dx) }
            var wantY = y, wantDX = [Float](repeating: 0, count: dx.count)
            for c in 0..<2 {
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        for b in 0..<B {
                            var best = -Float.infinity, at = -1
                            for kh in 0..<3 {
                                for kw in 0..<3 {
                                    let h = oh * 2 - padBefore + kh, w = ow * 2 - padBefore + kw
                                    guard h >= 0, h < size, w >= 0, w < size else { continue }
                                    let f = (c * size + h) * size + w
                                    if x[f * B + b] > best { best = x[f * B + b]; at = f }
                                }
                            }
                            let o = ((c * g.outputHeight + oh) * g.outputWidth + ow) * B + b
                            wantY[o] = best
                            wantDX[at * B + b] += dy[o]
                        }
                    }
                }
            }
            XCTAssertEqual(y, wantY, "size \(size)")
            XCTAssertEqual(dx, wantDX, "size \(size)")
        }
    }

    func testArchivesKeepTheGraph() throws {
        for backend in LayerBackend.allCases {
            let net = network(smallSpec(backend))
            var g = Generator(seed: 4)
            let x = g.floats(net.inputWidth * 2)
            let adam = Adam(learningRate: 1e-3)
            _ = lossAndBackward(net, x, g.floats(net.outputWidth * 2), batch: 2)
            adam.step(net)
            let decoded = try NetworkArchive.decode(try NetworkArchive.encode(net, adam: adam)).network
            XCTAssertEqual(decoded.spec, net.spec)
            XCTAssertNotNil(decoded.spec.graph)
            XCTAssertEqual(decoded.predict(x, batch: 2), net.predict(x, batch: 2), "\(backend)")
            let target = net.copy()
            XCTAssertEqual(target.predict(x, batch: 2), net.predict(x, batch: 2), "\(backend) copy")
            assertClose(net.trulySparse().predict(x, batch: 2), net.predict(x, batch: 2), tolerance: 1e-5)
        }
    }

    func testGraphsThatDoNotFitAreRefused() {
        let spec = smallSpec(.dense)
        func refused(_ ops: [NetworkGraph.Op], _ expected: String) {
            var s = spec
            s.graph = NetworkGraph(ops: ops)
            XCTAssertThrowsError(try s.validate(), expected) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
        let ops = spec.graph!.ops
        refused(ops.filter { $0 != .addSkip }, "saveSkip without an addSkip")
        refused(ops.filter { $0 != .saveSkip }, "addSkip without a saveSkip")
        refused(Array(ops.dropLast()), "layer 4 is not in the graph")
        refused(ops + [.layer(4, .identity)], "layer 4 is used twice")
        refused(ops.filter { if case .maxPool = $0 { return false }; return true }, "layer 1 reads 75 features, the graph gives it 243")
        XCTAssertNoThrow(try spec.validate())
    }

    /// The full-size Impala network of rigl/rl's `dqn_agents.py`: 15 convolutions (3×3, SAME) and two dense layers,
    /// 84 → 42 → 21 → 11 through the poolings, 7744 features into the dense layer; its parameter count is Keras'
    /// (every kernel KH·KW·C_in·C_out plus C_out biases), written out here from the layer list.
    func testImpalaArchitecture() {
        let actions = 6
        let (convs, graph) = ImpalaNetwork.architecture(frames: 4, hidden: [256], outputs: actions)
        XCTAssertEqual(convs.count, 15)
        XCTAssertEqual(ImpalaNetwork.features(), 7744)
        var expected = 0
        var c = 4
        for out in [32, 64, 64] {
            expected += 9 * c * out + out + 4 * (9 * out * out + out)
            c = out
        }
        expected += 7744 * 256 + 256 + 256 * actions + actions
        let widths = [4 * 84 * 84] + convs.map(\.outputCount) + [256, actions]
        let spec = MLPSpec(widths: widths, layers: widths.indices.dropLast().map {
            LayerSpec(backend: .dense, initialization: .xavierUniform, convolution: $0 < 15 ? convs[$0] : nil)
        }, graph: graph)
        XCTAssertEqual(spec.shapes.reduce(0) { $0 + $1.count + $1.fanOut }, expected)
        XCTAssertEqual(spec.layerInputWidths[15], 7744)
        XCTAssertEqual(convs.map(\.height), [84, 42, 42, 42, 42, 42, 21, 21, 21, 21, 21, 11, 11, 11, 11])
        XCTAssertEqual(convs.map(\.outChannels), [32, 32, 32, 32, 32, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64])
        var g = Generator(seed: 1)
        let net = MLP(spec: spec, generator: &g)
        let out = net.predict(g.floats(net.inputWidth * 2, scale: 1), batch: 2)
        XCTAssertEqual(out.count, 2 * actions)
        XCTAssertTrue(out.allSatisfy(\.isFinite))
    }
}

