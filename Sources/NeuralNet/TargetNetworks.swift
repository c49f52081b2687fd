import SparrowCore

/// How a target network follows its online network.
public enum TargetTopology: String, Codable, Sendable, CaseIterable, NamedChoice {
    /// RigL / TF-Agents: the target takes the online topology (mask hard-copied) and soft-averages the values;
    /// a position new to the target counts its old value as 0.
    case copyOnline
    /// Sokar / ANF "maintain sparsity": soft update on the union of supports, then keep the nnz(online) largest
    /// magnitudes (`softUpdateMaintainingSparsity`); the target's topology may trail the online one.
    case maintainSparsity

    /// Flag and config spelling (`--target-topology`).
    public var spelling: String { self == .copyOnline ? "copy" : "maintain" }
}

extension MLP {
    /// A deep copy (values, topology, optimizer state). Use as the initial target network.
    public func copy() -> MLP {
        MLP(spec: spec, layers: layers.map { layer -> any Layer in
            let out: any Layer
            switch layer {
            case let s as SparseLayer:
                out = SparseLayer(shape: s.shape, positions: s.positions, values: s.weight.values, biases: s.bias.values)
            case let d as DenseLayer:
                out = DenseLayer(shape: d.shape, weights: d.weight.values, biases: d.bias.values, mask: d.weight.mask,
                                 momentPolicy: d.weight.momentPolicy)
            default: preconditionFailure("unknown layer type")
            }
            for (a, b) in [(out.weight, layer.weight), (out.bias, layer.bias)] {
                a.replace(values: b.values, firstMoment: b.firstMoment, secondMoment: b.secondMoment, mask: b.mask)
                a.restoreState(step: b.step, momentPolicy: b.momentPolicy)
            }
            return out
        })
    }

    /// Soft target update `self ← τ·online + (1−τ)·self` (τ = 1: hard copy of values), following `topology`.
    /// Biases and dense layers are plain soft updates. Allocation-free while topologies agree.
    public func softUpdate(toward online: MLP, tau: Float, topology: TargetTopology) {
        precondition(layers.count == online.layers.count)
        for l in 0..<layers.count {
            let t = layers[l], o = online.layers[l]
            precondition(t.shape == o.shape && t.backend == o.backend, "target and online layers differ")
            blend(t.bias, o.bias.values, tau)
            switch (t, o) {
            case let (ts as SparseLayer, os as SparseLayer):
                switch topology {
                case .maintainSparsity:
                    ts.softUpdateMaintainingSparsity(online: os, tau: tau)
                case .copyOnline:
                    if ts.positions == os.positions {
                        blend(ts.weight, os.weight.values, tau)
                    } else {
                        // Values of the old target at the online positions (0 where absent), then blend.
                        var old = [Float](repeating: 0, count: os.positions.count)
                        var i = 0
                        for (k, p) in os.positions.enumerated() {
                            while i < ts.positions.count && ts.positions[i] < p { i += 1 }
                            if i < ts.positions.count && ts.positions[i] == p { old[k] = ts.weight.values[i] }
                        }
                        ts.reset(positions: os.positions, values: old)
                        blend(ts.weight, os.weight.values, tau)
                    }
                }
            case let (td as DenseLayer, od as DenseLayer):
                guard let onlineMask = od.weight.mask else { blend(td.weight, od.weight.values, tau); continue }
                switch topology {
                case .copyOnline:
                    // In place: blend, then zero what the online mask drops; the target shares the online mask's
                    // storage (copy-on-write: it is copied only when the online topology next changes).
                    blend(td.weight, od.weight.values, tau)
                    td.weight.values.withUnsafeMutableBufferPointer { w in
                        onlineMask.withUnsafeBufferPointer { m in for i in 0..<w.count { w[i] *= m[i] } }
                    }
                    td.weight.setMask(onlineMask, liveCount: od.liveConnections)
                case .maintainSparsity:
                    // Move the arrays out so they are uniquely referenced and update in place (no copies).
                    var w = [Float](), m = [Float]()
                    swap(&w, &td.weight.values)
                    if td.weight.mask != nil { swap(&m, &td.weight.mask!) } else { m = onlineMask }
                    let live = NeuralNet.softUpdateMaintainingSparsityInPlace(target: &w, mask: &m, online: od.weight.values, tau: tau,
                                                                              keys: &td.dropKeyScratch)
                    swap(&w, &td.weight.values)
                    td.weight.setMask(m, liveCount: live)
                }
            default:
                preconditionFailure("target and online layer types differ")
            }
        }
    }
}

@inline(__always) private func blend(_ target: ParameterTensor, _ online: [Float], _ tau: Float) {
    precondition(target.values.count == online.count)
    let keep = 1 - tau
    target.values.withUnsafeMutableBufferPointer { t in
        online.withUnsafeBufferPointer { o in
            for i in 0..<t.count { t[i] = tau * o[i] + keep * t[i] }
        }
    }
}
