import Foundation

/// Plain, obviously correct twins of the fast kernels in `CKernels` (and of the BLAS calls), accumulating in
/// Double. Tests hold every fast kernel against these; nothing in the training path calls them.
public enum ReferenceKernels {
    /// Y[r, b] = bias[r] + Σ_{k in ptr[r]..<ptr[r+1]} w_k · X[idx[k], b], w_k = values[perm[k]] or values[k].
    public static func spmm(rows: Int, ptr: [Int32], idx: [Int32], values: [Float], perm: [Int32]?,
                            x: [Float], batch: Int, bias: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: rows * batch)
        for r in 0..<rows {
            for b in 0..<batch {
                var s = Double(bias?[r] ?? 0)
                for k in Int(ptr[r])..<Int(ptr[r + 1]) {
                    let w = values[perm.map { Int($0[k]) } ?? k]
                    s += Double(w) * Double(x[Int(idx[k]) * batch + b])
                }
                y[r * batch + b] = Float(s)
            }
        }
        return y
    }

    /// G[k] = Σ_b dY[r, b] · X[idx[k], b] for k in row r.
    public static func sddmm(rows: Int, ptr: [Int32], idx: [Int32], dY: [Float], x: [Float], batch: Int) -> [Float] {
        var g = [Float](repeating: 0, count: idx.count)
        for r in 0..<rows {
            for k in Int(ptr[r])..<Int(ptr[r + 1]) {
                var s = 0.0
                for b in 0..<batch { s += Double(dY[r * batch + b]) * Double(x[Int(idx[k]) * batch + b]) }
                g[k] = Float(s)
            }
        }
        return g
    }

    /// Dense Y = W·X (+ bias), W row-major fanOut × fanIn, X fanIn × batch.
    public static func matmul(w: [Float], fanIn: Int, fanOut: Int, x: [Float], batch: Int, bias: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: fanOut * batch)
        for o in 0..<fanOut {
            for b in 0..<batch {
                var s = Double(bias?[o] ?? 0)
                for i in 0..<fanIn { s += Double(w[o * fanIn + i]) * Double(x[i * batch + b]) }
                y[o * batch + b] = Float(s)
            }
        }
        return y
    }

    /// Dense dX = Wᵀ·dY.
    public static func matmulTransposed(w: [Float], fanIn: Int, fanOut: Int, dY: [Float], batch: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: fanIn * batch)
        for i in 0..<fanIn {
            for b in 0..<batch {
                var s = 0.0
                for o in 0..<fanOut { s += Double(w[o * fanIn + i]) * Double(dY[o * batch + b]) }
                dx[i * batch + b] = Float(s)
            }
        }
        return dx
    }

    /// Dense dW = dY·Xᵀ (fanOut × fanIn).
    public static func outerGradient(dY: [Float], x: [Float], fanIn: Int, fanOut: Int, batch: Int) -> [Float] {
        var g = [Float](repeating: 0, count: fanOut * fanIn)
        for o in 0..<fanOut {
            for i in 0..<fanIn {
                var s = 0.0
                for b in 0..<batch { s += Double(dY[o * batch + b]) * Double(x[i * batch + b]) }
                g[o * fanIn + i] = Float(s)
            }
        }
        return g
    }

    /// One Adam step, PyTorch semantics, with the same mask modes as `sk_adam` (0 none, 1 masked moments,
    /// 2 unmasked moments). Returns (w, m, v).
    public static func adam(w: [Float], g: [Float], m: [Float], v: [Float], mask: [Float]?, maskMode: Int,
                            lr: Float, beta1: Float, beta2: Float, step t: Int, eps: Float, weightDecay wd: Float,
                            decoupled: Bool) -> (w: [Float], m: [Float], v: [Float]) {
        var w = w, m = m, v = v
        let bc1 = 1 - Foundation.pow(Double(beta1), Double(t)), bc2 = 1 - Foundation.pow(Double(beta2), Double(t))
        for i in 0..<w.count {
            var gi = Double(g[i]), mi = Double(m[i]), vi = Double(v[i]), wi = Double(w[i])
            let k = Double(mask?[i] ?? 1)
            if maskMode == 1 { gi *= k; mi *= k; vi *= k }
            if decoupled { wi *= 1 - Double(lr) * Double(wd) } else { gi += Double(wd) * wi }
            mi = Double(beta1) * mi + (1 - Double(beta1)) * gi
            vi = Double(beta2) * vi + (1 - Double(beta2)) * gi * gi
            wi -= Double(lr) / bc1 * mi / (vi.squareRoot() / bc2.squareRoot() + Double(eps))
            if maskMode != 0 { wi *= k }
            w[i] = Float(wi); m[i] = Float(mi); v[i] = Float(vi)
        }
        return (w, m, v)
    }
}
