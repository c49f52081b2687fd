import NeuralNet
import SparrowCore
import XCTest

/// `storageBytes` (weights + Adam moments + indices) against a hand count of what each layer stores.
final class StorageBytesTests: XCTestCase {
    func testLayerStorageMatchesAHandCount() {
        let shape = LayerShape(fanIn: 5, fanOut: 3)
        let positions: [Position] = [0, 6, 7, 14]  // (0,0), (1,1), (1,2), (2,4)
        let sparse = SparseLayer(shape: shape, positions: positions, values: [1, 2, 3, 4], biases: [0, 0, 0])
        // Weights: 4 values + 4 first + 4 second moments; biases: 3 × 3; all Float32.
        // Pointers (Int32): rows 3 + 1, columns 5 + 1. Per connection (UInt16: the fans fit): its column, and its
        // row and place in the row in CSC order. Positions are derived, not stored.
        XCTAssertEqual(sparse.storageBytes, (12 + 9) * 4 + (4 + 6) * 4 + 4 * 3 * 2)
        XCTAssertEqual(sparse.storageBytes, 148)
        XCTAssertFalse(sparse.index.isWide)

        let dense = DenseLayer(shape: shape, weights: [Float](repeating: 1, count: 15), biases: [0, 0, 0])
        XCTAssertEqual(dense.storageBytes, (15 * 3 + 9) * 4)  // no indices

        let masked = DenseLayer(shape: shape, positions: positions, liveValues: [1, 2, 3, 4], biases: [0, 0, 0],
                                momentPolicy: .masked)
        XCTAssertEqual(masked.storageBytes, (15 * 3 + 9 + 15) * 4)  // dense weights and moments plus the Float mask

        var g = Generator(seed: 1)
        let net = MLP(spec: MLPSpec(widths: [5, 3, 2], backend: .sparse, densities: [0.5, 1]), generator: &g)
        XCTAssertEqual(net.storageBytes, net.layers.reduce(0) { $0 + $1.storageBytes })
        let live = net.layers.map(\.liveConnections)
        XCTAssertEqual(live, [8, 6])
        // Each sparse layer: 3 floats and 3 UInt16 per live connection, fanOut + 1 + fanIn + 1 Int32 pointers, 3 floats
        // per bias.
        XCTAssertEqual(net.storageBytes, (8 * 3 + (4 + 6) + 9) * 4 + 8 * 6 + (6 * 3 + (3 + 4) + 6) * 4 + 6 * 6)
    }
}
