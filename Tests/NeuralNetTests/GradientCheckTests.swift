@testable import NeuralNet
import SparrowCore
import XCTest

/// Finite-difference checks of every layer backend and activation, and of the policy heads.
final class GradientCheckTests: XCTestCase {
    /// L = Σ c·out + ½ Σ out², accumulated in Double.
    func loss(_ net: MLP, _ x: [Float], _ c: [Float], batch: Int) -> Double {
        let out = net.predict(x, batch: batch)
        var s = 0.0
        for i in out.indices { s += Double(c[i]) * Double(out[i]) + 0.5 * Double(out[i]) * Double(out[i]) }
        return s
    }

    func check(backend: LayerBackend, activation: Activation, outputActivation: Activation = .identity,
               file: StaticString = #filePath, line: UInt = #line) {
        var g = Generator(seed: 11)
        let widths = [4, 7, 6, 3], batch = 3
        let spec = MLPSpec(widths: widths, activation: activation, outputActivation: outputActivation, backend: backend,
                           densities: backend == .dense ? nil : [0.6, 0.5, 0.7], initialization: .xavierUniform)
        let net = MLP(spec: spec, generator: &g)
        for layer in net.layers {  // non-zero biases so every bias matters
            layer.bias.setValues(g.floats(layer.shape.fanOut, scale: 0.3))
        }
        let x = g.floats(widths[0] * batch), c = g.floats(widths.last! * batch)
        let (_, inputGradient) = quadraticLossAndBackward(net, x, c, batch: batch)

        let eps: Float = 1e-3
        func numeric(_ perturb: (Float) -> Void) -> Float {
            perturb(eps); let lp = loss(net, x, c, batch: batch)
            perturb(-2 * eps); let lm = loss(net, x, c, batch: batch)
            perturb(eps)
            return Float((lp - lm) / (2 * Double(eps)))
        }
        func compare(_ a: Float, _ n: Float, _ what: String) {
            XCTAssertLessThanOrEqual(abs(a - n), 2e-2 * abs(n) + 3e-3,
                                     "\(backend) \(activation) \(what): analytic \(a) numeric \(n)", file: file, line: line)
        }
        var checked = 0
        for (l, layer) in net.layers.enumerated() {
            for tensor in [layer.weight, layer.bias] {
                let analytic = tensor.gradients
                for i in 0..<tensor.count {
                    let n = numeric { tensor.values[i] += $0 }
                    compare(analytic[i], n, "layer \(l) \(tensor === layer.bias ? "bias" : "weight") \(i)")
                    checked += 1
                }
            }
        }
        var xm = x
        for i in x.indices {
            let n: Float = {
                xm[i] = x[i] + eps; let lp = loss(net, xm, c, batch: batch)
                xm[i] = x[i] - eps; let lm = loss(net, xm, c, batch: batch)
                xm[i] = x[i]
                return Float((lp - lm) / (2 * Double(eps)))
            }()
            compare(inputGradient[i], n, "input \(i)")
        }
        XCTAssertGreaterThan(checked, 40)
    }

    func testDenseLayerGradients() {
        for a in [Activation.relu, .leakyReLU(slope: 0.1), .tanh, .identity] { check(backend: .dense, activation: a) }
    }

    func testSparseLayerGradients() {
        for a in [Activation.relu, .leakyReLU(slope: 0.1), .tanh, .identity] { check(backend: .sparse, activation: a) }
        check(backend: .sparse, activation: .relu, outputActivation: .tanh)
    }

    func testMaskedLayerGradients() {
        for a in [Activation.relu, .leakyReLU(), .tanh, .identity] { check(backend: .masked, activation: a) }
    }

