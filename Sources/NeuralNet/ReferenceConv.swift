/// Plain, obviously correct twins of the convolution kernels (CKernels/conv.c and the im2col + sgemm baseline):
/// nested loops straight from the definition, with bounds tests for the zero padding, in Double. Layout as in
/// `ConvGeometry`: activations [C][H][W][batch], kernels OIHW. Tests hold the fast kernels against these, and
/// check these against finite differences in Double; nothing in the training path calls them.
public enum ReferenceConv {
    /// x[ci][ih][iw][b], or 0 in the zero padding.
    @inline(__always) static func input(_ x: [Double], _ g: ConvGeometry, _ ci: Int, _ ih: Int, _ iw: Int, _ b: Int,
                                        _ batch: Int) -> Double {
        guard ih >= 0 && ih < g.height && iw >= 0 && iw < g.width else { return 0 }
        return x[((ci * g.height + ih) * g.width + iw) * batch + b]
    }

    /// y[co][oh][ow][b] = bias[co] + Σ_{ci, kh, kw} w[co][ci][kh][kw] · x[ci][oh·s + kh − pad][ow·s + kw − pad][b].
    public static func forward(_ g: ConvGeometry, weights w: [Double], bias: [Double]?, x: [Double], batch: Int) -> [Double] {
        precondition(w.count == g.weightCount && x.count == g.inputCount * batch)
        var y = [Double](repeating: 0, count: g.outputCount * batch)
        for co in 0..<g.outChannels {
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    for b in 0..<batch {
                        var s = bias?[co] ?? 0
                        for ci in 0..<g.inChannels {
                            for kh in 0..<g.kernelHeight {
                                for kw in 0..<g.kernelWidth {
                                    let wi = ((co * g.inChannels + ci) * g.kernelHeight + kh) * g.kernelWidth + kw
                                    s += w[wi] * input(x, g, ci, oh * g.stride + kh - g.padding,
                                                       ow * g.stride + kw - g.padding, b, batch)
                                }
                            }
                        }
                        y[((co * g.outputHeight + oh) * g.outputWidth + ow) * batch + b] = s
                    }
                }
            }
        }
        return y
    }

    /// dx[ci][ih][iw][b] = Σ over (co, kh, kw, oh, ow) with ih = oh·s + kh − pad, iw = ow·s + kw − pad of
    /// w[co][ci][kh][kw] · dY[co][oh][ow][b] (the adjoint of `forward` in x).
    public static func inputGradient(_ g: ConvGeometry, weights w: [Double], dY: [Double], batch: Int) -> [Double] {
        precondition(w.count == g.weightCount && dY.count == g.outputCount * batch)
        var dx = [Double](repeating: 0, count: g.inputCount * batch)
        for ci in 0..<g.inChannels {
            for ih in 0..<g.height {
                for iw in 0..<g.width {
                    for b in 0..<batch {
                        var s = 0.0
                        for co in 0..<g.outChannels {
                            for kh in 0..<g.kernelHeight {
                                for kw in 0..<g.kernelWidth {
                                    // ih = oh·s + kh − pad  ⇔  oh = (ih + pad − kh) / s when divisible and in range.
                                    let th = ih + g.padding - kh, tw = iw + g.padding - kw
                                    guard th >= 0 && tw >= 0 && th % g.stride == 0 && tw % g.stride == 0 else { continue }
                                    let oh = th / g.stride, ow = tw / g.stride
                                    guard oh < g.outputHeight && ow < g.outputWidth else { continue }
                                    let wi = ((co * g.inChannels + ci) * g.kernelHeight + kh) * g.kernelWidth + kw
                                    s += w[wi] * dY[((co * g.outputHeight + oh) * g.outputWidth + ow) * batch + b]
                                }
                            }
                        }
                        dx[((ci * g.height + ih) * g.width + iw) * batch + b] = s
                    }
                }
            }
        }
        return dx
    }

    /// dW[co][ci][kh][kw] = Σ_{oh, ow, b} dY[co][oh][ow][b] · x[ci][oh·s + kh − pad][ow·s + kw − pad][b] (dense OIHW).
    public static func weightGradient(_ g: ConvGeometry, dY: [Double], x: [Double], batch: Int) -> [Double] {
        precondition(dY.count == g.outputCount * batch && x.count == g.inputCount * batch)
        var dw = [Double](repeating: 0, count: g.weightCount)
        for co in 0..<g.outChannels {
            for ci in 0..<g.inChannels {
                for kh in 0..<g.kernelHeight {
                    for kw in 0..<g.kernelWidth {
                        var s = 0.0
                        for oh in 0..<g.outputHeight {
                            for ow in 0..<g.outputWidth {
                                for b in 0..<batch {
                                    s += dY[((co * g.outputHeight + oh) * g.outputWidth + ow) * batch + b]
                                        * input(x, g, ci, oh * g.stride + kh - g.padding, ow * g.stride + kw - g.padding, b, batch)
                                }
                            }
                        }
                        dw[((co * g.inChannels + ci) * g.kernelHeight + kh) * g.kernelWidth + kw] = s
                    }
                }
            }
        }
        return dw
    }

    /// db[co] = Σ_{oh, ow, b} dY[co][oh][ow][b].
    public static func biasGradient(_ g: ConvGeometry, dY: [Double], batch: Int) -> [Double] {
        let n = g.outputPositions * batch
        return (0..<g.outChannels).map { co in (0..<n).reduce(0.0) { $0 + dY[co * n + $1] } }
    }

    // Float in and out (the kernels' precision), Double inside.

    public static func forward(_ g: ConvGeometry, weights: [Float], bias: [Float]?, x: [Float], batch: Int) -> [Float] {
        forward(g, weights: weights.map(Double.init), bias: bias?.map(Double.init), x: x.map(Double.init), batch: batch)
            .map { Float($0) }
    }

    public static func inputGradient(_ g: ConvGeometry, weights: [Float], dY: [Float], batch: Int) -> [Float] {
        inputGradient(g, weights: weights.map(Double.init), dY: dY.map(Double.init), batch: batch).map { Float($0) }
    }

    public static func weightGradient(_ g: ConvGeometry, dY: [Float], x: [Float], batch: Int) -> [Float] {
        weightGradient(g, dY: dY.map(Double.init), x: x.map(Double.init), batch: batch).map { Float($0) }
    }

    public static func biasGradient(_ g: ConvGeometry, dY: [Float], batch: Int) -> [Float] {
        biasGradient(g, dY: dY.map(Double.init), batch: batch).map { Float($0) }
    }
}
