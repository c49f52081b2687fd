import ArgumentParser
import Foundation
import NeuralNet
import SparrowCore

/// `sparrow bench nn`: time of one training step (forward, backward, Adam) of a 23-256-256-1 MLP at batch 256 for
/// the dense, truly sparse and masked-dense backends, and GFLOP/s of each kernel. A benchmark, never a test.
public struct BenchNN: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Time one training step of a 23-256-256-1 MLP (batch 256) on the dense, sparse and masked backends.")

    @Flag(help: "One JSON object per line (keys backend, density, step_ms, gflops, bytes, …) instead of a table.")
    public var json = false

    @Option(help: "Threads: OpenBLAS's for the dense backend; row splits of the sparse kernels (as `train --threads`).")
    public var threads = 1

    @Option(help: "Batch size (default: 256 for the MLP, 32 for nature-cnn: Dopamine's DQN batch).")
    public var batch: Int?

    @Option(help: "What to time: mlp (one training step of --widths, and its kernels) or nature-cnn (each of the Nature CNN's three convolutions on 4 × 84 × 84 frames: forward, input gradient, weight gradient, truly sparse against im2col + sgemm; then one whole DQN update, dense against sparse at 1 − each density with ERK and uniform layers) or impala (the same for the Impala network's five distinct convolutions and its DQN update).")
    public var network = BenchNetwork.mlp.rawValue

    @Option(parsing: .upToNextOption, help: "Layer widths, input first.")
    public var widths: [Int] = [23, 256, 256, 1]

    @Option(parsing: .upToNextOption, help: "Densities for the sparse and masked backends (default: 1 0.5 0.2 0.1 0.05 for the MLP, 0.1 0.05 for nature-cnn).")
    public var densities: [Double] = []

    @Option(parsing: .upToNextOption,
            help: "CKernels bodies to time, one after the other in this run: \(KernelBody.allCases.map(\.rawValue).joined(separator: ", ")) (default: the widest this CPU runs).")
    public var kernelBody: [KernelBody] = []

    @Option(help: "Minimum seconds per timing round (steps: 9 interleaved rounds; kernels: 7 rounds; medians).")
    public var minimumTime = 0.02

    @Option(name: .customLong("dense-path"),
            help: "rule|off: whether a dense-enough truly sparse layer or convolution runs as sgemm (default rule; timed tables are for runs, see bench dense-path).")
    public var densePath: DensePath.Mode = .rule

    public init() {}

    public func validate() throws {
        if densePath == .timed {
            throw ValidationError("--dense-path takes rule or off here, got timed (runs use timed tables; sparrow bench dense-path prints them)")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        if BenchNetwork(rawValue: network) == nil {
            let near = NearMiss.closest(to: network, among: BenchNetwork.allCases.map(\.rawValue)).map { "; did you mean \($0)?" } ?? ""
            throw ValidationError("--network \(NearMiss.shown(network)) is not one of: "
                                  + BenchNetwork.allCases.map(\.rawValue).joined(separator: ", ") + near)
        }
        if let batch, batch < 1 { throw ValidationError("--batch must be ≥ 1, got \(batch)") }
        guard widths.count >= 2, widths.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--widths needs at least two positive sizes, got \(widths)")
        }
        if let bad = densities.first(where: { !($0 > 0 && $0 <= 1) }) {
            throw ValidationError("--densities must be in (0, 1], got \(bad)")
        }
        if let bad = kernelBody.first(where: { !KernelBody.available.contains($0) }) {
            throw ValidationError("--kernel-body \(bad.rawValue) needs instructions this CPU lacks; it runs: "
                                  + KernelBody.available.map(\.rawValue).joined(separator: ", "))
        }
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    public func run() throws {
        NeuralNetBenchmark.setBLASThreads(threads)
        Parallel.setThreads(threads)
        DensePath.use(densePath)
        let chosen = KernelBody.current
        defer { KernelBody.use(chosen) }
        for (i, body) in (kernelBody.isEmpty ? [KernelBody.best] : kernelBody).enumerated() {
            KernelBody.use(body)
            if i > 0 && !json { print("") }
            switch BenchNetwork(rawValue: network)! {
            case .mlp: measure()
            case .natureCNN, .impala:
                let net = BenchNetwork(rawValue: network)!
                measureConvolutions(net == .impala ? NeuralNetBenchmark.impalaLayers : NeuralNetBenchmark.natureLayers)
                // The whole update at the preset's sparsities: 90% and the matching 1 − density of each given density.
                let d = densities.isEmpty ? [0.1, 0.05] : densities.filter { $0 < 1 }
                try measureDQNUpdates(net, sparsities: d.map { (1 - $0 + 1e-12).rounded(toPlaces: 6) }, batch: batch ?? 32)
            }
        }
    }

    private func measure() {
        let densities = densities.isEmpty ? [1.0, 0.5, 0.2, 0.1, 0.05] : densities
        let B = batch ?? 256, hidden = widths.count > 2 ? widths[1] : widths[0]
        let hiddenOut = widths.count > 2 ? widths[2] : widths[1]
        func emit(_ fields: [(String, Any)]) {
            let body = fields.map { k, v -> String in
                switch v {
                case let s as String: return "\"\(k)\":\"\(s)\""
                case let d as Double: return "\"\(k)\":\(d.isFinite ? String(format: "%.6g", d) : "null")"
                default: return "\"\(k)\":\(v)"
                }
            }
            print("{" + body.joined(separator: ",") + "}")
        }
        let raw = NeuralNetBenchmark.sgemm(m: hiddenOut, n: B, k: hidden, minimum: minimumTime)
        let blasStep = NeuralNetBenchmark.blasStepMatmuls(widths: widths, batch: B, minimum: minimumTime)
        var configs: [(backend: LayerBackend, density: Double)] = [(.dense, 1)]
        for backend in [LayerBackend.sparse, .masked] { for d in densities { configs.append((backend, d)) } }
        let steps = NeuralNetBenchmark.trainingSteps(configs, widths: widths, batch: B, minimum: minimumTime)
        let dense = steps[0]
        var kernels = NeuralNetBenchmark.kernels(fanIn: hidden, fanOut: hiddenOut, batch: B, backend: .dense, density: 1,
                                                 minimum: minimumTime)
        for d in densities {
            kernels += NeuralNetBenchmark.kernels(fanIn: hidden, fanOut: hiddenOut, batch: B, backend: .sparse, density: d,
                                                  minimum: minimumTime)
        }
        let net = widths.map(String.init).joined(separator: "-")
        if json {
            emit([("backend", "openblas_sgemm"), ("density", 1.0), ("step_ms", blasStep), ("gflops", raw.gflops),
                  ("shape", "\(hiddenOut)x\(hidden)x\(B)"), ("sgemm_us", raw.microseconds),
                  ("note", "step_ms = the raw sgemm calls of one dense training step of \(net)"),
                  ("blas_core", BLASCore.current.inUse), ("blas_core_detected", BLASCore.current.detected),
                  ("kernel_body", KernelBody.current.rawValue)])
            for s in steps {
                emit([("backend", s.backend.rawValue), ("density", s.density), ("step_ms", s.stepMilliseconds),
                      ("gflops", s.gflops), ("speedup_vs_dense", dense.stepMilliseconds / s.stepMilliseconds),
                      ("forward_ms", s.forwardMilliseconds), ("backward_ms", s.backwardMilliseconds),
                      ("adam_ms", s.optimizerMilliseconds), ("mflop_per_step", s.flopsPerStep * 1e-6),
                      ("vs_blas_matmuls", s.backend == .dense ? s.stepMilliseconds / blasStep : Double.nan),
                      ("network", net), ("batch", B), ("threads", threads),
                      // Weights + Adam moments + indices (Int32: see NeuralNet/StorageBytes.swift), vs the dense network.
                      ("bytes", s.storageBytes), ("dense_bytes", dense.storageBytes),
                      ("bytes_ratio", Double(s.storageBytes) / Double(dense.storageBytes)),
                      ("layer_paths", s.layerPaths.joined(separator: ",")),
                      ("kernel_body", KernelBody.current.rawValue)])
            }
            for k in kernels {
                emit([("backend", k.backend.rawValue), ("density", k.density), ("kernel", k.kernel),
                      ("us", k.microseconds), ("gflops", k.gflops), ("shape", "\(hiddenOut)x\(hidden)x\(B)"), ("path", k.path),
                      ("kernel_body", KernelBody.current.rawValue)])
            }
        } else {
            print("One training step (forward, backward, Adam) of \(net), batch \(B), \(threads) BLAS thread(s); median times.")
            print("CPU \(CPUInfo.current.summary); OpenBLAS core \(BLASCore.current.inUse) (\(BLASCore.current.note)); "
                  + "Sparrow kernels \(KernelBody.current.rawValue)")
            print(String(format: "OpenBLAS sgemm %dx%dx%d: %.1f GFLOP/s; the raw sgemm calls of a dense step: %.3f ms",
                         hiddenOut, hidden, B, raw.gflops, blasStep))
            print("backend  density   step ms   fwd ms   bwd ms  adam ms  GFLOP/s  speedup vs dense   memory KB (vs dense)")
            for s in steps {
                print(pad(s.backend.rawValue, 7) + String(format: "  %7.2f  %8.3f  %7.3f  %7.3f  %7.3f  %7.1f  %6.2fx  %19.1f (%.3f)",
                             s.density, s.stepMilliseconds, s.forwardMilliseconds,
                             s.backwardMilliseconds, s.optimizerMilliseconds, s.gflops,
                             dense.stepMilliseconds / s.stepMilliseconds, Double(s.storageBytes) / 1024,
                             Double(s.storageBytes) / Double(dense.storageBytes)))
            }
            print("memory = weights + Adam moments + indices (sparse: Int32 row/column pointers, 16-bit column, row and place in row per connection; masked: the mask)")
            for s in steps where s.backend == .sparse && s.layerPaths.contains("sparse-as-dense") {
                print(String(format: "density %.2f layers ran: ", s.density) + s.layerPaths.joined(separator: ", ")
                      + " (sparse-as-dense: truly sparse storage, sgemm on the densified weights; see DensePath)")
            }
            print(String(format: "dense step / raw BLAS matmuls: %.2fx (target ≤ 1.5x)", dense.stepMilliseconds / blasStep))
            print("\nKernels of one \(hiddenOut)x\(hidden) layer at batch \(B) (useful GFLOP/s: live connections only):")
            print("backend  density  kernel                µs   GFLOP/s")
            for k in kernels {
                print(pad(k.backend.rawValue, 7) + String(format: "  %7.2f  ", k.density) + pad(k.kernel, 16)
                      + String(format: "  %7.1f  %7.1f", k.microseconds, k.gflops)
                      + (k.path == "sparse-as-dense" ? "  (sparse-as-dense)" : ""))
            }
        }
    }
}

