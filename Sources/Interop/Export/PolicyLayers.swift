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

    var isSparse: Bool { positions.count < fanIn * fanOut }

    /// CSR row pointers: the connections of row r are `rowPointer[r]..<rowPointer[r + 1]`.
    var rowPointer: [Int32] {
        var p = [Int32](repeating: 0, count: fanOut + 1)
        for q in positions { p[Int(q) / fanIn + 1] += 1 }
        for r in 0..<fanOut { p[r + 1] += p[r] }
        return p
    }

    /// Column (input feature) of each connection.
    var columns: [Int32] { positions.map { $0 % Int32(fanIn) } }

    /// The connections grouped by column (input feature), rows ascending within a column: CSC pointers
    /// (`columnPointer[c]..<columnPointer[c + 1]`), the row of each, and its value.
    var csc: (columnPointer: [Int32], rows: [Int32], values: [Float]) {
        var pointer = [Int32](repeating: 0, count: fanIn + 1)
        for q in positions { pointer[Int(q) % fanIn + 1] += 1 }
        for c in 0..<fanIn { pointer[c + 1] += pointer[c] }
        var next = pointer, rows = [Int32](repeating: 0, count: positions.count), v = [Float](repeating: 0, count: positions.count)
        for (k, q) in positions.enumerated() {  // row-major order, so rows arrive ascending in each column
            let c = Int(q) % fanIn, slot = Int(next[c])
            rows[slot] = q / Int32(fanIn); v[slot] = values[k]
            next[c] += 1
        }
        return (pointer, rows, v)
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
            PolicyLayer(fanIn: layer.shape.fanIn, fanOut: layer.shape.fanOut, positions: layer.positions,
                        values: layer.liveWeights, biases: layer.bias.values,
                        activation: l == network.layers.count - 1 ? network.spec.outputActivation : network.spec.activation)
        }
    }
}
