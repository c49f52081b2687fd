import CKernels
@testable import NeuralNet
import SparrowCore
import XCTest

/// The truly sparse convolution (CKernels/conv.c, every kernel body this CPU runs) and the im2col + sgemm dense and
/// masked baselines against the plain twins in `ReferenceConv`, the twins against finite differences in Double, and
/// the sparse layer end to end against finite differences of its own forward pass.
final class ConvKernelTests: XCTestCase {
    /// Odd shapes with the strides and paddings the Nature CNN (8×8/4, 4×4/2, 3×3/1, pad 0) and the Impala net
    /// (3×3/1 pad 1) use, channels not multiples of 8, inputs with rows and columns no window reaches, and a
    /// padded strided case.
    let geometries = [
        ConvGeometry(inChannels: 3, height: 19, width: 23, outChannels: 5, kernel: 8, stride: 4),
        ConvGeometry(inChannels: 5, height: 11, width: 10, outChannels: 7, kernel: 4, stride: 2),
        ConvGeometry(inChannels: 10, height: 6, width: 5, outChannels: 3, kernel: 3, stride: 1),
        ConvGeometry(inChannels: 6, height: 7, width: 9, outChannels: 9, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(inChannels: 3, height: 5, width: 6, outChannels: 4, kernelHeight: 2, kernelWidth: 3, stride: 2, padding: 1),
        // TF "SAME" with an odd total padding (1 before, 2 after), as the Nature CNN's second convolution on 21×21.
        ConvGeometry.same(inChannels: 5, size: 9, outChannels: 6, kernel: 4, stride: 2),
        // The Nature CNN's first convolution shape, small: 8×8/4 "SAME" (2 and 2) on 13×13.
        ConvGeometry.same(inChannels: 3, size: 13, outChannels: 5, kernel: 8, stride: 4),
    ]
    /// 1 (acting; the portable body on every machine), 32 (training), and sizes around both vector widths' tails.
    let batches = [1, 32, 9, 17, 35]
    let densities = [1.0, 0.1, 0.05]

    struct Case {
        let geometry: ConvGeometry
        let positions: [Position]
        let values: [Float]
        let biases: [Float]
        var layer: SparseConv2D { SparseConv2D(geometry: geometry, positions: positions, values: values, biases: biases) }
        var mask: [Float] {
            var m = [Float](repeating: 0, count: geometry.weightCount)
            for p in positions { m[Int(p)] = 1 }
            return m
        }
    }

    func randomCase(_ geometry: ConvGeometry, density: Double, generator g: inout Generator) -> Case {
        let shape = geometry.kernelShape
        let count = max(1, liveCounts(shapes: [shape], densities: [density])[0])
        let positions = randomTopology(shape: shape, count: count, generator: &g)
        return Case(geometry: geometry, positions: positions, values: g.floats(positions.count),
                    biases: g.floats(geometry.outChannels))
    }

    func testGeometryOfTheNatureAndImpalaConvolutions() {
        // Dopamine's and rigl/rl's padding='same': 84 → 21 → 11 → 11 and 7744 features (rigl/rl's dense1 (7744, 512));
        // TF puts the odd zero of conv2's total padding 3 at the bottom/right.
        let same = ConvGeometry.natureCNN()
        XCTAssertEqual(same.map { [$0.outputHeight, $0.outputWidth] }, [[21, 21], [11, 11], [11, 11]])
        XCTAssertEqual(same.map { [$0.padding, $0.trailingPadding] }, [[2, 2], [1, 2], [1, 1]])
        XCTAssertEqual(same[2].outputCount, 7744)
        XCTAssertEqual(geometries[5].outputHeight, 5, "⌈9/2⌉")
        let nature = ConvGeometry.natureCNN(same: false)
        XCTAssertEqual(nature.map { [$0.outputHeight, $0.outputWidth] }, [[20, 20], [9, 9], [7, 7]])
        XCTAssertEqual(nature.map(\.fanIn), [4 * 64, 32 * 16, 64 * 9])
        XCTAssertEqual(nature.map(\.fanOut), [32 * 64, 64 * 16, 64 * 9])
        XCTAssertEqual(nature.map(\.multiplyAddsPerLiveWeight), [400, 81, 49])
        XCTAssertEqual(nature[2].outputCount, 3136, "the flattened Nature CNN feature size")
        XCTAssertEqual(nature[0].forwardFLOPs(liveWeights: 100, batch: 32), 2 * 100 * 400 * 32)
        // Impala's "same" 3×3/1 convolution keeps the size; PyTorch's floor drops rows no window reaches.
        let impala = ConvGeometry(inChannels: 16, height: 42, width: 41, outChannels: 32, kernel: 3, padding: 1)
        XCTAssertEqual([impala.outputHeight, impala.outputWidth], [42, 41])
        XCTAssertEqual([geometries[0].outputHeight, geometries[0].outputWidth], [3, 4])
        XCTAssertEqual([geometries[4].outputHeight, geometries[4].outputWidth], [3, 3])
    }

    /// RigL's ERK raw probability Σdims/Πdims over [KH, KW, C_in, C_out]; on [n_in, n_out] it is the Erdős–Rényi
    /// probability the dense layers use.
    func testERKRawProbabilityCountsKernelDimensions() {
        let g = ConvGeometry.natureCNN()[1]  // 64·4×4/2 over 32 channels
        XCTAssertEqual(g.erkRawProbability, Double(4 + 4 + 32 + 64) / Double(4 * 4 * 32 * 64), accuracy: 1e-15)
        // KH·KW enter the product but only KH + KW the sum: below RigL's plain ER for conv ((C_in + C_out)/(C_in·C_out),
        // kernel dimensions ignored) and below ER on the flattened C_out × (C_in·KH·KW) matrix.
        XCTAssertLessThan(g.erkRawProbability, Double(32 + 64) / Double(32 * 64))
        XCTAssertLessThan(g.erkRawProbability, erdosRenyiEpsilonDensity(shape: LayerShape(fanIn: g.fanIn, fanOut: g.outChannels), epsilon: 1))
        // The kernel matrix knows its window, so the ER-family densities of a conv layer use the kernel formula.
        XCTAssertEqual(erdosRenyiEpsilonDensity(shape: g.kernelShape, epsilon: 1), g.erkRawProbability, accuracy: 1e-15)
        for shape in [LayerShape(fanIn: 3136, fanOut: 512), LayerShape(fanIn: 512, fanOut: 18)] {
            XCTAssertEqual(riglERKRawProbability(dimensions: [shape.fanIn, shape.fanOut]),
                           erdosRenyiEpsilonDensity(shape: shape, epsilon: 1), accuracy: 1e-15)
        }
    }

    func testPadCropAndIm2colCol2imAreAdjoint() {
        var g = Generator(seed: 21)
        for geometry in geometries {
            let batch = 3
            let x = g.floats(geometry.inputCount * batch)
            let hp = geometry.paddedHeight, wp = geometry.paddedWidth, c = geometry.inChannels
            var xp = [Float](repeating: .nan, count: c * hp * wp * batch), back = [Float](repeating: .nan, count: x.count)
            sk_conv_pad_asymmetric(Int32(c), Int32(geometry.height), Int32(geometry.width), Int32(geometry.padding),
                                   Int32(geometry.trailingPadding), Int32(batch), x, &xp)
            sk_conv_crop_asymmetric(Int32(c), Int32(geometry.height), Int32(geometry.width), Int32(geometry.padding),
                                    Int32(geometry.trailingPadding), Int32(batch), xp, &back)
            XCTAssertEqual(back, x)
            XCTAssertEqual(xp.reduce(0) { $0 + abs($1) }, x.reduce(0) { $0 + abs($1) }, accuracy: 1e-3, "the ring is zeros")
            // ⟨im2col(xp), u⟩ = ⟨xp, col2im(u)⟩.
            var s = SparseConv2D.cShape(geometry)
            let cols = geometry.fanIn * geometry.outputPositions * batch
            var col = [Float](repeating: .nan, count: cols), adj = [Float](repeating: .nan, count: xp.count)
            let u = g.floats(cols)
            sk_conv_im2col(&s, Int32(batch), xp, &col)
            sk_conv_col2im(&s, Int32(batch), u, &adj)
            let lhs = zip(col, u).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let rhs = zip(xp, adj).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * (1 + abs(lhs)), "\(geometry)")
        }
    }