    func testGaussianTanhHeadGradients() {
        for bounding in [LogStdBounding.tanhRescale(min: -5, max: 2), .clamp(min: -20, max: 2)] {
            var g = Generator(seed: 12)
            let A = 3, B = 4
            let head = GaussianTanhHead(bounds: ActionBounds(low: [-2, -1, 0], high: [2, 0.5, 3]), logStd: bounding)
            let out = g.floats(2 * A * B, scale: 1), noise = (0..<(A * B)).map { _ in Float(g.normal()) }
            let ca = g.floats(A * B), cl = g.floats(B)
            func loss(_ o: [Float]) -> Double {
                var a = [Float](repeating: 0, count: A * B), lp = [Float](repeating: 0, count: B)
                head.sample(o, noise: noise, batch: B, action: &a, logProb: &lp)
                return zip(a, ca).reduce(0.0) { $0 + Double($1.0 * $1.1) } + zip(lp, cl).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            }
            var grad = [Float](repeating: 0, count: 2 * A * B)
            head.backward(out, noise: noise, batch: B, actionGradient: ca, logProbGradient: cl, into: &grad)
            let eps: Float = 1e-3
            for i in out.indices {
                var p = out, m = out
                p[i] += eps; m[i] -= eps
                let n = Float((loss(p) - loss(m)) / (2 * Double(eps)))
                XCTAssertLessThanOrEqual(abs(grad[i] - n), 2e-2 * abs(n) + 3e-3, "\(bounding) output \(i): \(grad[i]) vs \(n)")
            }
            // Log-prob against the closed form for one entry: Normal(μ, σ).logpdf(u) − log(s(1−y²)+1e-6).
            var a = [Float](repeating: 0, count: A * B), lp = [Float](repeating: 0, count: B)
            head.sample(out, noise: noise, batch: B, action: &a, logProb: &lp)
            var expected = 0.0
            for j in 0..<A {
                let mu = Double(out[j * B]), raw = Double(out[(A + j) * B])
                let ls: Double
                switch bounding {
                case .tanhRescale(let lo, let hi): ls = Double(lo) + 0.5 * Double(hi - lo) * (tanh(raw) + 1)
                case .clamp(let lo, let hi): ls = min(max(raw, Double(lo)), Double(hi))
                }
                let sigma = exp(ls), u = mu + sigma * Double(noise[j * B]), y = tanh(u)
                let s = Double(head.bounds.scale[j])
                expected += -pow(u - mu, 2) / (2 * sigma * sigma) - ls - 0.5 * log(2 * Double.pi) - log(s * (1 - y * y) + 1e-6)
                XCTAssertEqual(Double(a[j * B]), y * s + Double(head.bounds.offset[j]), accuracy: 1e-5)
            }
            XCTAssertEqual(Double(lp[0]), expected, accuracy: 1e-3 * max(1, abs(expected)))
        }
    }

    func testDeterministicTanhHeadGradients() {
        var g = Generator(seed: 13)
        let A = 2, B = 5
        let head = DeterministicTanhHead(bounds: ActionBounds(low: [-1, 0], high: [1, 4]))
        let out = g.floats(A * B, scale: 2), ca = g.floats(A * B)
        var grad = [Float](repeating: 0, count: A * B)
        head.backward(out, batch: B, actionGradient: ca, into: &grad)
        for i in out.indices {
            var p = out, m = out, ap = grad, am = grad
            p[i] += 1e-3; m[i] -= 1e-3
            head.action(p, batch: B, into: &ap); head.action(m, batch: B, into: &am)
            let n = zip(zip(ap, am), ca).reduce(Float(0)) { $0 + ($1.0.0 - $1.0.1) * $1.1 } / 2e-3
            XCTAssertEqual(grad[i], n, accuracy: 2e-2 * abs(n) + 2e-3)
        }
        var a = [Float](repeating: 0, count: A * B)
        head.action([Float](repeating: 50, count: A * B), batch: B, into: &a)
        XCTAssertEqual(a[0], 1, accuracy: 1e-6); XCTAssertEqual(a[B], 4, accuracy: 1e-6)
    }

    func testBatchOneForwardMatchesBatchedForward() {
        for backend in LayerBackend.allCases {
            var g = Generator(seed: 14)
            let spec = MLPSpec(widths: [23, 64, 64, 2], backend: backend, densities: backend == .dense ? nil : [0.2, 0.1, 0.5])
            let net = MLP(spec: spec, generator: &g)
            let B = 9
            let x = g.floats(23 * B)
            let all = net.predict(x, batch: B)
            for b in 0..<B {
                let one = net.predict((0..<23).map { x[$0 * B + b] }, batch: 1)
                assertClose(one, [all[b], all[B + b]], tolerance: 1e-5, "\(backend) sample \(b)")
            }
        }
    }

