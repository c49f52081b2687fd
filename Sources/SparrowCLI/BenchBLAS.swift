import ArgumentParser
import Foundation
import NeuralNet

/// `sparrow bench blas`: the CPU, the OpenBLAS kernel family in use (and how it was chosen), and sgemm GFLOP/s on
/// the shapes a 256-wide training step multiplies. Quick (well under a second); `make bench` starts with it.
struct BenchBLAS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas",
        abstract: "The CPU, the OpenBLAS core in use and how it was chosen, and sgemm GFLOP/s.")

    @Option(parsing: .upToNextOption, help: "Square sgemm sizes to time.") var sizes: [Int] = [64, 256, 1024]
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Option(help: "Minimum seconds per timing round (7 rounds, median).") var minimumTime = 0.02
    @Flag(help: "Print a JSON object as the last line.") var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        if let bad = sizes.first(where: { $0 < 1 || $0 > 8192 }) {
            throw ValidationError("--sizes must be in 1…8192, got \(bad)")
        }
    }

    func run() throws {
        NeuralNetBenchmark.setBLASThreads(threads)
        let cpu = CPUInfo.current, core = BLASCore.current
        print("CPU: \(cpu.summary)")
        print("OpenBLAS core: \(core.inUse.isEmpty ? "(not OpenBLAS)" : core.inUse) — \(core.note)")
        var rates: [Double] = []
        for n in sizes {
            let r = NeuralNetBenchmark.sgemm(m: n, n: n, k: n, minimum: minimumTime)
            rates.append(r.gflops)
            print(String(format: "sgemm %d³: %.1f GFLOP/s (%.1f µs), %d thread(s)", n, r.gflops, r.microseconds, threads))
        }
        if json {
            var o = JSONObject()
            o.add("cpu", cpu.brand); o.add("cpu_family", cpu.family); o.add("cpu_model", cpu.model)
            o.add("cpu_features", cpu.features.joined(separator: " "))
            BLASReport.add(to: &o)
            o.add("threads", threads)
            o.add("sgemm_sizes", sizes.map(Double.init)); o.add("sgemm_gflops", rates)
            print(o.text)
        }
    }
}

/// The BLAS keys every `bench … --json` line carries.
enum BLASReport {
    static func add(to o: inout JSONObject) {
        let core = BLASCore.current
        o.add("blas_core", core.inUse); o.add("blas_core_detected", core.detected)
        o.add("blas_core_changed", core.changed); o.add("blas_core_user_set", core.userSet)
        if let v = core.verified { o.add("blas_core_verified", v) }
    }
}

/// A user's OPENBLAS_CORETYPE that this CPU cannot run (e.g. SkylakeX without AVX-512) would crash the first dense
/// product with an illegal instruction; the start-up check found that out on a test sgemm, so say it in one line.
public func unusableBLASCoreMessage() -> String? {
    let core = BLASCore.current
    guard core.userSet, core.verified == false else { return nil }
    let value = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? ""
    let why = core.illegalInstruction ? "its kernels need instructions this CPU lacks (a test sgemm raised an illegal instruction)"
        : "a test sgemm on its kernels gave wrong results"
    return "OPENBLAS_CORETYPE=\(value) cannot be used on this CPU: \(why); unset it to let Sparrow choose"
}
