import CKernels
@testable import NeuralNet
import SparrowCore
import XCTest

/// Runs `body` once with each CKernels body this CPU can run (AVX-512, AVX2 + FMA, portable C), restoring the choice.
func withEachKernelBody(_ body: (String) throws -> Void) rethrows {
    let chosen = KernelBody.current
    defer { KernelBody.use(chosen) }
    for b in KernelBody.available {
        XCTAssertTrue(KernelBody.use(b))
        try body(b.rawValue)
    }
}

/// The fast kernels (CKernels, OpenBLAS) against their plain twins in `ReferenceKernels`; the CKernels ones in both
/// of their bodies (AVX2 + FMA and portable C, see kernels.c).
final class KernelTests: XCTestCase {
    let batches = [1, 2, 3, 7, 8, 9, 17, 31, 32, 33, 63, 64, 65, 100, 129, 256]

    func testTheCPUsKernelBodyIsChosen() {
        let expected: KernelBody = CPUInfo.current.hasAVX512 ? .avx512 : CPUInfo.current.hasAVX2FMA ? .avx2 : .portable
        XCTAssertEqual(KernelBody.current, expected, "the widest body the CPU runs: \(CPUInfo.current.summary)")
        XCTAssertEqual(KernelBody.best, expected)
        XCTAssertEqual(KernelBody.available.first, expected)
        XCTAssertEqual(KernelBody.available.last, .portable)
        withEachKernelBody { name in XCTAssertEqual(KernelBody.current.rawValue, name) }
        if !CPUInfo.current.hasAVX512 { XCTAssertFalse(KernelBody.use(.avx512), "a CPU without AVX-512 refuses its body") }
        XCTAssertEqual(KernelBody.current, expected, "a refused switch changes nothing")
    }

    func testSparseForwardTransposedAndWeightGradientMatchReference() { withEachKernelBody { body in
        var g = Generator(seed: 1)
        for (t, batch) in batches.enumerated() {
            let shape = LayerShape(fanIn: 1 + g.nextInt(below: 40), fanOut: 1 + g.nextInt(below: 40))
            let density = [0.02, 0.1, 0.5, 1.0][t % 4]
            let pos = randomPositions(shape, density: density, generator: &g)
            let values = g.floats(pos.count), bias = g.floats(shape.fanOut)
            let layer = SparseLayer(shape: shape, positions: pos, values: values, biases: bias)
            let idx = layer.index
            let x = g.floats(shape.fanIn * batch), dY = g.floats(shape.fanOut * batch)
            let msg = "\(body): shape \(shape) batch \(batch) nnz \(pos.count)"

            var y = [Float](repeating: .nan, count: shape.fanOut * batch)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, batch: batch, into: $0.baseAddress!) } }
            assertClose(y, ReferenceKernels.spmm(rows: shape.fanOut, ptr: idx.rowPointer, idx: idx.columnIndex, values: values,
                                                 perm: nil, x: x, batch: batch, bias: bias), tolerance: 1e-5, "forward " + msg)
            // Forward also equals the dense product of the densified weights.
            assertClose(y, ReferenceKernels.matmul(w: layer.denseWeights(), fanIn: shape.fanIn, fanOut: shape.fanOut,
                                                   x: x, batch: batch, bias: bias), tolerance: 1e-5, "dense twin " + msg)

            var dx = [Float](repeating: .nan, count: shape.fanIn * batch)
            dY.withUnsafeBufferPointer { d in dx.withUnsafeMutableBufferPointer { layer.inputGradient(outputGradient: d.baseAddress!, batch: batch, into: $0.baseAddress!) } }
            assertClose(dx, ReferenceKernels.matmulTransposed(w: layer.denseWeights(), fanIn: shape.fanIn, fanOut: shape.fanOut,
                                                              dY: dY, batch: batch), tolerance: 1e-5, "transposed " + msg)

