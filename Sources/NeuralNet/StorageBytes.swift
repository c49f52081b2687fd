/// Memory a network keeps as state: weights, both Adam moments and the indices that say where the weights are.
/// Gradients (one per stored weight, overwritten every step) and per-batch workspaces are not counted.
///
/// Index width: Int32 (`Position` and every `SparseIndex` array). A position is row · fanIn + column, which
/// passes 16 bits already for a 256 × 256 layer, and the CSR/CSC arrays hold slots up to the live count; Int32
/// covers layers up to 2³¹ connections and is what the C kernels (`sk_spmm`, `sk_sddmm`) take.
extension ParameterTensor {
    /// Values and both moments (and the 0/1 mask of a masked-dense layer, stored as Float).
    public var storageBytes: Int {
        (values.count + firstMoment.count + secondMoment.count + (mask?.count ?? 0)) * MemoryLayout<Float>.stride
    }
}

extension SparseIndex {
    /// CSR (row pointers, column indices) and the CSC view (column pointers, row indices, CSC → CSR slots).
    public var storageBytes: Int {
        (rowPointer.count + columnIndex.count + columnPointer.count + rowIndex.count + cscToCSR.count)
            * MemoryLayout<Int32>.stride
    }
}

extension Layer {
    /// Weights, biases, their Adam moments and the layer's indices: for a truly sparse layer the CSR and CSC
    /// index and its ascending `positions`; for a masked layer the dense mask; nothing for a dense layer.
    public var storageBytes: Int {
        var bytes = weight.storageBytes + bias.storageBytes
        if let sparse = self as? SparseLayer {
            bytes += sparse.index.storageBytes + sparse.positions.count * MemoryLayout<Position>.stride
        }
        return bytes
    }
}

extension MLP {
    /// The sum of its layers' `storageBytes`.
    public var storageBytes: Int { layers.reduce(0) { $0 + $1.storageBytes } }
}
