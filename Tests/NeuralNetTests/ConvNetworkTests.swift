@testable import NeuralNet
import SparrowCore
import XCTest

/// Convolutions as layers of a network (`LayerSpec.convolution`): gradients of a conv + fully connected network
/// against finite differences in every backend, the truly sparse and masked backends against each other (values,
/// gradients, RigL's dense scores and topology decisions), exact archives, target copies across a topology change,
/// and the kernel-aware sparsity mathematics (ERK, Glorot and sparsity-aware fans) against RigL's formulas.
final class ConvNetworkTests: XCTestCase {
    /// 2×9×9 → conv 3·4×4/2 "SAME" (pad 1 before, 2 after) → 3×5×5 → conv 4·3×3/1 → 4×3×3 → 5 → 3.
    let convolutions = [ConvGeometry.same(inChannels: 2, size: 9, outChannels: 3, kernel: 4, stride: 2),
                        ConvGeometry(inChannels: 3, height: 5, width: 5, outChannels: 4, kernel: 3)]

    func spec(_ backend: LayerBackend, activation: Activation = .tanh, densities: [Double] = [0.6, 0.5, 0.7, 0.8],
              initialization: WeightInit = .xavierUniform) -> MLPSpec {
        let widths = [convolutions[0].inputCount, convolutions[0].outputCount, convolutions[1].outputCount, 5, 3]
        let layers = densities.enumerated().map { l, d in
            LayerSpec(backend: backend, density: backend == .dense ? 1 : d, initialization: initialization,
                      convolution: l < convolutions.count ? convolutions[l] : nil)
        }
        return MLPSpec(widths: widths, activation: activation, outputActivation: .identity, layers: layers)
    }

    func network(_ backend: LayerBackend, seed: UInt64 = 5, activation: Activation = .tanh) -> MLP {
        networkWithBiases(spec(backend, activation: activation), seed: seed)
    }

    func lossAndBackward(_ net: MLP, _ x: [Float], _ c: [Float], batch: Int) -> (Double, [Float]) {
        quadraticLossAndBackward(net, x, c, batch: batch)
    }

    func testGradientsOfAConvNetworkMatchFiniteDifferences() {
        for backend in LayerBackend.allCases {
            let net = network(backend), batch = 3
            var g = Generator(seed: 9)
            let x = g.floats(net.inputWidth * batch), c = g.floats(net.outputWidth * batch)
            let (_, inputGradient) = lossAndBackward(net, x, c, batch: batch)
            let analytic = net.parameters.map(\.gradients)
            func loss(_ x: [Float]) -> Double { quadraticLoss(net.predict(x, batch: batch), c) }
            let eps: Float = 1e-2
            func compare(_ a: Float, _ n: Double, _ what: String) {
                XCTAssertEqual(Double(a), n, accuracy: 2e-2 * abs(n) + 3e-3, "\(backend) \(what)")
            }
            var checked = 0
            for (k, tensor) in net.parameters.enumerated() {
                // Every entry of the small tensors, a spread of the larger ones (absent masked taps included).
                for i in stride(from: 0, to: tensor.count, by: max(1, tensor.count / 40)) {
                    let v = tensor.values[i]
                    tensor.values[i] = v + eps; let lp = loss(x)
                    tensor.values[i] = v - eps; let lm = loss(x)
                    tensor.values[i] = v
                    compare(analytic[k][i], (lp - lm) / (2 * Double(eps)), "tensor \(k) entry \(i)")
                    checked += 1
                }
            }
            var xm = x
            for i in stride(from: 0, to: x.count, by: 7) {
                xm[i] = x[i] + eps; let lp = loss(xm)
                xm[i] = x[i] - eps; let lm = loss(xm)
                xm[i] = x[i]
                compare(inputGradient[i], (lp - lm) / (2 * Double(eps)), "input \(i)")
            }
            XCTAssertGreaterThan(checked, 100)
            XCTAssertTrue(backend == .sparse ? net.layers[0] is SparseConv2D : net.layers[0] is DenseConv2D)
            XCTAssertEqual(net.layers[1].convolution, convolutions[1])
            XCTAssertNil(net.layers[2].convolution)
        }
    }

