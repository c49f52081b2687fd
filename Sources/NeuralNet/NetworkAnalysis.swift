import Foundation
import SparrowCore

/// What the analyses read of a network after a training step on a workspace (its forward activations and, after
/// `backward`, its pre-activation gradients): gradient signal-to-noise ratio (Graesser et al.), τ-dormant
/// neurons and their recycling (ReDo; Sokar et al., "The dormant neuron phenomenon in deep RL", 2023). Every
/// computation but the reference SNR visits live connections only: a truly sparse layer never becomes a dense
/// matrix here.
/// `ReferenceKernels`-style twins in the tests hold them to direct per-sample computations.
extension MLP {
    /// The gradient SNR as Graesser et al.'s code computes it (rigl/rl `tf_sparse_utils.log_snr`): per-sample
    /// gradients of every kernel entry — absent connections included, with the dense gradient dZ[r, b]·x[c, b] that
    /// the masked kernel variable receives (the gradient RigL grows from) — and of every bias; per entry
    /// |mean / (std + 1e-10)| over the B samples (population std, as `tf.math.reduce_std`), entries whose gradients
    /// are all equal included (they count 0, or |μ|·1e10 for a constant non-zero gradient, as there); the mean over
    /// all entries. The per-sample gradient is that of the sample's own loss: the batch-mean loss's dZ times B (the
    /// reference differentiates the per-sample loss vector). Costs a dense product per layer (every N updates).
    public func gradientSNR(_ ws: Workspace) -> (mean: Double, parameters: Int) {
        let B = ws.batch, scale = Double(B)
        var total = 0.0, counted = 0
        for (l, layer) in layers.enumerated() {
            let fanIn = layer.shape.fanIn, fanOut = layer.shape.fanOut
            let dz = ws.preActivationGradient(l).pointer, x = ws.layerInput(l).pointer
            for r in 0..<fanOut {
                let g = dz + r * B
                for c in 0..<fanIn {
                    let xc = x + c * B
                    var a = 0.0, q = 0.0
                    for b in 0..<B {
                        let v = scale * Double(g[b]) * Double(xc[b])
                        a += v; q += v * v
                    }
                    total += Self.referenceSNR(a, q, B)
                }
                var a = 0.0, q = 0.0
                for b in 0..<B { let v = scale * Double(g[b]); a += v; q += v * v }
                total += Self.referenceSNR(a, q, B)
                counted += fanIn + 1
            }
        }
        return (counted == 0 ? .nan : total / Double(counted), counted)
    }

    /// |μ| / (σ + 1e-10) from Σv and Σv² over B samples (σ the population standard deviation).
    static func referenceSNR(_ s1: Double, _ s2: Double, _ B: Int) -> Double {
        let mean = s1 / Double(B), variance = max(s2 / Double(B) - mean * mean, 0)
        return abs(mean) / (variance.squareRoot() + 1e-10)
    }

    /// Sparrow's earlier, live-only figure (metrics `gradient_snr_live`): the mean gradient SNR of the last
    /// `backward` on `ws`, over the live parameters (weights and biases) whose per-sample gradients are not all equal.
    ///
    /// For an MLP each sample's gradient of weight (r, c) of layer l is dZ[r, b]·x[c, b] (dZ the pre-activation
    /// gradient, x the layer input), whatever the 1/B of a batch-mean loss (SNR does not depend on the scale).
    /// Over the B samples: μ = mean of the per-sample gradients, σ² = mean of their squares − μ² (population
    /// variance, as numpy's std), SNR = |μ|/σ. A bias's per-sample gradient is dZ[r, b]. Cost: two products per
    /// live connection and sample, about one backward pass; nothing is allocated beyond a per-layer array.
    public func liveGradientSNR(_ ws: Workspace) -> (mean: Double, parameters: Int) {
        let B = ws.batch
        var total = 0.0, counted = 0
        func include(_ s1: Double, _ s2: Double) {
            let mean = s1 / Double(B), variance = s2 / Double(B) - mean * mean
            // Equal per-sample gradients (a dead unit's zeros above all) have no noise to compare with: left out.
            guard variance > 1e-12 * max(s2 / Double(B), .leastNonzeroMagnitude) else { return }
            total += abs(mean) / variance.squareRoot()
            counted += 1
        }
        for (l, layer) in layers.enumerated() {
            let fanIn = layer.shape.fanIn
            let dz = ws.preActivationGradient(l).pointer, x = ws.layerInput(l).pointer
            for p in layer.positions {
                let r = Int(p) / fanIn, c = Int(p) % fanIn
                let g = dz + r * B, xc = x + c * B
                var s1 = 0.0, s2 = 0.0
                for b in 0..<B {
                    let v = Double(g[b]) * Double(xc[b])
                    s1 += v; s2 += v * v
                }
                include(s1, s2)
            }
            for r in 0..<layer.shape.fanOut {
                var s1 = 0.0, s2 = 0.0
                for b in 0..<B { let v = Double(dz[r * B + b]); s1 += v; s2 += v * v }
                include(s1, s2)
            }
        }
        return (counted == 0 ? .nan : total / Double(counted), counted)
    }

