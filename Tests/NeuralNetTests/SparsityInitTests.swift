import XCTest
import SparrowCore
@testable import NeuralNet

final class SparsityInitTests: XCTestCase {
    private func moments(_ x: [Float]) -> (mean: Double, variance: Double) {
        let n = Double(x.count)
        let mean = x.reduce(0) { $0 + Double($1) } / n
        let variance = x.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return (mean, variance)
    }

    /// U(−b, b): mean 0, variance b²/3; checked to 5 standard errors of the variance estimate.
    private func assertUniform(_ x: [Float], bound b: Double, _ label: String, file: StaticString = #filePath,
                               line: UInt = #line) {
        XCTAssert(x.allSatisfy { abs(Double($0)) <= b }, "\(label): outside ±\(b)", file: file, line: line)
        let (mean, variance) = moments(x)
        let n = Double(x.count)
        XCTAssertEqual(mean, 0, accuracy: 5 * b / (3 * n).squareRoot(), label, file: file, line: line)
        // Var of U² estimate: b⁴(1/5 − 1/9) / n.
        XCTAssertEqual(variance, b * b / 3, accuracy: 5 * b * b * (4.0 / 45 / n).squareRoot(), label,
                       file: file, line: line)
        XCTAssertGreaterThan(x.map { abs(Double($0)) }.max()!, 0.95 * b, "\(label): reaches the bound",
                             file: file, line: line)
    }

    func testPyTorchLinearUsesTheDenseFanIn() {
        var g = Generator(seed: 1)
        let shape = LayerShape(fanIn: 17, fanOut: 256)
        let positions = randomTopology(shape: shape, count: 1911, generator: &g)
        let w = initialWeights(shape: shape, positions: positions, method: .pytorchLinear, generator: &g)
        XCTAssertEqual(w.count, positions.count)
        assertUniform(w, bound: 1 / 17.0.squareRoot(), "pytorch weights")
        let b = initialBiases(shape: shape, method: .pytorchLinear, generator: &g)
        XCTAssertEqual(b.count, 256)
        XCTAssert(b.allSatisfy { abs(Double($0)) <= 1 / 17.0.squareRoot() })
        XCTAssertGreaterThan(Set(b).count, 200)
        // Dense layer = all positions.
        let dense = LayerShape(fanIn: 256, fanOut: 256)
        let all = (0..<dense.count).map { Position($0) }
        assertUniform(initialWeights(shape: dense, positions: all, method: .pytorchLinear, generator: &g),
                      bound: 1 / 16, "pytorch dense")
    }

    func testXavierUniformUsesDenseFansAndZeroBias() {
        var g = Generator(seed: 2)
        let shape = LayerShape(fanIn: 64, fanOut: 256)   // not square: fan_in and fan_out must both enter
        let positions = randomTopology(shape: shape, count: 8000, generator: &g)
        let w = initialWeights(shape: shape, positions: positions, method: .xavierUniform, generator: &g)
        assertUniform(w, bound: (6.0 / 320).squareRoot(), "xavier")
        XCTAssertEqual(initialBiases(shape: shape, method: .xavierUniform, generator: &g), [Float](repeating: 0, count: 256))
    }

    func testSparsityAwareBoundsUseLiveFans() {
        var g = Generator(seed: 3)
        let shape = LayerShape(fanIn: 256, fanOut: 256)
        let positions = randomTopology(shape: shape, count: 6554, generator: &g)   // ≈ 25.6 live per row and column
        let w = initialWeights(shape: shape, positions: positions, method: .sparsityAware, generator: &g)
        let (fanIn, fanOut) = liveFans(shape: shape, positions: positions)
        XCTAssertEqual(fanIn.reduce(0, +), positions.count)
        XCTAssertEqual(fanOut.reduce(0, +), positions.count)
        var scaled = [Float]()
        for (p, v) in zip(positions, w) {
            let bound = (3 / max(1, Double(fanIn[shape.row(of: p)] + fanOut[shape.column(of: p)]) / 2)).squareRoot()
            XCTAssertLessThanOrEqual(abs(Double(v)), bound)
            scaled.append(Float(Double(v) / bound))
        }
        assertUniform(scaled, bound: 1, "sparsity-aware / per-connection bound")
        // Far larger than the dense-fan Glorot bound √(6/512) ≈ 0.108: sparse layers are rescaled up.
        let (_, variance) = moments(w)
        XCTAssertGreaterThan(variance, 5 * (6.0 / 512) / 3)
        // A connection whose units have no other connections: max(1, (1 + 1)/2) = 1 → bound √3.
        XCTAssertEqual(sparsityAwareBound(fanIn: 1, fanOut: 1), 3.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(sparsityAwareBound(fanIn: 0, fanOut: 0), 3.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(initialBiases(shape: shape, method: .sparsityAware, generator: &g), [Float](repeating: 0, count: 256))
    }

    func testSparsityAwareInitOfASubsetUsesTheWholeLayersFans() {
        // Grown connections are initialised alone but must see the fans of the whole new topology.
        var g = Generator(seed: 5)
        let shape = LayerShape(fanIn: 128, fanOut: 128)
        let all = randomTopology(shape: shape, count: 4000, generator: &g)
        let grown = all.enumerated().filter { $0.offset % 5 == 0 }.map(\.element)
        let w = initialWeights(shape: shape, positions: grown, method: .sparsityAware, fanTopology: all, generator: &g)
        let (fanIn, fanOut) = liveFans(shape: shape, positions: all)
        let scaled = zip(grown, w).map { p, v in
            Float(Double(v) / sparsityAwareBound(fanIn: fanIn[shape.row(of: p)], fanOut: fanOut[shape.column(of: p)]))
        }
        assertUniform(scaled, bound: 1, "subset scaled by whole-layer bounds")
    }

    func testLiveFansOnAHandMadeLayer() {
        // 3 inputs → 2 outputs; live (row, col): (0,0) (0,2) (1,2).
        let shape = LayerShape(fanIn: 3, fanOut: 2)
        let positions = [shape.position(row: 0, column: 0), shape.position(row: 0, column: 2),
                         shape.position(row: 1, column: 2)]
        let (fanIn, fanOut) = liveFans(shape: shape, positions: positions)
        XCTAssertEqual(fanIn, [2, 1])
        XCTAssertEqual(fanOut, [1, 0, 2])
    }

    func testZeroAndSeeding() {
        var g = Generator(seed: 4)
        let shape = LayerShape(fanIn: 10, fanOut: 10)
        let positions: [Position] = [0, 5, 99]
        XCTAssertEqual(initialWeights(shape: shape, positions: positions, method: .zero, generator: &g), [0, 0, 0])
        XCTAssertEqual(initialBiases(shape: shape, method: .zero, generator: &g), [Float](repeating: 0, count: 10))
        for method in [WeightInit.pytorchLinear, .xavierUniform, .sparsityAware] {
            var a = Generator(seed: 9), b = Generator(seed: 9), c = Generator(seed: 10)
            let wa = initialWeights(shape: shape, positions: positions, method: method, generator: &a)
            XCTAssertEqual(wa, initialWeights(shape: shape, positions: positions, method: method, generator: &b))
            XCTAssertNotEqual(wa, initialWeights(shape: shape, positions: positions, method: method, generator: &c))
        }
    }
}