    /// The truly sparse and masked backends built from one seed hold the same connections and compute the same
    /// outputs, live-weight gradients, input gradients and RigL scores; a RigL update then makes the same decisions.
    func testSparseAndMaskedConvNetworksAgreeThroughARigLUpdate() {
        let sparse = network(.sparse, activation: .relu), masked = network(.masked, activation: .relu)
        let batch = 4
        let (x, c) = assertSparseMatchesMasked(sparse, masked, batch: batch)
        for l in 0..<2 {
            assertClose(masked.denseWeightGradient(layer: l, masked.workspace(batch: batch)), masked.layers[l].weight.gradients,
                        tolerance: 1e-4, "a masked conv's dense gradient is its score")
        }
        let rigl = TopologyEvolution.rigl(period: 1, initialDropFraction: 0.3, lastUpdateStep: 10)
        var gs = Generator(seed: 8), gm = Generator(seed: 8)
        let before = sparse.layers.map(\.positions)
        let plansS = sparse.updateTopology(rigl, step: 1, workspace: sparse.workspace(batch: batch), generator: &gs)
        let plansM = masked.updateTopology(rigl, step: 1, workspace: masked.workspace(batch: batch), generator: &gm)
        XCTAssertEqual(plansS, plansM)
        XCTAssertFalse(plansS[0]!.grown.isEmpty, "the conv layer changed")
        for (l, (s, m)) in zip(sparse.layers, masked.layers).enumerated() {
            XCTAssertEqual(s.positions, m.positions, "layer \(l)")
            XCTAssertEqual(s.positions.count, before[l].count, "layer \(l) keeps its live count")
            XCTAssertNotEqual(s.positions, before[l], "layer \(l) changed its topology")
            XCTAssertEqual(s.liveWeights, m.liveWeights, "layer \(l)")
        }
        assertClose(sparse.predict(x, batch: batch), masked.predict(x, batch: batch), tolerance: 1e-4)
        // The stride-1 convolution's input gradient runs on its transposed twin, rebuilt for the new topology.
        XCTAssertEqual((sparse.layers[1] as! SparseConv2D).inputGradientMethod, .transposedForward)
        assertClose(lossAndBackward(sparse, x, c, batch: batch).1, lossAndBackward(masked, x, c, batch: batch).1, tolerance: 1e-4)
    }

    /// Archives keep the convolutions: a decoded network has the same layers, state and outputs; a target copied
    /// after a topology change (τ = 1, copying the online topology) computes what the online network computes.
    func testArchivesAndTargetCopiesKeepConvolutions() throws {
        for backend in LayerBackend.allCases {
            let net = network(backend)
            var g = Generator(seed: 4)
            let x = g.floats(net.inputWidth * 2)
            let target = net.copy()
            if backend != .dense {
                var r = Generator(seed: 2)
                net.updateTopology(.set(period: 1, zeta: 0.4), step: 1, generator: &r)
                XCTAssertNotEqual(net.layers[0].positions, target.layers[0].positions)
            }
            let adam = Adam(learningRate: 1e-3)
            _ = lossAndBackward(net, x, g.floats(net.outputWidth * 2), batch: 2)
            adam.step(net)
            let decoded = try NetworkArchive.decode(try NetworkArchive.encode(net, adam: adam)).network
            XCTAssertEqual(decoded.spec, net.spec)
            for (a, b) in zip(decoded.parameters, net.parameters) {
                XCTAssertEqual(a.values, b.values); XCTAssertEqual(a.firstMoment, b.firstMoment)
                XCTAssertEqual(a.secondMoment, b.secondMoment); XCTAssertEqual(a.mask, b.mask)
            }
            XCTAssertEqual(decoded.predict(x, batch: 2), net.predict(x, batch: 2), "\(backend)")
            target.softUpdate(toward: net, tau: 1, topology: .copyOnline)
            XCTAssertEqual(target.predict(x, batch: 2), net.predict(x, batch: 2), "\(backend) target")
            for (t, o) in zip(target.layers, net.layers) { XCTAssertEqual(t.positions, o.positions) }
            let acting = net.trulySparse()
            XCTAssertTrue(backend == .dense ? acting.layers[0] is DenseConv2D : acting.layers[0] is SparseConv2D)
            assertClose(acting.predict(x, batch: 2), net.predict(x, batch: 2), tolerance: 1e-5)
        }
    }

