// The forward and backward passes of a graph network (`MLPSpec.graph`, see NetworkGraph.swift). A chain network
// never comes here: its passes (MLP.swift) fuse each activation's derivative into the next layer's product.

/// What a graph network's workspace holds besides one activation and one gradient buffer per value.
final class GraphBuffers {
    let plan: GraphPlan
    /// dZ of each weight layer with an activation (dY ⊙ f′); nil where dZ is the output value's gradient itself.
    let layerPreActivation: [FloatBuffer?]
    /// The winning input feature of each output of each max-pool step (by step index).
    let argmax: [Int: UnsafeMutableBufferPointer<Int32>]
    /// A second gradient for a value read twice (the skip's), added into the first.
    let scratch: FloatBuffer
    /// Which values' gradients a backward pass has written so far (reset by each pass; kept here so a pass does
    /// not allocate).
    var filled: [Bool]

    init(plan: GraphPlan, batch: Int) {
        self.plan = plan
        layerPreActivation = plan.layerActivation.indices.map { l in
            plan.layerActivation[l] == .identity ? nil : FloatBuffer(count: plan.widths[plan.layerOutput[l]] * batch)
        }
        var argmax: [Int: UnsafeMutableBufferPointer<Int32>] = [:]
        for (i, step) in plan.steps.enumerated() {
            if case .maxPool(let g, _, _) = step {
                let p = UnsafeMutableBufferPointer<Int32>.allocate(capacity: g.outputCount * batch)
                p.initialize(repeating: 0)
                argmax[i] = p
            }
        }
        self.argmax = argmax
        scratch = FloatBuffer(count: (plan.widths.max() ?? 0) * batch)
        filled = Array(repeating: false, count: plan.widths.count)
    }

    deinit { for p in argmax.values { p.deallocate() } }

    func preActivationGradient(_ l: Int, _ gradients: [FloatBuffer]) -> FloatBuffer {
        layerPreActivation[l] ?? gradients[plan.layerOutput[l]]
    }
}

extension MLP {
    func graphForward(_ ws: Workspace, _ graph: GraphBuffers) {
        let B = ws.batch, v = ws.activations
        for (i, step) in graph.plan.steps.enumerated() {
            switch step {
            case .layer(let l, let f, let input, let output):
                layers[l].forward(v[input].pointer, batch: B, into: v[output].pointer, activation: f)
            case .activation(let f, let input, let output):
                f.apply(v[input].pointer, count: graph.plan.widths[input] * B, into: v[output].pointer)
            case .maxPool(let g, let input, let output):
                maxPoolForward(g, v[input].pointer, batch: B, into: v[output].pointer, argmax: graph.argmax[i]!.baseAddress!)
            case .add(let a, let b, let output):
                let x = v[a].pointer, y = v[b].pointer, z = v[output].pointer
                for k in 0..<(graph.plan.widths[output] * B) { z[k] = x[k] + y[k] }
            }
        }
    }

    /// Steps in reverse. A value's gradient is complete when the step that made it comes up (everything that reads
    /// it comes later in the forward order); the first reader to deliver writes it, a later one adds into it.
    func graphBackward(_ ws: Workspace, _ graph: GraphBuffers, parameterGradients: Bool, inputGradient: Bool) {
        let B = ws.batch, v = ws.activations, d = ws.gradients, plan = graph.plan
        graph.filled.withUnsafeMutableBufferPointer { $0.update(repeating: false) }
        graph.filled[plan.widths.count - 1] = true  // ∂L/∂output, written by the caller
        /// Hands `write` the buffer for value `value`'s gradient: the value's own the first time, else the scratch,
        /// which is then added in.
        func deliver(_ value: Int, _ write: (UnsafeMutablePointer<Float>) -> Void) {
            if value == 0 && !inputGradient { return }
            if !graph.filled[value] {
                write(d[value].pointer)
                graph.filled[value] = true
                return
            }
            let s = graph.scratch.pointer, g = d[value].pointer
            write(s)
            for k in 0..<(plan.widths[value] * B) { g[k] += s[k] }
        }
        for i in plan.steps.indices.reversed() {
            switch plan.steps[i] {
            case .layer(let l, let f, let input, let output):
                guard graph.filled[output] else { continue }  // nothing downstream reads it
                var dZ = d[output]
                if let z = graph.layerPreActivation[l] {
                    f.backward(d[output].pointer, output: v[output].pointer, count: plan.widths[output] * B, into: z.pointer)
                    dZ = z
                }
                if parameterGradients {
                    layers[l].computeGradients(outputGradient: dZ.pointer, input: v[input].pointer, batch: B)
                }
                deliver(input) { dx in
                    layers[l].inputGradient(outputGradient: dZ.pointer, batch: B, into: dx, inputActivation: .identity,
                                            input: v[input].pointer)
                }
            case .activation(let f, let input, let output):
                guard graph.filled[output] else { continue }
                deliver(input) { dx in
                    f.backward(d[output].pointer, output: v[output].pointer, count: plan.widths[output] * B, into: dx)
                }
            case .maxPool(let g, let input, let output):
                guard graph.filled[output] else { continue }
                deliver(input) { dx in
                    maxPoolBackward(g, d[output].pointer, argmax: graph.argmax[i]!.baseAddress!, batch: B, into: dx)
                }
            case .add(let a, let b, let output):
                guard graph.filled[output] else { continue }
                let n = plan.widths[output] * B, dy = d[output].pointer
                deliver(a) { $0.update(from: dy, count: n) }
                deliver(b) { $0.update(from: dy, count: n) }
            }
        }
    }
}
