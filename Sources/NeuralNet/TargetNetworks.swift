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
            case let s as SparseConv2D:
                out = SparseConv2D(geometry: s.geometry, positions: s.positions, values: s.weight.values, biases: s.bias.values)
            case let d as DenseConv2D:
                out = DenseConv2D(geometry: d.geometry, weights: d.weight.values, biases: d.bias.values, mask: d.weight.mask,
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
                    // Equal indices mean equal supports: a blend, without deriving either layer's positions.
                    if ts.index == os.index { blend(ts.weight, os.weight.values, tau); continue }
                    softUpdateCopyingTopology(ts, online: os, tau: tau) { ts.reset(positions: $0, values: $1) }
                }
            case let (ts as SparseConv2D, os as SparseConv2D):
                switch topology {
                case .maintainSparsity:
                    var p = ts.positions, v = ts.weight.values
                    if NeuralNet.softUpdateMaintainingSparsity(targetPositions: &p, targetValues: &v, onlinePositions: os.positions,
                                                               onlineValues: os.weight.values, tau: tau) {
                        ts.reset(positions: p, values: v)
                    } else {
                        ts.weight.setValues(v)
                    }
                case .copyOnline:
                    softUpdateCopyingTopology(ts, online: os, tau: tau) { ts.reset(positions: $0, values: $1) }
                }
            case let (td as DenseLayer, od as DenseLayer):
                softUpdateDense(td.weight, online: od.weight, onlineLive: od.liveConnections, tau: tau, topology: topology,
                                scratch: &td.targetScratch)
            case let (td as DenseConv2D, od as DenseConv2D):
                softUpdateDense(td.weight, online: od.weight, onlineLive: od.liveConnections, tau: tau, topology: topology,
                                scratch: &td.targetScratch)
            default:
                preconditionFailure("target and online layer types differ")
            }
        }
    }
}

/// RigL / TF-Agents' soft update of a truly sparse target that takes the online topology: the old target's values
/// at the online positions (0 where absent) blended toward the online values. `reset` installs a new topology.
private func softUpdateCopyingTopology(_ target: any Layer, online: any Layer, tau: Float,
                                       reset: ([Position], [Float]) -> Void) {
    let tp = target.positions, op = online.positions
    if tp == op {
        blend(target.weight, online.weight.values, tau)
        return
    }
    var old = [Float](repeating: 0, count: op.count)
    var i = 0
    for (k, p) in op.enumerated() {
        while i < tp.count && tp[i] < p { i += 1 }
        if i < tp.count && tp[i] == p { old[k] = target.weight.values[i] }
    }
    reset(op, old)
    blend(target.weight, online.weight.values, tau)
}

/// The soft update of a dense or masked-dense weight tensor (`DenseLayer`, `DenseConv2D`) toward its online twin,
/// following `topology` when the online one is masked.
private func softUpdateDense(_ target: ParameterTensor, online: ParameterTensor, onlineLive: Int, tau: Float,
                             topology: TargetTopology, scratch: inout MaintainSparsityScratch) {
    guard let onlineMask = online.mask else { blend(target, online.values, tau); return }
    switch topology {
    case .copyOnline:
        // In place: blend, then zero what the online mask drops; the target shares the online mask's
        // storage (copy-on-write: it is copied only when the online topology next changes).
        blend(target, online.values, tau)
        target.values.withUnsafeMutableBufferPointer { w in
            onlineMask.withUnsafeBufferPointer { m in for i in 0..<w.count { w[i] *= m[i] } }
        }
        target.setMask(onlineMask, liveCount: onlineLive)
    case .maintainSparsity:
        // Move the arrays out so they are uniquely referenced and update in place (no copies).
        var w = [Float](), m = [Float]()
        swap(&w, &target.values)
        if target.mask != nil { swap(&m, &target.mask!) } else { m = onlineMask }
        let live = NeuralNet.softUpdateMaintainingSparsityInPlace(target: &w, mask: &m, online: online.values, tau: tau,
                                                                  scratch: &scratch)
        swap(&w, &target.values)
        target.setMask(m, liveCount: live)
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
