import ArgumentParser
import Foundation
import NeuralNet

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

    @Option(help: "Batch size.")
    public var batch = 256

    @Option(parsing: .upToNextOption, help: "Layer widths, input first.")
    public var widths: [Int] = [23, 256, 256, 1]

    @Option(parsing: .upToNextOption, help: "Densities for the sparse and masked backends.")
    public var densities: [Double] = [1.0, 0.5, 0.2, 0.1, 0.05]

    @Option(parsing: .upToNextOption,
            help: "CKernels bodies to time, one after the other in this run: \(KernelBody.allCases.map(\.rawValue).joined(separator: ", ")) (default: the widest this CPU runs).")
    public var kernelBody: [KernelBody] = []

    @Option(help: "Minimum seconds per timing round (steps: 9 interleaved rounds; kernels: 7 rounds; medians).")
    public var minimumTime = 0.02

    public init() {}

    public func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        guard batch >= 1 else { throw ValidationError("--batch must be ≥ 1, got \(batch)") }
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
        let chosen = KernelBody.current
        defer { KernelBody.use(chosen) }
        for (i, body) in (kernelBody.isEmpty ? [KernelBody.best] : kernelBody).enumerated() {
            KernelBody.use(body)
            if i > 0 && !json { print("") }
            measure()
        }
    }

    private func measure() {
        let B = batch, hidden = widths.count > 2 ? widths[1] : widths[0]
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
                      ("kernel_body", KernelBody.current.rawValue)])
            }
            for k in kernels {
                emit([("backend", k.backend.rawValue), ("density", k.density), ("kernel", k.kernel),
                      ("us", k.microseconds), ("gflops", k.gflops), ("shape", "\(hiddenOut)x\(hidden)x\(B)"),
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
            print("memory = weights + Adam moments + Int32 indices (sparse: CSR, CSC view, positions; masked: the mask)")
            print(String(format: "dense step / raw BLAS matmuls: %.2fx (target ≤ 1.5x)", dense.stepMilliseconds / blasStep))
            print("\nKernels of one \(hiddenOut)x\(hidden) layer at batch \(B) (useful GFLOP/s: live connections only):")
            print("backend  density  kernel                µs   GFLOP/s")
            for k in kernels {
                print(pad(k.backend.rawValue, 7) + String(format: "  %7.2f  ", k.density) + pad(k.kernel, 16)
                      + String(format: "  %7.1f  %7.1f", k.microseconds, k.gflops))
            }
        }
    }
}

extension KernelBody: ExpressibleByArgument {}