            dY.withUnsafeBufferPointer { d in x.withUnsafeBufferPointer { layer.computeGradients(outputGradient: d.baseAddress!, input: $0.baseAddress!, batch: batch) } }
            assertClose(layer.weight.gradients, ReferenceKernels.sddmm(rows: shape.fanOut, ptr: idx.rowPointer, idx: idx.columnIndex,
                                                                       dY: dY, x: x, batch: batch), tolerance: 1e-5, "sddmm " + msg)
            let dense = ReferenceKernels.outerGradient(dY: dY, x: x, fanIn: shape.fanIn, fanOut: shape.fanOut, batch: batch)
            assertClose(layer.weight.gradients, pos.map { dense[Int($0)] }, tolerance: 1e-5, "sampled dense grad " + msg)
            let bg = (0..<shape.fanOut).map { o in (0..<batch).reduce(Float(0)) { $0 + dY[o * batch + $1] } }
            assertClose(layer.bias.gradients, bg, tolerance: 1e-5, "bias grad " + msg)
        }
    } }

    /// Activations fused into the sparse products: forward f(W·x + b), and (Wᵀ·dZ) ⊙ f′ from the input activation.
    func testFusedActivationsMatchUnfusedReference() { withEachKernelBody { body in
        var g = Generator(seed: 5)
        for (t, batch) in [1, 3, 8, 13, 64, 77, 256].enumerated() {
            for act in [Activation.identity, .relu, .leakyReLU(slope: 0.1), .tanh] {
                let shape = LayerShape(fanIn: 5 + g.nextInt(below: 60), fanOut: 5 + g.nextInt(below: 60))
                let pos = randomPositions(shape, density: [0.05, 0.3, 0.9][t % 3], generator: &g)
                let values = g.floats(pos.count), bias = g.floats(shape.fanOut)
                let layer = SparseLayer(shape: shape, positions: pos, values: values, biases: bias)
                let x = g.floats(shape.fanIn * batch).map { act($0) }  // an activation's output as input
                let dY = g.floats(shape.fanOut * batch)
                var y = [Float](repeating: .nan, count: shape.fanOut * batch), dx = [Float](repeating: .nan, count: shape.fanIn * batch)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, batch: batch, into: $0.baseAddress!, activation: act) } }
                let ref = ReferenceKernels.matmul(w: layer.denseWeights(), fanIn: shape.fanIn, fanOut: shape.fanOut, x: x, batch: batch, bias: bias).map { act($0) }
                assertClose(y, ref, tolerance: 1e-5, "\(body): fused forward \(act) batch \(batch)")
                dY.withUnsafeBufferPointer { d in x.withUnsafeBufferPointer { xp in dx.withUnsafeMutableBufferPointer {
                    layer.inputGradient(outputGradient: d.baseAddress!, batch: batch, into: $0.baseAddress!, inputActivation: act, input: xp.baseAddress!) } } }
                let plain = ReferenceKernels.matmulTransposed(w: layer.denseWeights(), fanIn: shape.fanIn, fanOut: shape.fanOut, dY: dY, batch: batch)
                let derivative: (Float) -> Float = { a in
                    switch act { case .identity: return 1; case .relu: return a > 0 ? 1 : 0
                    case .leakyReLU(let s): return a > 0 ? 1 : s; case .tanh: return 1 - a * a }
                }
                assertClose(dx, zip(plain, x).map { $0 * derivative($1) }, tolerance: 1e-5, "\(body): fused derivative \(act) batch \(batch)")
            }
        }
    } }

    /// The element-wise kernels (dense layers use them) against their formulas, at lengths around the vector width.
    func testElementwiseKernelsMatchTheirFormulas() { withEachKernelBody { body in
        var g = Generator(seed: 6)
        for n in [1, 7, 8, 9, 16, 17, 100] {
            let z = g.floats(n), dA = g.floats(n)
            for (kind, slope) in [(Int32(0), Float(0)), (1, 0), (2, 0.01), (3, 0)] {
                let f: (Float) -> Float = { kind == 0 ? $0 : kind == 3 ? tanhf($0) : ($0 > 0 ? $0 : (kind == 1 ? 0 : slope) * $0) }
                var a = [Float](repeating: .nan, count: n), dZ = a
                sk_activation_forward(kind, slope, z, &a, n)
                XCTAssertEqual(a, z.map(f), "\(body): forward kind \(kind) n \(n)")
                sk_activation_backward(kind, slope, dA, z, a, &dZ, n)
                let d: [Float] = (0..<n).map { i in
                    kind == 0 ? dA[i] : kind == 3 ? dA[i] * (1 - a[i] * a[i]) : dA[i] * (z[i] > 0 ? 1 : (kind == 1 ? 0 : slope))
                }
                XCTAssertEqual(dZ, d, "\(body): backward kind \(kind) n \(n)")
            }
            for (rows, ld) in [(1, n), (3, n + 5)] {
                let x = g.floats(rows * ld)
                var out = [Float](repeating: .nan, count: rows)
                sk_rowsum(Int32(rows), x, Int32(ld), Int32(n), &out)
                let ref = (0..<rows).map { r in (0..<n).reduce(0.0) { $0 + Double(x[r * ld + $1]) } }.map { Float($0) }
                assertClose(out, ref, tolerance: 1e-5, "\(body): rowsum rows \(rows) n \(n)")
            }
        }
    } }

    /// A dense enough, wide enough truly sparse layer runs its products through sgemm (`DensePath`) and gives the
    /// products of its live weights: forward, input gradient (a row range too), weight and bias gradients, also
    /// after a topology change has dropped connections (their stale values must not stay in the dense copy) and at
    /// batch 1; a sparser layer of the same shape stays on the sparse kernels.
    func testDensePathGivesTheSparseProducts() {
        var g = Generator(seed: 13)
        let shape = LayerShape(fanIn: 80, fanOut: 70)
        XCTAssertFalse(SparseLayer(shape: shape, positions: randomPositions(shape, density: 0.3, generator: &g),
                                   values: g.floats(1680), biases: g.floats(70)).runsDense)
        XCTAssertFalse(SparseLayer(shape: LayerShape(fanIn: 11, fanOut: 256), positions: (0..<Int32(11 * 256)).map { $0 },
                                   values: g.floats(11 * 256), biases: g.floats(256)).runsDense, "a small fan stays sparse")
        var pos = randomPositions(shape, density: 0.9, generator: &g)
        let layer = SparseLayer(shape: shape, positions: pos, values: g.floats(pos.count), biases: g.floats(70))
        XCTAssertTrue(layer.runsDense)
        for round in 0..<3 {
            if round > 0 {
                // Drop a fifth of the connections and grow half as many where there were none: still dense enough
                // for the dense path (0.9 → ~0.81 → ~0.73).
                let kept = (0..<pos.count).filter { _ in g.nextInt(below: 5) != 0 }
                let live = Set(pos)
                var grown: [Position] = []
                while grown.count < (pos.count - kept.count) / 2 {
                    let p = Position(g.nextInt(below: shape.count))
                    if !live.contains(p) && !grown.contains(p) { grown.append(p) }
                }
                grown.sort()
                layer.apply(TopologyPlan(kept: kept, grown: grown), grownValues: g.floats(grown.count), keepRegrown: false)
                pos = layer.positions
                XCTAssertEqual(layer.runsDense, Double(pos.count) >= 0.55 * Double(shape.count))
            }
            for batch in [1, 7, 32] {
                let x = g.floats(shape.fanIn * batch), dY = g.floats(shape.fanOut * batch)
                let w = layer.denseWeights(), msg = "round \(round) batch \(batch)"
                var y = [Float](repeating: .nan, count: shape.fanOut * batch)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, batch: batch, into: $0.baseAddress!) } }
                assertClose(y, ReferenceKernels.matmul(w: w, fanIn: shape.fanIn, fanOut: shape.fanOut, x: x, batch: batch,
                                                       bias: layer.bias.values), tolerance: 1e-5, "forward " + msg)
                let rows = 5..<61
                var dx = [Float](repeating: .nan, count: shape.fanIn * batch)
                dY.withUnsafeBufferPointer { d in x.withUnsafeBufferPointer { xp in dx.withUnsafeMutableBufferPointer {
                    layer.inputGradient(outputGradient: d.baseAddress!, batch: batch, into: $0.baseAddress!, inputActivation: .identity,
                                        input: xp.baseAddress!, rows: rows) } } }
                let full = ReferenceKernels.matmulTransposed(w: w, fanIn: shape.fanIn, fanOut: shape.fanOut, dY: dY, batch: batch)
                assertClose(Array(dx[(rows.lowerBound * batch)..<(rows.upperBound * batch)]),
                            Array(full[(rows.lowerBound * batch)..<(rows.upperBound * batch)]), tolerance: 1e-5, "transposed " + msg)
                XCTAssertTrue(dx[0].isNaN && dx.last!.isNaN, "rows outside the range stay unwritten")
                dY.withUnsafeBufferPointer { d in x.withUnsafeBufferPointer { layer.computeGradients(outputGradient: d.baseAddress!, input: $0.baseAddress!, batch: batch) } }
                let dense = ReferenceKernels.outerGradient(dY: dY, x: x, fanIn: shape.fanIn, fanOut: shape.fanOut, batch: batch)
                assertClose(layer.weight.gradients, pos.map { dense[Int($0)] }, tolerance: 1e-5, "weight gradient " + msg)
                let bg = (0..<shape.fanOut).map { o in (0..<batch).reduce(Float(0)) { $0 + dY[o * batch + $1] } }
                assertClose(layer.bias.gradients, bg, tolerance: 1e-5, "bias gradient " + msg)
            }
        }
        // Switched off, the same layer runs the sparse kernels.
        DensePath.use(.off)
        defer { DensePath.use(.rule) }
        XCTAssertFalse(SparseLayer(shape: shape, positions: pos, values: layer.weight.values, biases: layer.bias.values).runsDense)
    }

    /// Indices are 16-bit up to fans of 65 536 and 32-bit beyond; both widths run the same products (every body).
    func testWideAndNarrowIndicesMatchReference() { withEachKernelBody { body in
        var g = Generator(seed: 9)
        for (fanIn, fanOut, wide) in [(65_536, 3, false), (70_001, 3, true), (4, 65_537, true)] {
            let shape = LayerShape(fanIn: fanIn, fanOut: fanOut)
            // A few hundred connections, the extreme columns and rows included.
            var set = Set<Position>([0, Position(fanIn - 1), Position((fanOut - 1) * fanIn), Position(fanIn * fanOut - 1)])
            while set.count < 300 { set.insert(Position(g.nextInt(below: fanIn * fanOut))) }
            let pos = set.sorted()
            let values = g.floats(pos.count), bias = g.floats(fanOut)
            let layer = SparseLayer(shape: shape, positions: pos, values: values, biases: bias)
            let idx = layer.index
            XCTAssertEqual(idx.isWide, wide, "\(shape)")
            XCTAssertEqual(idx.positions, pos)
            XCTAssertEqual(idx.storageBytes, (fanIn + 1 + fanOut + 1) * 4 + pos.count * 3 * (wide ? 4 : 2))
            XCTAssertEqual(idx.cscToCSR.sorted(), (0..<Int32(pos.count)).map { $0 })
            for batch in [1, 8, 33] {
                let x = g.floats(fanIn * batch), dY = g.floats(fanOut * batch)
                let msg = "\(body): shape \(shape) batch \(batch)"
                var y = [Float](repeating: .nan, count: fanOut * batch)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, batch: batch, into: $0.baseAddress!) } }
                assertClose(y, ReferenceKernels.spmm(rows: fanOut, ptr: idx.rowPointer, idx: idx.columnIndex, values: values,
                                                     perm: nil, x: x, batch: batch, bias: bias), tolerance: 1e-5, "forward " + msg)
                // The transposed product over the CSC view, the last rows only (as a critic's action rows).
                let rows = (fanIn - 2)..<fanIn
                var dx = [Float](repeating: .nan, count: fanIn * batch)
                dY.withUnsafeBufferPointer { d in x.withUnsafeBufferPointer { xp in dx.withUnsafeMutableBufferPointer {
                    layer.inputGradient(outputGradient: d.baseAddress!, batch: batch, into: $0.baseAddress!, inputActivation: .identity,
                                        input: xp.baseAddress!, rows: rows) } } }
                let full = ReferenceKernels.spmm(rows: fanIn, ptr: idx.columnPointer, idx: idx.rowIndex, values: values,
                                                 perm: idx.cscToCSR, x: dY, batch: batch, bias: nil)
                assertClose(Array(dx[(rows.lowerBound * batch)...]), Array(full[(rows.lowerBound * batch)...]), tolerance: 1e-5,
                            "transposed " + msg)
                XCTAssertTrue(dx[0].isNaN, "rows outside the range stay unwritten")
                dY.withUnsafeBufferPointer { d in x.withUnsafeBufferPointer { layer.computeGradients(outputGradient: d.baseAddress!, input: $0.baseAddress!, batch: batch) } }
                assertClose(layer.weight.gradients, ReferenceKernels.sddmm(rows: fanOut, ptr: idx.rowPointer, idx: idx.columnIndex,
                                                                           dY: dY, x: x, batch: batch), tolerance: 1e-5, "sddmm " + msg)
            }
        }
    } }

    func testCSCViewIsAPermutationOfCSR() {
        var g = Generator(seed: 2)
        let shape = LayerShape(fanIn: 37, fanOut: 29)
        let pos = randomPositions(shape, density: 0.3, generator: &g)
        let idx = SparseIndex(shape: shape, positions: pos)
        XCTAssertEqual(idx.positions, pos)
        let cscToCSR = idx.cscToCSR, columns = idx.columnIndex, rows = idx.rowIndex  // copies, derived per access
        XCTAssertEqual(Set(cscToCSR), Set((0..<Int32(pos.count)).map { $0 }))
        for c in 0..<shape.fanIn {
            var lastRow: Int32 = -1
            for s in Int(idx.columnPointer[c])..<Int(idx.columnPointer[c + 1]) {
                let k = Int(cscToCSR[s])
                XCTAssertEqual(Int(columns[k]), c)
                XCTAssertEqual(Int(pos[k]) / shape.fanIn, Int(rows[s]))
                XCTAssertGreaterThan(rows[s], lastRow)
                lastRow = rows[s]
            }
        }
    }

    func testDenseLayerBLASMatchesReference() {
        var g = Generator(seed: 3)
        for batch in [1, 5, 64] {
            let shape = LayerShape(fanIn: 13, fanOut: 11)
            let w = g.floats(shape.count), b = g.floats(shape.fanOut)
            let layer = DenseLayer(shape: shape, weights: w, biases: b)
            let x = g.floats(shape.fanIn * batch), dY = g.floats(shape.fanOut * batch)
            var y = [Float](repeating: 0, count: shape.fanOut * batch), dx = [Float](repeating: 0, count: shape.fanIn * batch)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, batch: batch, into: $0.baseAddress!) } }
            dY.withUnsafeBufferPointer { d in dx.withUnsafeMutableBufferPointer { layer.inputGradient(outputGradient: d.baseAddress!, batch: batch, into: $0.baseAddress!) } }
            dY.withUnsafeBufferPointer { d in x.withUnsafeBufferPointer { layer.computeGradients(outputGradient: d.baseAddress!, input: $0.baseAddress!, batch: batch) } }
            assertClose(y, ReferenceKernels.matmul(w: w, fanIn: 13, fanOut: 11, x: x, batch: batch, bias: b), tolerance: 1e-5)
            assertClose(dx, ReferenceKernels.matmulTransposed(w: w, fanIn: 13, fanOut: 11, dY: dY, batch: batch), tolerance: 1e-5)
            assertClose(layer.weight.gradients, ReferenceKernels.outerGradient(dY: dY, x: x, fanIn: 13, fanOut: 11, batch: batch), tolerance: 1e-5)
        }
    }

    func testAdamKernelMatchesReferenceInEveryMode() { withEachKernelBody { body in
        var g = Generator(seed: 4)
        for n in [1, 7, 8, 37, 100] {
            for mode in 0...2 {
                for decoupled in [false, true] {
                    let w = g.floats(n), grad = g.floats(n), m = g.floats(n, scale: 0.1)
                    let v = g.floats(n, scale: 0.01).map { abs($0) }
                    let mask = (0..<n).map { _ in Float(g.nextInt(below: 2)) }
                    let t = 1 + g.nextInt(below: 50)
                    let ref = ReferenceKernels.adam(w: w, g: grad, m: m, v: v, mask: mask, maskMode: mode, lr: 1e-2,
                                                    beta1: 0.9, beta2: 0.999, step: t, eps: 1e-8, weightDecay: 0.1,
                                                    decoupled: decoupled)
                    var w2 = w, m2 = m, v2 = v
                    let bc1 = Float(1 - pow(0.9, Double(t))), bc2 = Float(1 - pow(0.999, Double(t)))
                    sk_adam(Int32(n), &w2, grad, &m2, &v2, mask, Int32(mode), 1e-2, 0.9, 0.999, bc1, bc2, 1e-8, 0.1,
                            decoupled ? 1 : 0)
                    let msg = "\(body): n \(n) mode \(mode) decoupled \(decoupled)"
                    assertClose(w2, ref.w, tolerance: 1e-5, msg)
                    assertClose(m2, ref.m, tolerance: 1e-5, msg)
                    assertClose(v2, ref.v, tolerance: 1e-5, msg)
                }
            }
        }
    } }
}

