import ArgumentParser
import Foundation
import NeuralNet

/// `sparrow bench dense-path`: times truly sparse layers on their own kernels and on sgemm at each density band
/// (`DensePathTiming`) and prints where sgemm starts to win, the crossovers `--dense-path timed` runs use. With
/// `--save` the timings go into this machine's cache (`DensePathCache`), so later timed runs need not time these
/// shapes again; a run records the crossovers it used in its own `dense-path.json`.
struct BenchDensePath: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dense-path",
        abstract: "Sparse kernels against sgemm per layer shape and density: where a layer runs faster dense.")

    @Option(parsing: .upToNextOption, help: "Layer widths: one layer between each consecutive pair (e.g. 11 256 256 6).")
    var widths: [Int] = [11, 256, 256, 6]
    @Option(help: "Batch size (the run's --batch-size: 256 for SAC/TD3, 32 for DQN).") var batch = 256
    @Option(parsing: .upToNextOption, help: "Density bands to time, ascending, in (0, 1].")
    var densities: [Double] = DensePathTiming.bands
    @Option(help: "Timing rounds (median).") var rounds = 5
    @Flag(help: "Store the timings in this machine's cache, for --dense-path timed runs.") var save = false
    @Flag(help: "Print the table as JSON on the last line.") var json = false

    func validate() throws {
        guard widths.count >= 2 else { throw ValidationError("--widths needs at least two widths, got \(widths.count)") }
        if let bad = widths.first(where: { $0 < 1 || $0 > 65_535 }) {
            throw ValidationError("--widths must be in 1…65535, got \(bad)")
        }
        guard (1...65_536).contains(batch) else { throw ValidationError("--batch must be in 1…65536, got \(batch)") }
        guard !densities.isEmpty, zip(densities, densities.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ValidationError("--densities must be ascending, got \(densities.map { "\($0)" }.joined(separator: " "))")
        }
        if let bad = densities.first(where: { !($0 > 0 && $0 <= 1) }) {
            throw ValidationError("--densities must be in (0, 1], got \(bad)")
        }
        guard (1...99).contains(rounds) else { throw ValidationError("--rounds must be in 1…99, got \(rounds)") }
    }

    func run() throws {
        print("CPU: \(CPUInfo.current.summary); BLAS core \(BLASCore.current.inUse); kernels \(KernelBody.current.rawValue); one thread, batch \(batch)")
        var table = DensePathTable()
        for (fanIn, fanOut) in zip(widths, widths.dropFirst()) {
            let e = DensePathTiming.measure(shape: LayerShape(fanIn: fanIn, fanOut: fanOut), batch: batch,
                                            densities: densities, rounds: rounds)
            table.entries.append(e)
            print("\n\(fanIn) → \(fanOut): " + (e.denseFrom.map { "sgemm from density \($0)" } ?? "sparse kernels at every density"))
            print("  density   sparse ms   sgemm ms   sparse/sgemm")
            for k in e.densities.indices {
                print(String(format: "  %7.2f   %9.4f   %8.4f   %12.2f", e.densities[k], e.sparseMilliseconds[k],
                             e.denseMilliseconds[k], e.sparseMilliseconds[k] / e.denseMilliseconds[k]))
            }
        }
        if save {
            let cache = DensePathCache()
            do { try cache.store(table.entries) } catch {
                throw ValidationError("cannot write the cache \(cache.path): \(error)")
            }
            print("\nsaved to \(cache.path) (machine: \(table.machine))")
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            print(String(decoding: try e.encode(table), as: UTF8.self))
        }
    }
}