extension BenchNN {
    /// Each convolution of a network, sparse at each density against dense, in one run: milliseconds per product,
    /// useful GFLOP/s (live taps only) and the dense/sparse ratio.
    private func measureConvolutions(_ layers: [ConvGeometry]) {
        let densities = densities.isEmpty ? [0.1, 0.05] : densities
        let B = batch ?? 32
        var rows: [NeuralNetBenchmark.ConvLayerTiming] = []
        for d in densities { for g in layers { rows.append(NeuralNetBenchmark.convLayer(g, batch: B, density: d, minimum: minimumTime)) } }
        let products: [(String, KeyPath<NeuralNetBenchmark.ConvKernelSeconds, Double>)] =
            [("forward", \.forward), ("input_gradient", \.inputGradient), ("weight_gradient", \.weightGradient)]
        if json {
            for r in rows {
                for (name, key) in products {
                    let s = r.sparse[keyPath: key], d = r.dense[keyPath: key]
                    print("{\"network\":\"\(network)\",\"layer\":\"\(r.geometry)\",\"kernel\":\"\(name)\",\"batch\":\(B),"
                          + String(format: "\"density\":%.6g,\"sparse_ms\":%.6g,\"dense_ms\":%.6g,\"speedup_vs_dense\":%.6g,", r.density, 1e3 * s, 1e3 * d, d / s)
                          + String(format: "\"sparse_gflops\":%.6g,\"dense_gflops\":%.6g,\"gflops_ratio\":%.6g,", r.sparseFLOPs / s * 1e-9,
                                   r.denseFLOPs / d * 1e-9, (r.sparseFLOPs / s) / (r.denseFLOPs / d))
                          + "\"live_weights\":\(r.liveWeights),\"threads\":\(threads),\"kernel_body\":\"\(KernelBody.current.rawValue)\"}")
                }
            }
            return
        }
        print("The \(network == BenchNetwork.impala.rawValue ? "Impala network's distinct" : "Nature CNN's") convolutions on 4 × 84 × 84 frames, batch \(B), one thread: truly sparse (live taps only) "
              + "against dense (im2col + OpenBLAS sgemm); median times.")
        print("CPU \(CPUInfo.current.summary); OpenBLAS core \(BLASCore.current.inUse); Sparrow kernels \(KernelBody.current.rawValue)")
        print("density  layer                          kernel            sparse ms  dense ms  speedup  GFLOP/s sparse/dense")
        for r in rows {
            for (name, key) in products {
                let s = r.sparse[keyPath: key], d = r.dense[keyPath: key]
                print(String(format: "%7.2f  ", r.density) + pad("\(r.geometry)", 31) + pad(name, 16)
                      + String(format: "  %9.3f  %8.3f  %6.2fx  %6.1f / %6.1f", 1e3 * s, 1e3 * d, d / s,
                               r.sparseFLOPs / s * 1e-9, r.denseFLOPs / d * 1e-9))
            }
        }
        for d in densities {
            let these = rows.filter { $0.density == d }
            let sparse = these.reduce(0) { $0 + $1.sparse.forward + $1.sparse.inputGradient + $1.sparse.weightGradient }
            let dense = these.reduce(0) { $0 + $1.dense.forward + $1.dense.inputGradient + $1.dense.weightGradient }
            print(String(format: "density %.2f, all three layers and products: sparse %.2f ms, dense %.2f ms (%.2fx)", d,
                         1e3 * sparse, 1e3 * dense, dense / sparse))
        }
    }
}