    /// A backward pass on gathered samples gives, for those samples, the input gradient of the full-batch pass in
    /// which every other sample's output gradient is zero (what SAC's actor step relies on), on every backend and
    /// for subsets of every size class: one sample, a few, all but one, all.
    func testGatheredBackwardMatchesFullBatchWithZeroedGradients() {
        for backend in LayerBackend.allCases {
            var g = Generator(seed: 15)
            let widths = [14, 40, 33, 1], B = 37
            let spec = MLPSpec(widths: widths, backend: backend, densities: backend == .dense ? nil : [0.3, 0.2, 0.6])
            let net = MLP(spec: spec, generator: &g)
            let full = net.workspace(batch: B)
            full.input.copy(from: g.floats(widths[0] * B))
            net.forward(full)
            let outputGradient = g.floats(B)
            for subset in [[5], [0, 3, 4, 17, 36], Array(0..<B).filter { $0 != 20 }, Array(0..<B), [36, 2, 9]] {
                var masked = [Float](repeating: 0, count: B)
                for b in subset { masked[b] = outputGradient[b] }
                full.outputGradient.copy(from: masked)
                net.backward(full, parameterGradients: false, inputGradient: true)
                let expected = full.inputGradient.array
                let columns = subset.map { Int32($0) }
                let sub = columns.withUnsafeBufferPointer { net.gather(full, columns: $0) }
                XCTAssertEqual(sub.batch, subset.count)
                for (i, b) in subset.enumerated() { sub.outputGradient[i] = outputGradient[b] }
                net.backward(sub, parameterGradients: false, inputGradient: true)
                for (i, b) in subset.enumerated() {
                    XCTAssertEqual(sub.output[i], full.output[b], "\(backend) gathered output of sample \(b)")
                    let got = (0..<widths[0]).map { sub.inputGradient[$0 * subset.count + i] }
                    let want = (0..<widths[0]).map { expected[$0 * B + b] }
                    assertClose(got, want, tolerance: 1e-6, "\(backend) subset of \(subset.count), sample \(b)")
                }
                XCTAssertEqual(full.batch, B, "the source workspace keeps its batch")
            }
        }
    }

    /// An input gradient restricted to some input rows equals those rows of the full one and leaves the other rows
    /// untouched, on every backend, batched and batch-1, for a leading, middle and trailing range.
    func testInputGradientOfSomeRowsMatchesTheFullOne() {
        for backend in LayerBackend.allCases {
            for B in [1, 6] {
                var g = Generator(seed: 16)
                let widths = [9, 24, 17, 1]
                let spec = MLPSpec(widths: widths, backend: backend, densities: backend == .dense ? nil : [0.4, 0.3, 0.8])
                let net = MLP(spec: spec, generator: &g)
                let ws = net.workspace(batch: B)
                ws.input.copy(from: g.floats(widths[0] * B))
                net.forward(ws)
                ws.outputGradient.copy(from: g.floats(B))
                net.backward(ws, parameterGradients: false, inputGradient: true)
                let full = ws.inputGradient.array
                for rows in [0..<3, 4..<6, 6..<9] {
                    ws.inputGradient.copy(from: [Float](repeating: 42, count: full.count))
                    net.backward(ws, parameterGradients: false, inputGradient: true, inputRows: rows)
                    let got = ws.inputGradient.array
                    for f in 0..<widths[0] {
                        let row = Array(got[f * B..<(f + 1) * B])
                        if rows.contains(f) {
                            assertClose(row, Array(full[f * B..<(f + 1) * B]), tolerance: 1e-6, "\(backend) B=\(B) row \(f)")
                        } else {
                            XCTAssertEqual(row, [Float](repeating: 42, count: B), "\(backend) B=\(B) row \(f) outside \(rows)")
                        }
                    }
                }
            }
        }
    }
}