    /// Every kernel body against the twins: forward (plain and with fused ReLU), input gradient, weight gradient at
    /// live taps, bias gradient.
    func testSparseConvMatchesReferenceInEveryBody() { withEachKernelBody { body in
        var g = Generator(seed: 22)
        for geometry in geometries {
            for (t, batch) in batches.enumerated() {
                let density = densities[(t + geometries.firstIndex(of: geometry)!) % densities.count]
                let c = randomCase(geometry, density: density, generator: &g)
                let layer = c.layer
                let msg = "\(body): \(geometry) batch \(batch) density \(density) (\(c.positions.count) taps)"
                let x = g.floats(geometry.inputCount * batch), dY = g.floats(geometry.outputCount * batch)
                let dense = layer.denseWeights()

                let ref = ReferenceConv.forward(geometry, weights: dense, bias: c.biases, x: x, batch: batch)
                var y = [Float](repeating: .nan, count: geometry.outputCount * batch)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, batch: batch, into: $0.baseAddress!) } }
                assertClose(y, ref, tolerance: 1e-5, "forward " + msg)
                y = [Float](repeating: .nan, count: y.count)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, batch: batch, into: $0.baseAddress!, activation: .relu) } }
                assertClose(y, ref.map { max($0, 0) }, tolerance: 1e-5, "forward ReLU " + msg)
                XCTAssertTrue(ref.contains { $0 < 0 } && ref.contains { $0 > 0 }, "the ReLU check sees both signs")

                // Both input-gradient methods where the geometry has two (stride 1): the scatter kernel and the
                // forward kernel on the transposed, flipped twin.
                for method in SparseConv2D.inputGradientMethods(geometry) {
                    layer.inputGradientMethod = method
                    var dx = [Float](repeating: .nan, count: geometry.inputCount * batch)
                    dY.withUnsafeBufferPointer { d in dx.withUnsafeMutableBufferPointer { layer.inputGradient(outputGradient: d.baseAddress!, batch: batch, into: $0.baseAddress!) } }
                    assertClose(dx, ReferenceConv.inputGradient(geometry, weights: dense, dY: dY, batch: batch), tolerance: 1e-5,
                                "input gradient (\(method)) " + msg)
                }
                XCTAssertEqual(SparseConv2D.canTranspose(geometry), geometry.stride == 1, "\(geometry)")
                XCTAssertEqual(c.layer.inputGradientMethod, SparseConv2D.inputGradientMethods(geometry).last!, "the fastest is the default")

                layer.weight.gradients = [Float](repeating: .nan, count: c.positions.count)
                dY.withUnsafeBufferPointer { d in x.withUnsafeBufferPointer { layer.computeGradients(outputGradient: d.baseAddress!, input: $0.baseAddress!, batch: batch) } }
                let dW = ReferenceConv.weightGradient(geometry, dY: dY, x: x, batch: batch)
                assertClose(layer.weight.gradients, c.positions.map { dW[Int($0)] }, tolerance: 1e-5, "weight gradient " + msg)
                assertClose(layer.bias.gradients, ReferenceConv.biasGradient(geometry, dY: dY, batch: batch), tolerance: 1e-5,
                            "bias gradient " + msg)
            }
        }
    } }

    /// Truly sparse, dense (im2col + sgemm on the densified kernel) and masked-dense (dense kernel × mask) compute the
    /// same forward pass, input gradient, bias gradient and weight gradient at live taps; the dense baseline also
    /// matches the twins on a full random kernel.
    func testSparseDenseAndMaskedAgree() { withEachKernelBody { body in
        var g = Generator(seed: 23)
        for geometry in geometries {
            for batch in [1, 32] {
                for density in densities {
                    let c = randomCase(geometry, density: density, generator: &g)
                    let sparse = c.layer
                    // The masked layer gets a full random kernel: the mask must remove the absent taps' values.
                    var full = g.floats(geometry.weightCount)
                    for (k, p) in c.positions.enumerated() { full[Int(p)] = c.values[k] }
                    let masked = DenseConv2D(geometry: geometry, weights: full, biases: c.biases, mask: c.mask)
                    let dense = DenseConv2D(geometry: geometry, weights: sparse.denseWeights(), biases: c.biases)
                    let fromMask = SparseConv2D(geometry: geometry, denseWeights: full, mask: c.mask, biases: c.biases)
                    XCTAssertEqual(fromMask.positions, c.positions)
                    XCTAssertEqual(fromMask.liveWeights, c.values)
                    XCTAssertEqual(masked.positions, c.positions)
                    XCTAssertEqual(masked.liveWeights, c.values)
                    XCTAssertEqual(masked.denseWeights(), sparse.denseWeights())
                    XCTAssertEqual(masked.backend, .masked); XCTAssertEqual(dense.backend, .dense)
                    XCTAssertEqual(masked.liveConnections, sparse.liveConnections)

                    let msg = "\(body): \(geometry) batch \(batch) density \(density)"
                    let x = g.floats(geometry.inputCount * batch).map { max($0, 0) }, dY = g.floats(geometry.outputCount * batch)
                    func run(_ f: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void)
                        -> (y: [Float], dx: [Float]) {
                        var y = [Float](repeating: .nan, count: geometry.outputCount * batch)
                        var dx = [Float](repeating: .nan, count: geometry.inputCount * batch)
                        x.withUnsafeBufferPointer { xp in dY.withUnsafeBufferPointer { d in y.withUnsafeMutableBufferPointer { yp in
                            dx.withUnsafeMutableBufferPointer { f(xp.baseAddress!, d.baseAddress!, yp.baseAddress!, $0.baseAddress!) } } } }
                        return (y, dx)
                    }
                    // Forward with ReLU, and the input gradient through the previous layer's ReLU (x ≥ 0 is its output).
                    let s = run { x, d, y, dx in
                        sparse.forward(x, batch: batch, into: y, activation: .relu)
                        sparse.inputGradient(outputGradient: d, batch: batch, into: dx, inputActivation: .relu, input: x)
                        sparse.computeGradients(outputGradient: d, input: x, batch: batch)
                    }
                    for other in [dense, masked] {
                        let o = run { x, d, y, dx in
                            other.forward(x, batch: batch, into: y, activation: .relu)
                            other.inputGradient(outputGradient: d, batch: batch, into: dx, inputActivation: .relu, input: x)
                            other.computeGradients(outputGradient: d, input: x, batch: batch)
                        }
                        let name = "\(other.backend) " + msg
                        assertClose(s.y, o.y, tolerance: 1e-5, "forward " + name)
                        assertClose(s.dx, o.dx, tolerance: 1e-5, "input gradient " + name)
                        assertClose(sparse.weight.gradients, c.positions.map { other.weight.gradients[Int($0)] }, tolerance: 1e-5,
                                    "weight gradient " + name)
                        assertClose(sparse.bias.gradients, other.bias.gradients, tolerance: 1e-5, "bias gradient " + name)
                    }
                    assertClose(masked.maskedGradients, sparse.weight.gradients, tolerance: 1e-5, "masked gradients " + msg)
                    // The masked layer's dense gradient covers absent taps too (Adam masks it), as DenseLayer's does.
                    let dW = ReferenceConv.weightGradient(geometry, dY: dY, x: x, batch: batch)
                    assertClose(masked.weight.gradients, dW, tolerance: 1e-5, "dense gradient of the masked layer " + msg)
                    let plain = run { x, d, y, dx in
                        dense.forward(x, batch: batch, into: y)
                        dense.inputGradient(outputGradient: d, batch: batch, into: dx)
                    }
                    assertClose(plain.y, ReferenceConv.forward(geometry, weights: sparse.denseWeights(), bias: c.biases, x: x, batch: batch),
                                tolerance: 1e-5, "dense forward vs twin " + msg)
                    assertClose(plain.dx, ReferenceConv.inputGradient(geometry, weights: sparse.denseWeights(), dY: dY, batch: batch),
                                tolerance: 1e-5, "dense input gradient vs twin " + msg)
                }
            }
        }
    } }

    /// The twins' gradients against central differences of the twin forward pass, all in Double:
    /// L = Σ c·y + ½ Σ y², so ∂L/∂y = c + y.
    func testReferenceGradientsMatchFiniteDifferencesInDouble() {
        var g = Generator(seed: 24)
        let cases = [
            ConvGeometry(inChannels: 2, height: 7, width: 6, outChannels: 3, kernel: 3, stride: 2, padding: 1),
            ConvGeometry(inChannels: 3, height: 9, width: 10, outChannels: 2, kernel: 4, stride: 2),
            ConvGeometry(inChannels: 2, height: 5, width: 4, outChannels: 3, kernel: 3, stride: 1, padding: 1),
            ConvGeometry(inChannels: 1, height: 13, width: 12, outChannels: 2, kernel: 8, stride: 4),
        ]
        for geometry in cases {
            let batch = 2
            let w = (0..<geometry.weightCount).map { _ in g.uniform(-1, 1) }
            let b = (0..<geometry.outChannels).map { _ in g.uniform(-1, 1) }
            let x = (0..<(geometry.inputCount * batch)).map { _ in g.uniform(-1, 1) }
            let c = (0..<(geometry.outputCount * batch)).map { _ in g.uniform(-1, 1) }
            func loss(_ w: [Double], _ b: [Double], _ x: [Double]) -> Double {
                let y = ReferenceConv.forward(geometry, weights: w, bias: b, x: x, batch: batch)
                return zip(y, c).reduce(0.0) { $0 + $1.1 * $1.0 + 0.5 * $1.0 * $1.0 }
            }
            let y = ReferenceConv.forward(geometry, weights: w, bias: b, x: x, batch: batch)
            let dY = zip(c, y).map { $0 + $1 }
            let eps = 1e-6
            func check(_ analytic: [Double], _ values: [Double], _ what: String, _ l: ([Double]) -> Double) {
                XCTAssertEqual(analytic.count, values.count)
                var v = values
                for i in values.indices {
                    v[i] = values[i] + eps; let lp = l(v)
                    v[i] = values[i] - eps; let lm = l(v)
                    v[i] = values[i]
                    let numeric = (lp - lm) / (2 * eps)
                    XCTAssertEqual(analytic[i], numeric, accuracy: 1e-6 * (1 + abs(numeric)), "\(geometry) \(what) \(i)")
                }
            }
            check(ReferenceConv.weightGradient(geometry, dY: dY, x: x, batch: batch), w, "weight") { loss($0, b, x) }
            check(ReferenceConv.biasGradient(geometry, dY: dY, batch: batch), b, "bias") { loss(w, $0, x) }
            check(ReferenceConv.inputGradient(geometry, weights: w, dY: dY, batch: batch), x, "input") { loss(w, b, $0) }
        }
    }

    /// The sparse layer end to end (Float kernels, loss summed in Double) against central differences of its own
    /// forward pass: every live weight, every bias, every input. The loss is quadratic in each, so the central
    /// difference is exact up to rounding.
    func testSparseConvGradientsMatchFiniteDifferences() { withEachKernelBody { body in
        var g = Generator(seed: 25)
        for (geometry, batch) in [(geometries[3], 9), (geometries[1], 8), (geometries[4], 1), (geometries[0], 2), (geometries[5], 3)] {
            let c = randomCase(geometry, density: 0.5, generator: &g)
            let layer = c.layer
            let x = g.floats(geometry.inputCount * batch), cy = g.floats(geometry.outputCount * batch)
            func loss(_ x: [Float]) -> Double {
                var y = [Float](repeating: 0, count: geometry.outputCount * batch)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, batch: batch, into: $0.baseAddress!) } }
                return zip(y, cy).reduce(0.0) { $0 + Double($1.1) * Double($1.0) + 0.5 * Double($1.0) * Double($1.0) }
            }
            var y = [Float](repeating: 0, count: geometry.outputCount * batch)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, batch: batch, into: $0.baseAddress!) } }
            let dY = zip(cy, y).map { $0 + $1 }
            var dx = [Float](repeating: 0, count: x.count)
            dY.withUnsafeBufferPointer { d in
                x.withUnsafeBufferPointer { layer.computeGradients(outputGradient: d.baseAddress!, input: $0.baseAddress!, batch: batch) }
                dx.withUnsafeMutableBufferPointer { layer.inputGradient(outputGradient: d.baseAddress!, batch: batch, into: $0.baseAddress!) }
            }
            let eps: Float = 1e-2
            func compare(_ a: Float, _ n: Double, _ what: String) {
                XCTAssertEqual(Double(a), n, accuracy: 2e-3 * abs(n) + 2e-3, "\(body): \(geometry) batch \(batch) \(what)")
            }
            let wg = layer.weight.gradients, bg = layer.bias.gradients
            for (name, tensor, analytic) in [("weight", layer.weight, wg), ("bias", layer.bias, bg)] {
                for i in 0..<tensor.count {
                    let v = tensor.values[i]
                    tensor.values[i] = v + eps; let lp = loss(x)
                    tensor.values[i] = v - eps; let lm = loss(x)
                    tensor.values[i] = v
                    compare(analytic[i], (lp - lm) / (2 * Double(eps)), "\(name) \(i)")
                }
            }
            var xm = x
            for i in x.indices {
                xm[i] = x[i] + eps; let lp = loss(xm)
                xm[i] = x[i] - eps; let lm = loss(xm)
                xm[i] = x[i]
                compare(dx[i], (lp - lm) / (2 * Double(eps)), "input \(i)")
            }
        }
    } }

    /// The timing entry point runs and reports positive times (not a speed test).
    func testConvTimingEntryPointReportsEveryProduct() {
        let t = NeuralNetBenchmark.convLayer(geometries[3], batch: 4, density: 0.1, minimum: 0.001)
        XCTAssertEqual(t.liveWeights, liveCounts(shapes: [geometries[3].kernelShape], densities: [0.1])[0])
        for s in [t.sparse, t.dense] {
            XCTAssertGreaterThan(s.forward, 0); XCTAssertGreaterThan(s.inputGradient, 0); XCTAssertGreaterThan(s.weightGradient, 0)
        }
        XCTAssertEqual(t.denseFLOPs / t.sparseFLOPs, Double(geometries[3].weightCount) / Double(t.liveWeights), accuracy: 1e-9)
    }
}
