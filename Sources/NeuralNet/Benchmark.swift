import COpenBLAS
import Foundation
import SparrowCore

/// Measurements behind `sparrow bench nn`: one training step (forward, backward, Adam) of an MLP and the
/// throughput of each kernel, single-threaded by default. Timings are medians of repeated runs; compare ratios
/// measured in one run (the machines are shared).
public enum NeuralNetBenchmark {
    public struct StepResult: Sendable {
        public var backend: LayerBackend
        public var density: Double
        public var stepMilliseconds: Double
        /// Useful FLOPs per step (2·live·batch for the forward product and the weight gradient of every layer and
        /// the input gradient of every layer but the first) per second.
        public var gflops: Double
        public var flopsPerStep: Double
        /// Same-density milliseconds of each part.
        public var forwardMilliseconds: Double
        public var backwardMilliseconds: Double
        public var optimizerMilliseconds: Double
        /// The timed network's `storageBytes` (weights, Adam moments, indices).
        public var storageBytes: Int
        /// How each layer ran (`Benchmark.path`).
        public var layerPaths: [String]
    }

    public struct KernelResult: Sendable {
        /// "forward", "input_gradient", "weight_gradient" (sparse kernels or BLAS for dense).
        public var kernel: String
        public var backend: LayerBackend
        public var density: Double
        public var microseconds: Double
        public var gflops: Double
        /// How the layer ran (`Benchmark.path`).
        public var path: String
    }

    /// "dense" or "masked" for those backends; for a truly sparse layer "sparse" (its sparse kernels) or
    /// "sparse-as-dense" (`DensePath`: sgemm on its densified weights).
    public static func path(_ layer: any Layer) -> String {
        if let s = layer as? SparseLayer { return s.runsDense ? "sparse-as-dense" : "sparse" }
        return layer.backend.rawValue
    }

    /// Sets OpenBLAS's thread count (the library default would use every core).
    public static func setBLASThreads(_ n: Int) { BLASThreads.set(n) }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Median seconds per call of `body`, over `rounds` rounds of enough calls to last ≥ `minimum` seconds each.
    public static func time(rounds: Int = 7, minimum: Double = 0.02, _ body: () -> Void) -> Double {
        interleavedMedians(cases: 1, phases: 1, rounds: rounds, minimum: minimum, maxReps: .max) { _, _ in body() }[0][0]
    }

    /// Median seconds per run of each case's phases, timed in interleaved rounds so that a burst of load from other
    /// processes hits every case alike. Each case runs once to warm up, is calibrated to `reps` runs of its phase 0
    /// lasting ≥ `minimum` seconds (at most `maxReps`), and then every round runs each of its phases `reps` times
    /// in turn. `run(c, p)` runs phase `p` of case `c` once. Returns `[case][phase]`.
    static func interleavedMedians(cases: Int, phases: Int, rounds: Int, minimum: Double, maxReps: Int,
                                   _ run: (_ case: Int, _ phase: Int) -> Void) -> [[Double]] {
        var reps = [Int](repeating: 1, count: cases)
        for c in 0..<cases {
            run(c, 0)
            while reps[c] < maxReps {
                let t0 = now()
                for _ in 0..<reps[c] { run(c, 0) }
                if now() - t0 >= minimum { break }
                reps[c] *= 2
            }
        }
        var samples = [[[Double]]](repeating: [[Double]](repeating: [], count: phases), count: cases)
        for _ in 0..<rounds {
            for c in 0..<cases {
                for p in 0..<phases {
                    let t0 = now()
                    for _ in 0..<reps[c] { run(c, p) }
                    samples[c][p].append((now() - t0) / Double(reps[c]))
                }
            }
        }
        return samples.map { $0.map { $0.sorted()[$0.count / 2] } }
    }

    /// One training step of `widths` at `batch` for each (backend, density) with every layer at that density
    /// (dense backend: density 1). All configurations are timed in interleaved rounds, so a burst of load from
    /// other processes hits them alike; each result is the median over rounds.
    public static func trainingSteps(_ configs: [(backend: LayerBackend, density: Double)], widths: [Int], batch: Int,
                                     rounds: Int = 9, minimum: Double = 0.02, seed: UInt64 = 1) -> [StepResult] {
        struct Case { let net: MLP; let ws: Workspace }
        let adam = Adam(learningRate: 1e-6)
        let cases: [Case] = configs.map { c in
            var g = Generator(seed: seed)
            let spec = MLPSpec(widths: widths, backend: c.backend,
                               densities: Array(repeating: c.backend == .dense ? 1 : c.density, count: widths.count - 1))
            let net = MLP(spec: spec, generator: &g)
            let ws = net.workspace(batch: batch)
            for i in 0..<ws.input.count { ws.input[i] = Float(g.uniform(-1, 1)) }
            for i in 0..<ws.outputGradient.count { ws.outputGradient[i] = Float(g.uniform(-1, 1)) / Float(batch) }
            return Case(net: net, ws: ws)
        }
        // Phases: a whole step (forward, backward, Adam), then each part alone.
        let medians = interleavedMedians(cases: cases.count, phases: 4, rounds: rounds, minimum: minimum, maxReps: 1 << 20) { i, phase in
            let c = cases[i]
            if phase == 0 || phase == 1 { c.net.forward(c.ws) }
            if phase == 0 || phase == 2 { c.net.backward(c.ws) }
            if phase == 0 || phase == 3 { adam.step(c.net) }
        }
        return zip(zip(configs, cases), medians).map { pair, seconds in
            let (config, c) = pair
            let med = seconds.map { $0 * 1e3 }
            var flops = 0.0
            for (l, layer) in c.net.layers.enumerated() {
                flops += 2 * Double(layer.liveConnections) * Double(batch) * (l == 0 ? 2 : 3)
            }
            return StepResult(backend: config.backend, density: config.backend == .dense ? 1 : config.density,
                              stepMilliseconds: med[0], gflops: flops / (med[0] * 1e-3) * 1e-9, flopsPerStep: flops,
                              forwardMilliseconds: med[1], backwardMilliseconds: med[2], optimizerMilliseconds: med[3],
                              storageBytes: c.net.storageBytes, layerPaths: c.net.layers.map(path))
        }
    }

