import NeuralNet
import SparrowCore
import XCTest

extension Generator {
    mutating func floats(_ n: Int, scale: Double = 1) -> [Float] { (0..<n).map { _ in Float(uniform(-scale, scale)) } }
}

/// Max |a−b| / (1 + max|b|): a relative error that is still meaningful when values are near 0.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var e: Float = 0, s: Float = 0
    for i in a.indices { e = max(e, abs(a[i] - b[i])); s = max(s, abs(b[i])) }
    return e / (1 + s)
}

func assertClose(_ a: [Float], _ b: [Float], tolerance: Float, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    guard a.count == b.count else { return }
    let e = relativeError(a, b)
    XCTAssertLessThanOrEqual(e, tolerance, "\(message): relative error \(e)", file: file, line: line)
}

/// A random sparse topology with some empty rows and columns.
func randomPositions(_ shape: LayerShape, density: Double, generator g: inout Generator) -> [Position] {
    let count = max(0, min(shape.count, Int(density * Double(shape.count))))
    return randomTopology(shape: shape, count: count, generator: &g)
}

/// A network from `spec` whose biases are drawn too (the initialisers zero them), so every bias carries gradient.
func networkWithBiases(_ spec: MLPSpec, seed: UInt64) -> MLP {
    var g = Generator(seed: seed)
    let net = MLP(spec: spec, generator: &g)
    var b = Generator(seed: seed + 1)
    for layer in net.layers { layer.bias.setValues(b.floats(layer.shape.fanOut, scale: 0.3)) }
    return net
}

/// L = Σ c·out + ½ Σ out² of a batch's outputs: the gradient checks' loss.
func quadraticLoss(_ out: [Float], _ c: [Float]) -> Double {
    zip(c, out).reduce(0.0) { $0 + Double($1.0) * Double($1.1) + 0.5 * Double($1.1) * Double($1.1) }
}

/// `quadraticLoss` of one forward pass, and its backward pass: returns the loss and the input gradient, and leaves
/// the parameter gradients in the network.
func quadraticLossAndBackward(_ net: MLP, _ x: [Float], _ c: [Float], batch: Int) -> (Double, [Float]) {
    let ws = net.workspace(batch: batch)
    ws.input.copy(from: x)
    net.forward(ws)
    let out = ws.output.array
    ws.outputGradient.copy(from: zip(c, out).map { $0 + $1 })
    net.backward(ws, inputGradient: true)
    return (quadraticLoss(out, c), ws.inputGradient.array)
}

/// The truly sparse and masked backends of one spec and seed on one batch: same connections, loss, input gradient,
/// live-weight and bias gradients and RigL scores (each layer's dense dZ·xᵀ). Returns the batch (x, c) and leaves
/// both networks' gradients and workspaces from it.
@discardableResult
func assertSparseMatchesMasked(_ sparse: MLP, _ masked: MLP, batch: Int, file: StaticString = #filePath,
                               line: UInt = #line) -> (x: [Float], c: [Float]) {
    var g = Generator(seed: 3)
    let x = g.floats(sparse.inputWidth * batch, scale: 2), c = g.floats(sparse.outputWidth * batch)
    let (ls, dxs) = quadraticLossAndBackward(sparse, x, c, batch: batch)
    let (lm, dxm) = quadraticLossAndBackward(masked, x, c, batch: batch)
    XCTAssertEqual(ls, lm, accuracy: 1e-4 * abs(ls), file: file, line: line)
    assertClose(dxs, dxm, tolerance: 1e-4, "input gradients", file: file, line: line)
    for (l, (s, m)) in zip(sparse.layers, masked.layers).enumerated() {
        XCTAssertEqual(s.positions, m.positions, "layer \(l)", file: file, line: line)
        assertClose(s.weight.gradients, s.positions.map { m.weight.gradients[Int($0)] }, tolerance: 1e-4,
                    "layer \(l) live gradients", file: file, line: line)
        assertClose(s.bias.gradients, m.bias.gradients, tolerance: 1e-4, "layer \(l) bias gradients", file: file, line: line)
        assertClose(sparse.denseWeightGradient(layer: l, sparse.workspace(batch: batch)),
                    masked.denseWeightGradient(layer: l, masked.workspace(batch: batch)), tolerance: 1e-4,
                    "layer \(l) RigL scores", file: file, line: line)
    }
    return (x, c)
}