    /// RigL's ERK over the Nature CNN's five layers (`sparse_utils.get_sparsities_erdos_renyi`, written out again
    /// here from the formula): conv kernels by Σ/Π of [KH, KW, C_in, C_out], dense layers by (n_in + n_out)/(n_in·n_out).
    func testERKOverTheNatureCNNCountsKernelDimensions() throws {
        let convs = ConvGeometry.natureCNN()
        let shapes = convs.map(\.kernelShape) + [LayerShape(fanIn: 7744, fanOut: 512), LayerShape(fanIn: 512, fanOut: 6)]
        let dims: [[Int]] = [[8, 8, 4, 32], [4, 4, 32, 64], [3, 3, 64, 64], [7744, 512], [512, 6]]
        XCTAssertEqual(shapes.map(\.tensorDimensions), dims)
        let densities = try layerDensities(shapes: shapes, sparsity: 0.9, distribution: .erdosRenyiKernel)
        let raw = dims.map { Double($0.reduce(0, +)) / $0.reduce(1.0) { $0 * Double($1) } }
        let n = dims.map { $0.reduce(1, *) }
        // The 512×6 output layer's raw probability times ε passes 1: it becomes dense and ε is solved again over the
        // other four, ε·Σ_sparse raw·N = Σ_sparse (N − ⌊0.9·N⌋) − Σ_dense ⌊0.9·N⌋.
        let zeros = n.map { Int(0.9 * Double($0)) }
        let rhs = Double((0..<4).map { n[$0] - zeros[$0] }.reduce(0, +) - zeros[4])
        let epsilon = rhs / (0..<4).reduce(0.0) { $0 + raw[$1] * Double(n[$1]) }
        XCTAssertGreaterThan(raw[4] * epsilon, 1)
        XCTAssertEqual(densities[4], 1)
        for l in 0..<4 { XCTAssertEqual(densities[l], epsilon * raw[l], accuracy: 1e-12, "layer \(l)") }
        XCTAssertGreaterThan(densities[0], densities[3], "the small first conv keeps more of its kernel than the 7744×512 layer")
    }

    /// Glorot's conv fans are C_in·KH·KW and C_out·KH·KW (Keras); RigL's sparsity-aware bound uses live fans with an
    /// input unit = an input channel (the mask summed over the kernel window first, `unit_scaled_init`).
    func testConvInitialisersUseKernelFans() {
        let g = ConvGeometry(inChannels: 3, height: 8, width: 8, outChannels: 5, kernel: 2)
        let shape = g.kernelShape
        var r = Generator(seed: 1)
        let all = (0..<Int32(shape.count)).map { $0 }
        let w = initialWeights(shape: shape, positions: all, method: .xavierUniform, generator: &r)
        let bound = Float((6.0 / Double(3 * 4 + 5 * 4)).squareRoot())
        XCTAssertLessThanOrEqual(w.map(abs).max()!, bound)
        XCTAssertGreaterThan(w.map(abs).max()!, 0.9 * bound, "the Keras conv bound, not the matrix's √(6/(12+5))")
        let positions = randomPositions(shape, density: 0.4, generator: &r)
        let (fanIn, fanOut) = liveFans(shape: shape, positions: positions)
        for channel in 0..<3 {
            let taps = positions.filter { Int($0) % shape.fanIn / 4 == channel }.count
            for column in channel * 4..<(channel + 1) * 4 { XCTAssertEqual(fanOut[column], taps) }
        }
        for row in 0..<5 { XCTAssertEqual(fanIn[row], positions.filter { Int($0) / shape.fanIn == row }.count) }
    }
}
