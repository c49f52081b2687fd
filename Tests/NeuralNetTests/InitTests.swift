import XCTest
import SparrowCore
@testable import NeuralNet

/// The initialisations the DQN and PPO presets use, against what they promise.
final class InitTests: XCTestCase {
    /// Orthogonal: W Wᵀ = I for a wide layer, WᵀW = I for a tall one (to float precision), a sparse layer keeps
    /// exactly the dense matrix's entries at its live positions, and a seed fixes the matrix.
    func testOrthogonalRowsOrColumnsAreOrthonormal() {
        for (fanIn, fanOut) in [(17, 64), (64, 64), (64, 6), (256, 1)] {
            let shape = LayerShape(fanIn: fanIn, fanOut: fanOut)
            let all = (0..<Int32(fanIn * fanOut)).map { $0 }
            var g = Generator(seed: 3)
            let w = initialWeights(shape: shape, positions: all, method: .orthogonal, generator: &g).map(Double.init)
            let k = min(fanIn, fanOut)
            for a in 0..<k {
                for b in 0..<k {
                    var dot = 0.0
                    if fanOut <= fanIn {  // rows (output units) orthonormal
                        for c in 0..<fanIn { dot += w[a * fanIn + c] * w[b * fanIn + c] }
                    } else {  // columns (inputs) orthonormal
                        for r in 0..<fanOut { dot += w[r * fanIn + a] * w[r * fanIn + b] }
                    }
                    XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-5, "\(fanIn)→\(fanOut) [\(a), \(b)]")
                }
            }
            var g2 = Generator(seed: 3)
            let sparse = all.filter { $0 % 3 == 1 }
            let ws = initialWeights(shape: shape, positions: sparse, method: .orthogonal, generator: &g2)
            XCTAssertEqual(ws, sparse.map { Float(w[Int($0)]) })
            XCTAssertEqual(initialBiases(shape: shape, method: .orthogonal, generator: &g2), [Float](repeating: 0, count: fanOut))
        }
    }

    /// He truncated normal: every draw within ±2σ and the standard deviation √(2/fan_in) (Keras' correction for
    /// the truncation), to 5 standard errors.
    func testHeTruncatedNormalHasTheKerasVariance() {
        let shape = LayerShape(fanIn: 512, fanOut: 512)
        let all = (0..<Int32(512 * 512)).map { $0 }
        var g = Generator(seed: 7)
        let w = initialWeights(shape: shape, positions: all, method: .heTruncatedNormal, generator: &g).map(Double.init)
        let sigma = (2.0 / 512).squareRoot() / 0.87962566103423978
        XCTAssertLessThanOrEqual(w.map(abs).max()!, 2 * sigma * (1 + 1e-6))
        let n = Double(w.count), mean = w.reduce(0, +) / n
        let variance = w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        XCTAssertEqual(mean, 0, accuracy: 5 * (2.0 / 512 / n).squareRoot())
        XCTAssertEqual(variance, 2.0 / 512, accuracy: 5 * (2.0 / 512) * (2 / n).squareRoot())
    }
}