    /// Per hidden layer, which neurons are τ-dormant on the batch of `ws` (after `forward`): neuron i of layer l is
    /// when its score s_i = mean_b |h_i(b)| / (mean over the layer's neurons of the same) is ≤ τ; a layer whose
    /// outputs are all zero is dormant throughout. The output layer is not a hidden layer and is not scored.
    public func dormantNeurons(_ ws: Workspace, tau: Double) -> [[Bool]] {
        let B = ws.batch
        return (0..<layers.count - 1).map { l in
            let h = ws.layerOutput(l).pointer, width = layers[l].shape.fanOut
            let scores = (0..<width).map { i in (0..<B).reduce(0.0) { $0 + Double(abs(h[i * B + $1])) } / Double(B) }
            let layerMean = scores.reduce(0, +) / Double(width)
            return scores.map { layerMean > 0 ? $0 / layerMean <= tau : true }
        }
    }

    /// ReDo: every τ-dormant hidden neuron (`dormantNeurons`) gets new incoming weights — its live incoming
    /// connections redrawn from the layer's own initialisation (`spec`), its bias 0 — and its live outgoing weights
    /// set to 0, so the network computes the same outputs as before and the neuron learns afresh; the Adam moments
    /// of every weight and bias touched are reset to 0. No connection is added or removed: the topology and live
    /// counts stay as they were. Returns the number of neurons recycled per hidden layer.
    @discardableResult
    public func recycleDormantNeurons(_ ws: Workspace, tau: Double, generator: inout Generator) -> [Int] {
        let dormant = dormantNeurons(ws, tau: tau)
        for (l, flags) in dormant.enumerated() where flags.contains(true) {
            let incoming = layers[l], outgoing = layers[l + 1]
            let dead = Set(flags.indices.filter { flags[$0] })
            let positions = incoming.positions
            // Incoming: new values at the live positions of each dormant row (slot k of `positions`).
            let rows = positions.indices.filter { dead.contains(Int(positions[$0]) / incoming.shape.fanIn) }
            let fresh = initialWeights(shape: incoming.shape, positions: rows.map { positions[$0] },
                                       method: spec.layers[l].initialization, fanTopology: positions, generator: &generator)
            incoming.weight.resetSlots(rows.map { incoming.slot(ofLiveIndex: $0, position: positions[$0]) }, to: fresh)
            incoming.bias.resetSlots(dead.sorted(), to: [Float](repeating: 0, count: dead.count))
            // Outgoing: zero at the live positions whose column is a dormant neuron.
            let out = outgoing.positions
            let columns = out.indices.filter { dead.contains(Int(out[$0]) % outgoing.shape.fanIn) }
            outgoing.weight.resetSlots(columns.map { outgoing.slot(ofLiveIndex: $0, position: out[$0]) },
                                       to: [Float](repeating: 0, count: columns.count))
        }
        return dormant.map { $0.filter { $0 }.count }
    }
}

extension Layer {
    /// Where the weight of the `k`-th live connection (at `position`) is stored: slot k of a truly sparse layer's
    /// values, the position itself in a dense or masked layer's full matrix.
    func slot(ofLiveIndex k: Int, position: Position) -> Int { backend == .sparse ? k : Int(position) }
}

extension ParameterTensor {
    /// Sets `values[slots[i]] = newValues[i]` and zeroes both Adam moments there (the step count stays).
    func resetSlots(_ slots: [Int], to newValues: [Float]) {
        precondition(slots.count == newValues.count)
        for (i, s) in slots.enumerated() {
            values[s] = newValues[i]
            firstMoment[s] = 0
            secondMoment[s] = 0
        }
    }
}