/// The networks `sparrow bench nn` times.
public enum BenchNetwork: String, CaseIterable {
    case mlp
    case natureCNN = "nature-cnn"
    case impala

    /// The DQN presets whose update `bench nn` times: the dense one and SET's (at each sparsity).
    var presets: (dense: String, sparse: String) {
        self == .impala ? ("dense-dqn-atari-impala", "set-dqn-atari-impala") : ("dense-dqn-atari", "set-dqn-atari")
    }
}

extension NeuralNetBenchmark {
    /// The Nature CNN's convolutions on Atari's 4 stacked 84 × 84 frames.
    static var natureLayers: [ConvGeometry] { ConvGeometry.natureCNN(frames: 4) }
    /// The Impala network's convolutions on the same frames, each distinct geometry once (15 layers, 5 shapes).
    static var impalaLayers: [ConvGeometry] {
        var seen = Set<ConvGeometry>()
        return ImpalaNetwork.architecture(frames: 4, hidden: [ImpalaNetwork.hidden], outputs: 6).convolutions
            .filter { seen.insert($0).inserted }
    }
}

extension KernelBody: ExpressibleByArgument {}

extension Double {
    /// Rounded to `places` decimals (1 − 0.1 is 0.9, not 0.9000000000000000222).
    func rounded(toPlaces places: Int) -> Double {
        let f = pow(10, Double(places))
        return (self * f).rounded() / f
    }
}