    /// The three products of one fanIn × fanOut layer at `batch`, through the layer's own kernels.
    public static func kernels(fanIn: Int, fanOut: Int, batch: Int, backend: LayerBackend, density: Double,
                               seed: UInt64 = 2, minimum: Double = 0.02) -> [KernelResult] {
        var g = Generator(seed: seed)
        let shape = LayerShape(fanIn: fanIn, fanOut: fanOut)
        let d = backend == .dense ? 1 : density
        let positions = d >= 1 ? (0..<Int32(shape.count)).map { $0 }
            : randomTopology(shape: shape, count: liveCounts(shapes: [shape], densities: [d])[0], generator: &g)
        let values = initialWeights(shape: shape, positions: positions, method: .pytorchLinear, generator: &g)
        let biases = [Float](repeating: 0, count: fanOut)
        let layer = MLP.makeLayer(backend: backend, shape: shape, positions: positions, values: values, biases: biases,
                                  momentPolicy: .masked)
        let x = FloatBuffer(count: fanIn * batch), y = FloatBuffer(count: fanOut * batch)
        let dy = FloatBuffer(count: fanOut * batch), dx = FloatBuffer(count: fanIn * batch)
        for i in 0..<x.count { x[i] = Float(g.uniform(-1, 1)) }
        for i in 0..<dy.count { dy[i] = Float(g.uniform(-1, 1)) }
        // FLOPs actually useful: live connections for sparse, the whole matrix for dense and masked.
        let work = 2 * Double(backend == .sparse ? positions.count : shape.count) * Double(batch)
        let f = time(minimum: minimum) { layer.forward(x.pointer, batch: batch, into: y.pointer) }
        let t = time(minimum: minimum) { layer.inputGradient(outputGradient: dy.pointer, batch: batch, into: dx.pointer) }
        let w = time(minimum: minimum) { layer.computeGradients(outputGradient: dy.pointer, input: x.pointer, batch: batch) }
        return [("forward", f), ("input_gradient", t), ("weight_gradient", w)].map {
            KernelResult(kernel: $0.0, backend: backend, density: d, microseconds: $0.1 * 1e6, gflops: work / $0.1 * 1e-9,
                         path: path(layer))
        }
    }

    /// Raw `cblas_sgemm` GFLOP/s for C(m×n) = A(m×k)·B(k×n).
    public static func sgemm(m: Int, n: Int, k: Int, minimum: Double = 0.02) -> (microseconds: Double, gflops: Double) {
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
        var g = Generator(seed: 3)
        for i in 0..<a.count { a[i] = Float(g.uniform(-1, 1)) }
        for i in 0..<b.count { b[i] = Float(g.uniform(-1, 1)) }
        let t = time(minimum: minimum) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a.pointer, Int32(k),
                        b.pointer, Int32(n), 0, c.pointer, Int32(n))
        }
        return (t * 1e6, 2 * Double(m * n * k) / t * 1e-9)
    }

    /// Time of the raw BLAS calls a dense training step makes for `widths` at `batch` (forward, weight gradient,
    /// and input gradient except for the first layer) — the "same matmuls" the dense step is compared against.
    public static func blasStepMatmuls(widths: [Int], batch: Int, minimum: Double = 0.02) -> Double {
        let B = Int32(batch)
        var bufs: [(FloatBuffer, FloatBuffer, FloatBuffer, FloatBuffer, FloatBuffer, Int32, Int32)] = []
        for l in 0..<(widths.count - 1) {
            let n = widths[l], m = widths[l + 1]
            bufs.append((FloatBuffer(count: m * n), FloatBuffer(count: n * batch), FloatBuffer(count: m * batch),
                         FloatBuffer(count: m * n), FloatBuffer(count: n * batch), Int32(n), Int32(m)))
        }
        return time(minimum: minimum) {
            for (l, (w, x, y, dw, dx, n, m)) in bufs.enumerated() {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, B, n, 1, w.pointer, n, x.pointer, B, 0, y.pointer, B)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, B, 1, y.pointer, B, x.pointer, B, 0, dw.pointer, n)
                if l > 0 {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, B, m, 1, w.pointer, n, y.pointer, B, 0, dx.pointer, B)
                }
            }
        } * 1e3
    }
}