/// The AVX-512 bodies that keep the AVX2 body's per-element order (kernels.c) give its results bit for bit: the
/// sparse product with every fused post-op, plain and through the CSC permutation, at batch sizes around both
/// vector widths and every mix of its 128-, 64- and 32-column passes; Adam in every mask mode; the activations; the
/// masked-dense target update. An AVX-512 machine then trains exactly as an AVX2 machine wherever the weight
/// gradient does not enter.
final class AVX512KernelTests: XCTestCase {
    func withBody<T>(_ b: KernelBody, _ f: () -> T) -> T {
        let chosen = KernelBody.current
        defer { KernelBody.use(chosen) }
        XCTAssertTrue(KernelBody.use(b))
        return f()
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(CPUInfo.current.hasAVX512, "this CPU has no AVX-512 (\(CPUInfo.current.summary))")
    }

    func testSparseProductMatchesAVX2BitForBit() {
        var g = Generator(seed: 11)
        for batch in [2, 5, 8, 15, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65, 80, 96, 100, 127, 129, 160, 192, 200,
                      224, 256, 300] {
            let shape = LayerShape(fanIn: 3 + g.nextInt(below: 50), fanOut: 1 + g.nextInt(below: 30))
            let pos = randomPositions(shape, density: [0.05, 0.3, 1.0][batch % 3], generator: &g)
            let idx = SparseIndex(shape: shape, positions: pos)
            let ld = batch + [0, 3, 16][batch % 3]  // rows longer than the batch too
            let values = g.floats(pos.count), bias = g.floats(shape.fanOut)
            let cscValues = idx.cscToCSR.map { values[Int($0)] }
            let x = g.floats(shape.fanIn * ld), gate = g.floats(shape.fanOut * ld)
            let dY = g.floats(shape.fanOut * ld), gateIn = g.floats(shape.fanIn * ld)
            for post: Int32 in 0...5 {
                func forward(_ b: KernelBody) -> [Float] {
                    withBody(b) {
                        var y = [Float](repeating: .nan, count: shape.fanOut * ld)
                        idx.withCSR { p, ci, wide in
                            sk_spmm(Int32(shape.fanOut), p, ci, wide, values, x, Int32(ld),
                                    Int32(batch), bias, &y, Int32(ld), post, 0.1, post >= 3 ? gate : nil)
                        }
                        return y
                    }
                }
                func transposed(_ b: KernelBody) -> [Float] {
                    withBody(b) {
                        var dx = [Float](repeating: .nan, count: shape.fanIn * ld)
                        idx.withCSC { cp, ri, wide in
                            sk_spmm(Int32(shape.fanIn), cp, ri, wide, cscValues, dY,
                                    Int32(ld), Int32(batch), nil, &dx, Int32(ld), post, 0.1, post >= 3 ? gateIn : nil)
                        }
                        return dx
                    }
                }
                let msg = "shape \(shape) batch \(batch) ld \(ld) post \(post)"
                XCTAssertEqual(forward(.avx512).map(\.bitPattern), forward(.avx2).map(\.bitPattern), "forward " + msg)
                XCTAssertEqual(transposed(.avx512).map(\.bitPattern), transposed(.avx2).map(\.bitPattern), "transposed " + msg)
            }
        }
    }

