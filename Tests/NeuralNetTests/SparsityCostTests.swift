import XCTest
@testable import NeuralNet

final class SparsityCostTests: XCTestCase {
    func testSokarParameterCountForDenseTD3HalfCheetah() {
        let layers = (LayerShape.mlp([17, 256, 256, 6]) + LayerShape.mlp([23, 256, 256, 1])
                      + LayerShape.mlp([23, 256, 256, 1])).map { LayerCost(dense: $0) }
        let cost = networkCost(layers)
        XCTAssertEqual(cost.liveWeights, 214_784)   // SOK-PDF1 #params, weights only
        XCTAssertEqual(cost.biases, 256 + 256 + 6 + 2 * (256 + 256 + 1))
        XCTAssertEqual(cost.parameters, 214_784 + 1544)
        XCTAssertEqual(cost.sparsity, 0)
    }

    func testFLOPConventions() {
        let shape = LayerShape(fanIn: 256, fanOut: 256)
        let layer = LayerCost(shape: shape, liveWeights: 6554)
        XCTAssertEqual(layer.forwardFLOPs(batch: 100), 2 * 6554 * 100)
        XCTAssertEqual(layer.backwardFLOPs(batch: 100), 2 * layer.forwardFLOPs(batch: 100))
        XCTAssertEqual(layer.backwardFLOPs(batch: 100, inputGradient: false), layer.forwardFLOPs(batch: 100))
        XCTAssertEqual(layer.denseGradientFLOPs(batch: 100), 2 * 65536 * 100)
        XCTAssertEqual(LayerCost(shape: shape, liveWeights: 10, hasBias: false).parameters, 10)

        let net = networkCost([LayerCost(shape: LayerShape(fanIn: 17, fanOut: 256), liveWeights: 1911), layer,
                               LayerCost(dense: LayerShape(fanIn: 256, fanOut: 6))])
        let live = 1911 + 6554 + 1536
        XCTAssertEqual(net.liveWeights, live)
        XCTAssertEqual(net.forwardFLOPs(batch: 1), 2 * live)
        XCTAssertEqual(net.trainingFLOPs(batch: 256), 3 * net.forwardFLOPs(batch: 256), "RigL's 3·f_S")
        XCTAssertEqual(net.trainingFLOPs(batch: 256, firstLayerInputGradient: false),
                       3 * net.forwardFLOPs(batch: 256) - 2 * 1911 * 256)
        XCTAssertEqual(net.sparsity, 1 - Double(live) / Double(4352 + 65536 + 1536), accuracy: 1e-12)
        // Sparse forward cost is proportional to density.
        let dense = networkCost(net.layers.map { LayerCost(dense: $0.shape) })
        XCTAssertEqual(Double(net.forwardFLOPs(batch: 7)) / Double(dense.forwardFLOPs(batch: 7)), 1 - net.sparsity,
                       accuracy: 1e-12)
    }
}
