import Agents
import NeuralNet

/// One weight layer of a policy as exporters write it: live connections in ascending row-major order
/// (`row * fanIn + col`; CSR once grouped by row) with their values, the biases, and the activation after it.
/// A layer is written sparse when it lacks connections (a sparse or masked layer below density 1), dense otherwise.
struct PolicyLayer {
    let fanIn: Int, fanOut: Int
    let positions: [Int32]
    let values: [Float]
    let biases: [Float]
    let activation: Activation
    /// The convolution this layer computes (its weights are then the OIHW kernel, fanOut × fanIn = C_out × C_in·KH·KW).
    let convolution: ConvGeometry?
    /// The layer's CSR and CSC index (NeuralNet's own: row pointers, column indices, column pointers, row indices).
    let index: SparseIndex

    var isSparse: Bool { positions.count < fanIn * fanOut }

    /// CSR row pointers: the connections of row r are `rowPointer[r]..<rowPointer[r + 1]`.
    var rowPointer: [Int32] { index.rowPointer }

    /// Column (input feature) of each connection.
    var columns: [Int32] { index.columnIndex }

    /// The connections grouped by column (input feature), rows ascending within a column: CSC pointers
    /// (`columnPointer[c]..<columnPointer[c + 1]`), the row of each, and its value.
    var csc: (columnPointer: [Int32], rows: [Int32], values: [Float]) {
        (index.columnPointer, index.rowIndex, index.cscToCSR.map { values[Int($0)] })
    }

    /// The fanOut × fanIn matrix, absent connections 0.
    var denseWeights: [Float] {
        var w = [Float](repeating: 0, count: fanIn * fanOut)
        for (k, q) in positions.enumerated() { w[Int(q)] = values[k] }
        return w
    }

    /// The layers of a network, in order, each with the activation the network applies after it.
    static func layers(of network: MLP) -> [PolicyLayer] {
        network.layers.enumerated().map { l, layer in
            let positions = layer.positions
            return PolicyLayer(fanIn: layer.shape.fanIn, fanOut: layer.shape.fanOut, positions: positions,
                               values: layer.liveWeights, biases: layer.bias.values,
                               activation: l == network.layers.count - 1 ? network.spec.outputActivation : network.spec.activation,
                               convolution: layer.convolution,
                               index: SparseIndex(shape: layer.shape, positions: positions))
        }
    }
}