    func testAdamAndActivationsMatchAVX2BitForBit() {
        var g = Generator(seed: 12)
        for n in [1, 7, 8, 15, 16, 17, 33, 100, 1000] {
            let w = g.floats(n), grad = g.floats(n), m = g.floats(n, scale: 0.1), v = g.floats(n, scale: 0.01).map { abs($0) }
            let mask = (0..<n).map { _ in Float(g.nextInt(below: 2)) }
            for mode: Int32 in 0...2 {
                for decoupled: Int32 in [0, 1] {
                    func run(_ b: KernelBody) -> [UInt32] {
                        withBody(b) {
                            var w2 = w, m2 = m, v2 = v
                            sk_adam(Int32(n), &w2, grad, &m2, &v2, mask, mode, 3e-4, 0.9, 0.999, 0.3, 0.02, 1e-8, 1e-4, decoupled)
                            return (w2 + m2 + v2).map(\.bitPattern)
                        }
                    }
                    XCTAssertEqual(run(.avx512), run(.avx2), "adam n \(n) mode \(mode) decoupled \(decoupled)")
                }
            }
            let z = g.floats(n), dA = g.floats(n)
            for (kind, slope) in [(Int32(1), Float(0)), (2, 0.01), (3, 0)] {
                func run(_ b: KernelBody) -> [UInt32] {
                    withBody(b) {
                        var a = [Float](repeating: .nan, count: n), dZ = a
                        sk_activation_forward(kind, slope, z, &a, n)
                        sk_activation_backward(kind, slope, dA, z, a, &dZ, n)
                        return (a + dZ).map(\.bitPattern)
                    }
                }
                XCTAssertEqual(run(.avx512), run(.avx2), "activation \(kind) n \(n)")
            }
        }
    }

    /// The masked-dense target update's three passes (the portable loops compiled for each instruction set).
    func testTargetUpdateMatchesAVX2BitForBit() {
        var g = Generator(seed: 13)
        for n in [1, 7, 8, 15, 16, 17, 33, 100, 301, 1000] {
            let t = g.floats(n).map { g.nextInt(below: 3) == 0 ? 0 : $0 }, o = g.floats(n).map { g.nextInt(below: 3) == 0 ? 0 : $0 }
            func run(_ b: KernelBody) -> [UInt64] {
                withBody(b) {
                    var t2 = t, onz = 0, keys = [UInt64](repeating: 0, count: n)
                    let nz = sk_blend_count(n, &t2, o, 0.005, &onz)
                    let k = sk_drop_keys(n, t2, &keys)
                    var mask = [Float](repeating: .nan, count: n)
                    sk_prune_mask(n, &t2, 1, k > 0 ? keys.prefix(k).sorted()[k / 3] : 0, &mask)
                    return [UInt64(nz), UInt64(onz), UInt64(k)] + keys.prefix(k) + (t2 + mask).map { UInt64($0.bitPattern) }
                }
            }
            XCTAssertEqual(run(.avx512), run(.avx2), "n \(n)")
        }
    }
}
