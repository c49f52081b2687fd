import SparrowCore

extension NeuralNetBenchmark {
    /// Seconds per call of one conv layer's three products.
    public struct ConvKernelSeconds: Sendable {
        public var forward: Double
        public var inputGradient: Double
        public var weightGradient: Double
    }

    /// One conv layer timed through `SparseConv2D` (truly sparse at `density`) and `DenseConv2D` (im2col + sgemm,
    /// every tap; its weight gradient rebuilds the column matrix from the input, its input gradient runs col2im).
    public struct ConvLayerTiming: Sendable {
        public var geometry: ConvGeometry
        public var batch: Int
        public var density: Double
        public var liveWeights: Int
        public var sparse: ConvKernelSeconds
        public var dense: ConvKernelSeconds
        /// The FLOPs each product of the sparse layer does (`geometry.forwardFLOPs` of its live weights); the
        /// dense layer's are `denseFLOPs`.
        public var sparseFLOPs: Double { geometry.forwardFLOPs(liveWeights: liveWeights, batch: batch) }
        public var denseFLOPs: Double { geometry.forwardFLOPs(liveWeights: geometry.weightCount, batch: batch) }
        /// Dense time / sparse time per product.
        public var speedups: (forward: Double, inputGradient: Double, weightGradient: Double) {
            (dense.forward / sparse.forward, dense.inputGradient / sparse.inputGradient,
             dense.weightGradient / sparse.weightGradient)
        }
    }

    /// Times forward (ReLU fused), input gradient and weight gradient of a conv layer, sparse at `density` (a uniform
    /// random topology of `liveCounts` taps) against dense, on the kernel body in use, single-threaded. Medians of
    /// `time`; each product is timed sparse then dense, so compare ratios from one call (the machines are shared).
    public static func convLayer(_ geometry: ConvGeometry, batch: Int, density: Double, seed: UInt64 = 4,
                                 minimum: Double = 0.02) -> ConvLayerTiming {
        BLASThreads.ensureConfigured()
        var g = Generator(seed: seed)
        let shape = geometry.kernelShape
        let live = liveCounts(shapes: [shape], densities: [density])[0]
        let positions = randomTopology(shape: shape, count: live, generator: &g)
        let values = initialWeights(shape: shape, positions: positions, method: .pytorchLinear, generator: &g)
        let biases = [Float](repeating: 0.01, count: geometry.outChannels)
        let sparse = SparseConv2D(geometry: geometry, positions: positions, values: values, biases: biases)
        let dense = DenseConv2D(geometry: geometry, weights: sparse.denseWeights(), biases: biases)
        let x = FloatBuffer(count: geometry.inputCount * batch), dx = FloatBuffer(count: geometry.inputCount * batch)
        let y = FloatBuffer(count: geometry.outputCount * batch), dy = FloatBuffer(count: geometry.outputCount * batch)
        for i in 0..<x.count { x[i] = Float(g.uniform(0, 1)) }
        for i in 0..<dy.count { dy[i] = Float(g.uniform(-1, 1)) }
        let sf = time(minimum: minimum) { sparse.forward(x.pointer, batch: batch, into: y.pointer, activation: .relu) }
        let df = time(minimum: minimum) { dense.forward(x.pointer, batch: batch, into: y.pointer, activation: .relu) }
        let si = time(minimum: minimum) { sparse.inputGradient(outputGradient: dy.pointer, batch: batch, into: dx.pointer) }
        let di = time(minimum: minimum) { dense.inputGradient(outputGradient: dy.pointer, batch: batch, into: dx.pointer) }
        let sw = time(minimum: minimum) { sparse.computeGradients(outputGradient: dy.pointer, input: x.pointer, batch: batch) }
        let dw = time(minimum: minimum) { dense.computeGradients(outputGradient: dy.pointer, input: x.pointer, batch: batch) }
        return ConvLayerTiming(geometry: geometry, batch: batch, density: density, liveWeights: live,
                               sparse: ConvKernelSeconds(forward: sf, inputGradient: si, weightGradient: sw),
                               dense: ConvKernelSeconds(forward: df, inputGradient: di, weightGradient: dw))
    }
}
