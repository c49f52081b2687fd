/// Memory a network keeps as state: weights, both Adam moments and the indices that say where the weights are.
/// Gradients (one per stored weight, overwritten every step) and per-batch workspaces are not counted.
///
/// Index width: a truly sparse layer's per-connection indices are 16-bit where its fans are at most 65 536, else
/// 32-bit (`SparseIndex`); the row and column pointers are Int32.
extension ParameterTensor {
    /// Values and both moments (and the 0/1 mask of a masked-dense layer, stored as Float).
    public var storageBytes: Int {
        (values.count + firstMoment.count + secondMoment.count + (mask?.count ?? 0)) * MemoryLayout<Float>.stride
    }
}

extension Layer {
    /// Weights, biases, their Adam moments and the layer's indices: for a truly sparse layer its `SparseIndex`
    /// (a sparse convolution adds its ascending positions and each tap's input offset); for a masked layer the
    /// dense mask; nothing for a dense layer.
    public var storageBytes: Int {
        var bytes = weight.storageBytes + bias.storageBytes
        if let sparse = self as? SparseLayer {
            bytes += sparse.index.storageBytes
        } else if let conv = self as? SparseConv2D {
            bytes += conv.index.storageBytes + conv.indexExtraBytes
        }
        return bytes
    }
}

extension MLP {
    /// The sum of its layers' `storageBytes`.
    public var storageBytes: Int { layers.reduce(0) { $0 + $1.storageBytes } }
}
