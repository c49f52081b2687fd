import Agents
import Foundation
import NeuralNet

/// A policy that cannot be exported, in one line.
public struct ExportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A `DeterministicPolicy` as one dependency-free C file (C99 and libm's `tanhf`), for latency-bound controllers:
/// the weights are static data and the forward pass is plain loops, no allocation, no library.
///
///     #define SPARROW_POLICY_OBSERVATIONS n, SPARROW_POLICY_OUTPUTS m, SPARROW_POLICY_ACTIONS A
///     void  sparrow_policy_network(const double *observation, float *output);  // the network's m outputs
///     void  sparrow_policy(const double *observation, float *action);          // squashed heads (SAC, TD3, PPO)
///     int   sparrow_policy(const double *observation);                         // argmax (DQN), with
///                                                                                 SPARROW_POLICY_DISCRETE 1
///
/// `Layout.csr` (the default) stores each sparse layer truly sparse: CSR row pointers, column indices (16-bit
/// where the layer has ≤ 65 536 inputs) and the live values, and loops over live connections only. `Layout.dense`
/// writes every layer as a full matrix (transposed, so the loop over outputs vectorises without -ffast-math): the
/// dense equivalent the README compares size and time against. Numbers are printed as the shortest decimals that
/// read back as the same float, so the C weights are Sparrow's bit for bit.
///
/// Convolutions (the Nature CNN; Impala's residual graph too, with its max-pools, activations and skip additions as
/// plain loops over buffers of their own) are direct loops over the live taps of each output channel, the kernel's CSR in every sparse layout (`csc` too: a tap's
/// input is a window, not one feature), or over the whole OIHW kernel in `dense`; padding is read as zeros, the
/// output is Sparrow's [C][H][W] order, so the fully connected layer after it reads it as Sparrow does. Frames are
/// scaled by the policy's input scale (1/255) in float, as the agent does.
public enum CExport {
    public enum Layout: String, CaseIterable, Sendable {
        case csr, csc, dense
    }

    public static func source(_ policy: DeterministicPolicy, layout: Layout = .csr, comment: [String]) throws -> String {
        let layers = PolicyLayer.layers(of: policy.network)
        // A chain is one op per layer; a graph network (Impala) adds activations, max-pools and skip connections.
        let ops: [NetworkGraph.Op] = policy.network.spec.graph?.ops ?? layers.indices.map { .layer($0, layers[$0].activation) }
        for (l, layer) in layers.enumerated() where !(layer.values + layer.biases).allSatisfy(\.isFinite) {
            throw ExportError("layer \(l) of the policy holds a non-finite weight or bias; it cannot be written as C")
        }
        let n = policy.observationSize, m = policy.network.outputWidth
        var s = "/*\n"
        for line in comment { s += " * \(line)\n" }
        s += """
             *
             * Build: cc -O2 -c policy.c (link with -lm). Call from one thread at a time per file: the layer
             * activations are static buffers (no stack arrays, no allocation).
             */
            #include <math.h>
            #include <stdint.h>

            #define SPARROW_POLICY_OBSERVATIONS \(n)
            #define SPARROW_POLICY_OUTPUTS \(m)

            """
        switch policy.output {
        case .squashed(let scale, _): s += "#define SPARROW_POLICY_ACTIONS \(scale.count)\n#define SPARROW_POLICY_DISCRETE 0\n"
        case .argmax: s += "#define SPARROW_POLICY_ACTIONS 1\n#define SPARROW_POLICY_DISCRETE 1\n"
        }
        s += "\n"
        if let norm = policy.normalization {
            s += "/* Observation normaliser, frozen at export: clip((x - mean) / std, +-\(norm.clip)), in double. */\n"
            s += array("static const double", "obs_mean", norm.mean.map { "\($0)" })
            s += array("static const double", "obs_std", norm.std.map { "\($0)" })
        }
        // Each layer's fused activation, as its op says (a graph names it per layer; a chain's is the layer's).
        var activations: [Int: Activation] = [:]
        for case .layer(let l, let f) in ops { activations[l] = f }
        for (l, layer) in layers.enumerated() {
            s += "\n/* Layer \(l): \(layer.convolution.map { "\($0), " } ?? "")\(layer.fanIn) -> \(layer.fanOut), \(layer.positions.count) connections"
            s += " (\(String(format: "%.1f", 100 * Double(layer.positions.count) / Double(layer.fanIn * layer.fanOut)))% live),"
            s += " then \(describe(activations[l] ?? layer.activation)). */\n"
            if let g = layer.convolution {
                if layout != .dense && layer.isSparse {
                    // The kernel's CSR: row = output channel, column = (ci·KH + kh)·KW + kw.
                    s += array("static const int32_t", "layer\(l)_row", layer.rowPointer.map { "\($0)" })
                    s += array(layer.fanIn <= 65_536 ? "static const uint16_t" : "static const int32_t", "layer\(l)_col",
                               layer.columns.map { "\($0)" })
                    s += array("static const float", "layer\(l)_val", layer.values.map(floatLiteral))
                } else {
                    s += array("static const float", "layer\(l)_w", layer.denseWeights.map(floatLiteral))  // OIHW
                }
                s += array("static const float", "layer\(l)_bias", layer.biases.map(floatLiteral))
                s += "static float layer\(l)_out[\(g.outputCount)];\n"
                continue
            }
            if layout == .csc && layer.isSparse {
                let (pointer, rows, values) = layer.csc
                s += array("static const int32_t", "layer\(l)_colptr", pointer.map { "\($0)" })
                s += array(layer.fanOut <= 65_536 ? "static const uint16_t" : "static const int32_t", "layer\(l)_rowidx", rows.map { "\($0)" })
                s += array("static const float", "layer\(l)_val", values.map(floatLiteral))
            } else if layout == .csr && layer.isSparse {
                s += array("static const int32_t", "layer\(l)_row", layer.rowPointer.map { "\($0)" })
                let columnType = layer.fanIn <= 65_536 ? "static const uint16_t" : "static const int32_t"
                s += array(columnType, "layer\(l)_col", layer.columns.map { "\($0)" })
                s += array("static const float", "layer\(l)_val", layer.values.map(floatLiteral))
            } else {
                // Transposed (input-major): layer<l>_w[c * fanOut + r] is the weight from input c to output r.
                let w = layer.denseWeights
                var t = [Float](repeating: 0, count: w.count)
                for r in 0..<layer.fanOut { for c in 0..<layer.fanIn { t[c * layer.fanOut + r] = w[r * layer.fanIn + c] } }
                s += array("static const float", "layer\(l)_w", t.map(floatLiteral))
            }
            s += array("static const float", "layer\(l)_bias", layer.biases.map(floatLiteral))
            s += "static float layer\(l)_out[\(layer.fanOut)];\n"
        }
        s += "static float network_in[\(n)];\n"
        // The values the graph's other ops make: op<k>_out, one buffer each (a value saved for a skip stays intact).
        var width = n
        for (k, op) in ops.enumerated() {
            switch op {
            case .layer(let l, _): width = layers[l].convolution?.outputCount ?? layers[l].fanOut
            case .maxPool(let p): width = p.outputCount; s += "static float op\(k)_out[\(width)];  /* \(p) */\n"
            case .activation, .addSkip: s += "static float op\(k)_out[\(width)];\n"
            case .saveSkip: break
            }
        }
        s += "\n"
        s += kernels
        s += "\nvoid sparrow_policy_network(const double *observation, float *output) {\n"
        if let norm = policy.normalization {
            s += """
                    for (int i = 0; i < \(n); i++) {
                        double z = (observation[i] - obs_mean[i]) / obs_std[i];
                        network_in[i] = (float)(z < -\(norm.clip) ? -\(norm.clip) : (z > \(norm.clip) ? \(norm.clip) : z));
                    }

                """
        } else if policy.inputScale != 1 {
            s += "    for (int i = 0; i < \(n); i++) network_in[i] = (float)observation[i] * \(floatLiteral(policy.inputScale));\n"
        } else {
            s += "    for (int i = 0; i < \(n); i++) network_in[i] = (float)observation[i];\n"
        }
        var x = "network_in", count = n, skips: [String] = []
        for (k, op) in ops.enumerated() {
            switch op {
            case .layer(let l, let activation):
                s += layerCall(layers[l], l, layout: layout, activation: activation, input: x)
                x = "layer\(l)_out"; count = layers[l].convolution?.outputCount ?? layers[l].fanOut
            case .activation(let f):
                let (kind, slope) = activationCode(f)
                s += "    for (int i = 0; i < \(count); i++) op\(k)_out[i] = activate(\(x)[i], \(kind), \(floatLiteral(slope)));\n"
                x = "op\(k)_out"
            case .maxPool(let p):
                s += "    max_pool(\(x), \(p.channels), \(p.height), \(p.width), \(p.window), \(p.stride), \(p.padding), \(p.outputHeight), \(p.outputWidth), op\(k)_out);\n"
                x = "op\(k)_out"; count = p.outputCount
            case .saveSkip:
                skips.append(x)
            case .addSkip:
                let saved = skips.removeLast()
                s += "    for (int i = 0; i < \(count); i++) op\(k)_out[i] = \(x)[i] + \(saved)[i];\n"
                x = "op\(k)_out"
            }
        }
        s += "    for (int j = 0; j < \(m); j++) output[j] = \(x)[j];\n}\n\n"
        switch policy.output {
        case .squashed(let scale, let offset):
            s += array("static const float", "action_scale", scale.map(floatLiteral))
            s += array("static const float", "action_offset", offset.map(floatLiteral))
            s += """

                /* action[j] = tanh(output[j]) * scale[j] + offset[j] for the first SPARROW_POLICY_ACTIONS outputs. */
                void sparrow_policy(const double *observation, float *action) {
                    static float output[\(m)];
                    sparrow_policy_network(observation, output);
                    for (int j = 0; j < \(scale.count); j++) action[j] = tanhf(output[j]) * action_scale[j] + action_offset[j];
                }

                """
        case .argmax(let choices):
            s += """
                /* The greedy action: the index of the largest output (the first on ties). */
                int sparrow_policy(const double *observation) {
                    static float output[\(m)];
                    sparrow_policy_network(observation, output);
                    int best = 0;
                    for (int j = 1; j < \(choices); j++) if (output[j] > output[best]) best = j;
                    return best;
                }

                """
        }
        return s
    }

    /// The call that computes weight layer `l` on `input` into layer<l>_out, `activation` fused.
    static func layerCall(_ layer: PolicyLayer, _ l: Int, layout: Layout, activation: Activation, input x: String) -> String {
        let (kind, slope) = activationCode(activation)
        let tail = "\(x), layer\(l)_out, \(kind), \(floatLiteral(slope)));\n"
        if let g = layer.convolution {
            let shape = "\(g.inChannels), \(g.height), \(g.width), \(g.outChannels), \(g.kernelHeight), \(g.kernelWidth), \(g.stride), \(g.padding), \(g.outputHeight), \(g.outputWidth)"
            if layout != .dense && layer.isSparse {
                let kernel = layer.fanIn <= 65_536 ? "conv_layer16" : "conv_layer32"
                return "    \(kernel)(layer\(l)_row, layer\(l)_col, layer\(l)_val, layer\(l)_bias, \(shape), " + tail
            }
            return "    conv_dense(layer\(l)_w, layer\(l)_bias, \(shape), " + tail
        }
        if layout == .csc && layer.isSparse {
            let kernel = layer.fanOut <= 65_536 ? "csc_layer16" : "csc_layer32"
            return "    \(kernel)(layer\(l)_colptr, layer\(l)_rowidx, layer\(l)_val, layer\(l)_bias, \(layer.fanIn), \(layer.fanOut), " + tail
        }
        if layout == .csr && layer.isSparse {
            let kernel = layer.fanIn <= 65_536 ? "sparse_layer16" : "sparse_layer32"
            return "    \(kernel)(layer\(l)_row, layer\(l)_col, layer\(l)_val, layer\(l)_bias, \(layer.fanOut), " + tail
        }
        return "    dense_layer(layer\(l)_w, layer\(l)_bias, \(layer.fanIn), \(layer.fanOut), " + tail
    }

    /// Activation codes of the generated kernels: 0 identity, 1 ReLU, 2 LeakyReLU (slope), 3 tanh.
    static func activationCode(_ a: Activation) -> (Int, Float) {
        switch a {
        case .identity: return (0, 0)
        case .relu: return (1, 0)
        case .leakyReLU(let slope): return (2, slope)
        case .tanh: return (3, 0)
        }
    }

    static func describe(_ a: Activation) -> String {
        switch a {
        case .identity: return "identity"
        case .relu: return "ReLU"
        case .leakyReLU(let slope): return "LeakyReLU(\(slope))"
        case .tanh: return "tanh"
        }
    }

    /// The generated layer loops. The sparse one keeps four partial sums per row so consecutive additions do not
    /// wait on each other (a single running sum makes the loop add-latency bound); `restrict` lets the dense one
    /// vectorise.
    static let kernels = """
        static inline float activate(float z, int kind, float slope) {
            switch (kind) {
            case 1: return z > 0.0f ? z : 0.0f;
            case 2: return z > 0.0f ? z : slope * z;
            case 3: return tanhf(z);
            default: return z;
            }
        }

        /* y[r] = f(b[r] + sum over the live connections k of row r of val[k] * x[col[k]]). */
        #define SPARROW_SPARSE_LAYER(name, index_t)                                                              \\
        static inline void name(const int32_t *restrict row, const index_t *restrict col,                         \\
                                const float *restrict val, const float *restrict bias, int rows,                   \\
                                const float *restrict x, float *restrict y, int kind, float slope) {               \\
            for (int r = 0; r < rows; r++) {                                                                      \\
                float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;                                                 \\
                int32_t k = row[r];                                                                               \\
                const int32_t end = row[r + 1];                                                                   \\
                for (; k + 4 <= end; k += 4) {                                                                    \\
                    s0 += val[k] * x[col[k]];                                                                     \\
                    s1 += val[k + 1] * x[col[k + 1]];                                                             \\
                    s2 += val[k + 2] * x[col[k + 2]];                                                             \\
                    s3 += val[k + 3] * x[col[k + 3]];                                                             \\
                }                                                                                                 \\
                for (; k < end; k++) s0 += val[k] * x[col[k]];                                                    \\
                y[r] = activate((s0 + s1) + (s2 + s3) + bias[r], kind, slope);                                    \\
            }                                                                                                     \\
        }
        SPARROW_SPARSE_LAYER(sparse_layer16, uint16_t)
        SPARROW_SPARSE_LAYER(sparse_layer32, int32_t)

        /* y = f(b + sum over inputs c with x[c] != 0 of column c's connections val[k] * x[c] into row[k]). */
        #define SPARROW_CSC_LAYER(name, index_t)                                                                 \\
        static inline void name(const int32_t *restrict colptr, const index_t *restrict rowidx,                   \\
                                const float *restrict val, const float *restrict bias, int cols, int rows,         \\
                                const float *restrict x, float *restrict y, int kind, float slope) {               \\
            for (int r = 0; r < rows; r++) y[r] = bias[r];                                                        \\
            for (int c = 0; c < cols; c++) {                                                                      \\
                const float xc = x[c];                                                                            \\
                if (xc == 0.0f) continue;                                                                         \\
                for (int32_t k = colptr[c]; k < colptr[c + 1]; k++) y[rowidx[k]] += val[k] * xc;                  \\
            }                                                                                                     \\
            for (int r = 0; r < rows; r++) y[r] = activate(y[r], kind, slope);                                    \\
        }
        SPARROW_CSC_LAYER(csc_layer16, uint16_t)
        SPARROW_CSC_LAYER(csc_layer32, int32_t)

        /* The outputs o in [*lo, *hi) whose input o*stride + d - pad lies in [0, n): the rest read the padding (zeros). */
        static inline void conv_range(int n, int d, int stride, int pad, int outputs, int *lo, int *hi) {
            *lo = pad > d ? (pad - d + stride - 1) / stride : 0;
            *hi = n - 1 + pad - d < 0 ? 0 : (n - 1 + pad - d) / stride + 1;
            if (*hi > outputs) *hi = outputs;
        }

        /* One tap of a convolution: y[oy][ox] += v * x[oy*stride + dy - pad][ox*stride + dx - pad] over the output
           positions whose input lies inside x, with no test in the inner loop. */
        static inline void conv_tap(float v, const float *restrict x, int h, int w, int dy, int dx, int stride, int pad,
                                    int oh, int ow, float *restrict y) {
            int oy0, oy1, ox0, ox1;
            conv_range(h, dy, stride, pad, oh, &oy0, &oy1);
            conv_range(w, dx, stride, pad, ow, &ox0, &ox1);
            for (int oy = oy0; oy < oy1; oy++) {
                const float *restrict xr = x + (long)(oy * stride + dy - pad) * w;
                float *restrict yr = y + (long)oy * ow;
                for (int ox = ox0; ox < ox1; ox++) yr[ox] += v * xr[ox * stride + dx - pad];
            }
        }

        /* A convolution over the live taps of each output channel co (the kernel's CSR row co; a column is
           (ci*kh + dy)*kw + dx), x and y channel-major ([C][H][W]). */
        #define SPARROW_CONV_LAYER(name, index_t)                                                                 \
        static inline void name(const int32_t *restrict row, const index_t *restrict col,                         \
                                const float *restrict val, const float *restrict bias, int cin, int h, int w,     \
                                int cout, int kh, int kw, int stride, int pad, int oh, int ow,                    \
                                const float *restrict x, float *restrict y, int kind, float slope) {              \
            (void)cin;                                                                                            \
            for (int co = 0; co < cout; co++) {                                                                   \
                float *restrict yc = y + (long)co * oh * ow;                                                      \
                for (int p = 0; p < oh * ow; p++) yc[p] = bias[co];                                               \
                for (int32_t k = row[co]; k < row[co + 1]; k++) {                                                 \
                    const int j = (int)col[k], ci = j / (kh * kw), t = j % (kh * kw);                             \
                    conv_tap(val[k], x + (long)ci * h * w, h, w, t / kw, t % kw, stride, pad, oh, ow, yc);        \
                }                                                                                                 \
                for (int p = 0; p < oh * ow; p++) yc[p] = activate(yc[p], kind, slope);                           \
            }                                                                                                     \
        }
        SPARROW_CONV_LAYER(conv_layer16, uint16_t)
        SPARROW_CONV_LAYER(conv_layer32, int32_t)

        /* The same over every tap of the OIHW kernel w (w[(co*cin + ci)*kh*kw + dy*kw + dx]). */
        static inline void conv_dense(const float *restrict wt, const float *restrict bias, int cin, int h, int w,
                                      int cout, int kh, int kw, int stride, int pad, int oh, int ow,
                                      const float *restrict x, float *restrict y, int kind, float slope) {
            for (int co = 0; co < cout; co++) {
                float *restrict yc = y + (long)co * oh * ow;
                for (int p = 0; p < oh * ow; p++) yc[p] = bias[co];
                for (int j = 0; j < cin * kh * kw; j++) {
                    const int ci = j / (kh * kw), t = j % (kh * kw);
                    conv_tap(wt[(long)co * cin * kh * kw + j], x + (long)ci * h * w, h, w, t / kw, t % kw, stride, pad, oh, ow, yc);
                }
                for (int p = 0; p < oh * ow; p++) yc[p] = activate(yc[p], kind, slope);
            }
        }

        /* TF's "SAME" max-pooling: the largest input in each window, the padding left out (never a maximum). */
        static inline void max_pool(const float *restrict x, int channels, int h, int w, int window, int stride, int pad,
                                    int oh, int ow, float *restrict y) {
            for (int c = 0; c < channels; c++) {
                const float *restrict xc = x + (long)c * h * w;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        float best = -INFINITY;
                        for (int dy = 0; dy < window; dy++) {
                            const int iy = oy * stride + dy - pad;
                            if (iy < 0 || iy >= h) continue;
                            for (int dx = 0; dx < window; dx++) {
                                const int ix = ox * stride + dx - pad;
                                if (ix >= 0 && ix < w && xc[iy * w + ix] > best) best = xc[iy * w + ix];
                            }
                        }
                        y[((long)c * oh + oy) * ow + ox] = best;
                    }
                }
            }
        }

        /* y = f(W x + b) with W stored input-major (w[c * rows + r]). */
        static inline void dense_layer(const float *restrict w, const float *restrict bias, int cols, int rows,
                                       const float *restrict x, float *restrict y, int kind, float slope) {
            for (int r = 0; r < rows; r++) y[r] = 0.0f;
            for (int c = 0; c < cols; c++) {
                const float xc = x[c];
                const float *restrict wc = w + (long)c * rows;
                for (int r = 0; r < rows; r++) y[r] += wc[r] * xc;
            }
            for (int r = 0; r < rows; r++) y[r] = activate(y[r] + bias[r], kind, slope);
        }

        """

    /// `decl name[count] = { … };`, eight values a line.
    static func array(_ declaration: String, _ name: String, _ values: [String]) -> String {
        var s = "\(declaration) \(name)[\(max(values.count, 1))] = {"
        for (i, v) in values.enumerated() {
            if i % 8 == 0 { s += "\n    " }
            s += v + (i + 1 < values.count ? ", " : "")
        }
        return s + "\n};\n"
    }

    /// The shortest decimal that reads back as the same float, with C's `f` suffix.
    static func floatLiteral(_ v: Float) -> String {
        var d = "\(v)"
        if !d.contains(".") && !d.contains("e") { d += ".0" }
        return d + "f"
    }
}
