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
