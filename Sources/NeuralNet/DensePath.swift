import Foundation
import SparrowCore

/// When a truly sparse layer runs its products the dense way (issue 26: sparse never slower than dense): its live
/// weights scattered into a dense matrix, OpenBLAS's sgemm for the three products, the weight gradient gathered
/// back at the live connections. Storage, optimizer state, topology updates and checkpoints stay truly sparse; only
/// the summation order of the products changes (one sgemm, never split, so still the same for any thread count).
///
/// Which layers go dense is the `dense-path` knob (`Mode`), decided whenever a layer's topology changes:
/// - `rule` (the default): a fixed rule, the same on every machine, so a seed gives the same numbers everywhere the
///   BLAS does. Measured with `sparrow bench nn --widths 256 256 --densities 0.66 0.5 0.35` (AMD EPYC Zen 4, batch
///   256, one thread) the sparse step was 0.83× dense at density 0.66, 1.08× at 0.5 and 1.55× at 0.35, so a layer at
///   least `minimumDensity` live goes dense. Layers with a small fan stay sparse at any density: for 11 → 256 the
///   sparse step was 1.27× faster than sgemm even fully dense (OpenBLAS is slow for small k).
/// - `timed`: this machine's own crossovers (`DensePathTable`), timed once per layer shape, batch and density band
///   (as LIBXSMM's fsspmdm and SparseProp choose) and cached per machine (`DensePathCache`). A run records the table
///   it used in its directory and a resume reads that record, never the cache, so a run keeps its numbers (exact
///   resume) and two runs on one machine with one cache give the same numbers.
/// - `off`: sparse kernels always, as every run before issue 26.
/// Truly sparse convolutions (`SparseConv2D`) always run their own kernels: fully live, they matched or beat im2col +
/// sgemm on the Impala network's convolutions (`sparrow bench nn --network impala --densities 1 --dense-path off`,
/// Zen 4, batch 32, one thread: the first one, 4 → 32 channels on 84×84, which RigL's ERK leaves fully live, 1.93×
/// faster forward, 1.02× input gradient, 1.18× weight gradient; the other four 0.85–1.48×, below 1 only for the
/// 64-channel one on 11×11), so a dense path there gains nothing at the presets' densities (tried, with the rule's
/// 55%: the ERK 90% Impala update went from 343 to 355 ms). `docs/results/atari-dqn-evidence/bench-nn-impala-density1.jsonl`.
/// In practice a layer goes dense only below ~45% sparsity: a hidden layer of a DS run at 50%, or a layer that
/// pruning starts dense on the truly sparse backend (`--backend sparse`; the pruning presets use the masked backend,
/// as the reference does).
public enum DensePath {
    public enum Mode: String, Codable, CaseIterable, Sendable, NamedChoice {
        case rule, timed, off
    }

    /// How layers choose now; set by a run at its start (`use`), read whenever a layer's topology changes.
    nonisolated(unsafe) public private(set) static var mode: Mode = .rule
    /// The crossovers `timed` uses; a shape missing from it falls back to the rule.
    nonisolated(unsafe) public private(set) static var table: DensePathTable?

    /// Chooses how layers decide from now on. Layers decide when their topology changes; `SparseLayer.choosePath`
    /// makes an existing layer decide again.
    public static func use(_ mode: Mode, table: DensePathTable? = nil) {
        self.mode = mode
        self.table = mode == .timed ? table : nil
    }

    public static let minimumDensity = 0.55
    public static let minimumFan = 64

    public static func prefersDense(shape: LayerShape, liveConnections: Int) -> Bool {
        switch mode {
        case .off: return false
        case .timed:
            if let entry = table?.entry(fanIn: shape.fanIn, fanOut: shape.fanOut) { return entry.runsDense(liveConnections: liveConnections) }
            return ruleSaysDense(shape: shape, liveConnections: liveConnections)
        case .rule: return ruleSaysDense(shape: shape, liveConnections: liveConnections)
        }
    }

    static func ruleSaysDense(shape: LayerShape, liveConnections: Int) -> Bool {
        shape.fanIn >= minimumFan && shape.fanOut >= minimumFan
            && Double(liveConnections) >= minimumDensity * Double(shape.fanIn * shape.fanOut)
    }
}

/// One machine's timed crossovers between a truly sparse layer's kernels and sgemm on its densified weights
/// (`DensePath.Mode.timed`): per layer shape and batch, the median time of one layer step (forward, weight gradient,
/// input gradient) on each path at each density band, and the density from which the dense path is faster.
/// Stored as JSON: in the per-machine cache (`DensePathCache`) and, for the shapes a run has, in its directory
/// (`dense-path.json`).
public struct DensePathTable: Codable, Equatable, Sendable {
    /// `DensePathTable.machineKey` of the machine the timings come from.
    public var machine: String
    public var entries: [Entry]

    public struct Entry: Codable, Equatable, Sendable {
        public var fanIn: Int
        public var fanOut: Int
        public var batch: Int
        /// The density bands timed, ascending.
        public var densities: [Double]
        /// Median milliseconds of one layer step at each band, on the sparse kernels and on sgemm.
        public var sparseMilliseconds: [Double]
        public var denseMilliseconds: [Double]
        /// The layer runs dense from this density up (nil: never; `DensePathTiming.crossover`).
        public var denseFrom: Double?

        enum CodingKeys: String, CodingKey {
            case fanIn = "fan_in", fanOut = "fan_out", batch, densities
            case sparseMilliseconds = "sparse_ms", denseMilliseconds = "dense_ms", denseFrom = "dense_from"
        }

        /// `dense_from` is written as null when there is none, so the file says "never" rather than leaving it out.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(fanIn, forKey: .fanIn); try c.encode(fanOut, forKey: .fanOut); try c.encode(batch, forKey: .batch)
            try c.encode(densities, forKey: .densities)
            try c.encode(sparseMilliseconds, forKey: .sparseMilliseconds); try c.encode(denseMilliseconds, forKey: .denseMilliseconds)
            try c.encode(denseFrom, forKey: .denseFrom)
        }

        public init(fanIn: Int, fanOut: Int, batch: Int, densities: [Double], sparseMilliseconds: [Double],
                    denseMilliseconds: [Double]) {
            self.fanIn = fanIn; self.fanOut = fanOut; self.batch = batch; self.densities = densities
            self.sparseMilliseconds = sparseMilliseconds; self.denseMilliseconds = denseMilliseconds
            denseFrom = DensePathTiming.crossover(densities: densities, sparse: sparseMilliseconds, dense: denseMilliseconds)
        }

        /// Whether a layer of this shape with `liveConnections` live runs dense.
        public func runsDense(liveConnections: Int) -> Bool {
            guard let from = denseFrom else { return false }
            return Double(liveConnections) >= from * Double(fanIn * fanOut)
        }
    }

    public init(machine: String = DensePathTable.machineKey, entries: [Entry] = []) {
        self.machine = machine
        self.entries = entries
    }

    /// The entry for a shape (the first; a run's table holds one batch).
    public func entry(fanIn: Int, fanOut: Int) -> Entry? { entries.first { $0.fanIn == fanIn && $0.fanOut == fanOut } }
    public func entry(fanIn: Int, fanOut: Int, batch: Int) -> Entry? {
        entries.first { $0.fanIn == fanIn && $0.fanOut == fanOut && $0.batch == batch }
    }

    /// What a crossover depends on: the CPU, the OpenBLAS core and the sparse kernels' vector body.
    public static var machineKey: String {
        let cpu = CPUInfo.current
        return "\(cpu.brand) (family \(cpu.family) model \(cpu.model)); BLAS \(BLASCore.current.inUse); kernels \(KernelBody.current.rawValue)"
    }

    public func json() throws -> String { try PrettyJSON.string(self) }
}

/// Times a layer shape on both paths (`DensePathTable.Entry`).
public enum DensePathTiming {
    /// The density bands timed.
    public static let bands: [Double] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]

    /// The lowest band from which sgemm is faster at that band and every band above it (nil: sparse wins at the
    /// densest band). Requiring every band above makes one noisy band in the middle unable to send sparse layers to
    /// sgemm.
    public static func crossover(densities: [Double], sparse: [Double], dense: [Double]) -> Double? {
        precondition(densities.count == sparse.count && sparse.count == dense.count)
        var from: Double?
        for k in densities.indices.reversed() {
            guard dense[k] < sparse[k] else { break }
            from = densities[k]
        }
        return from
    }

    /// Times one layer step (forward, weight gradient, input gradient) of a `shape` layer at `batch` on the sparse
    /// kernels and on sgemm at each of `densities`, on one thread (so the choice, and the numbers, do not depend on
    /// `--threads`). Paths and bands are timed in interleaved rounds, so a burst of load hits them alike; each time
    /// is the median over `rounds`.
    public static func measure(shape: LayerShape, batch: Int, densities: [Double] = bands, rounds: Int = 5,
                               minimum: Double = 0.004, seed: UInt64 = 7) -> DensePathTable.Entry {
        let threads = Parallel.threads
        Parallel.setThreads(1)
        defer { Parallel.setThreads(threads) }
        BLASThreads.set(1)
        var g = Generator(seed: seed)
        let x = FloatBuffer(count: shape.fanIn * batch), y = FloatBuffer(count: shape.fanOut * batch)
        let dy = FloatBuffer(count: shape.fanOut * batch), dx = FloatBuffer(count: shape.fanIn * batch)
        for i in 0..<x.count { x[i] = Float(g.uniform(-1, 1)) }
        for i in 0..<dy.count { dy[i] = Float(g.uniform(-1, 1)) }
        struct Case { let layer: SparseLayer; let dense: Bool }
        var cases: [Case] = []
        for d in densities {
            let count = max(1, liveCounts(shapes: [shape], densities: [d])[0])
            let positions = count >= shape.count ? (0..<Int32(shape.count)).map { $0 }
                : randomTopology(shape: shape, count: count, generator: &g)
            let values = initialWeights(shape: shape, positions: positions, method: .pytorchLinear, generator: &g)
            for dense in [false, true] {
                let layer = SparseLayer(shape: shape, positions: positions, values: values,
                                        biases: [Float](repeating: 0, count: shape.fanOut))
                layer.forcePath(dense: dense)
                cases.append(Case(layer: layer, dense: dense))
            }
        }
        let medians = NeuralNetBenchmark.interleavedMedians(cases: cases.count, phases: 1, rounds: rounds, minimum: minimum,
                                                           maxReps: 1 << 16) { i, _ in
            let l = cases[i].layer
            l.forward(x.pointer, batch: batch, into: y.pointer, activation: .identity)
            l.computeGradients(outputGradient: dy.pointer, input: x.pointer, batch: batch)
            l.inputGradient(outputGradient: dy.pointer, batch: batch, into: dx.pointer, inputActivation: .identity,
                            input: x.pointer, rows: 0..<shape.fanIn)
        }
        let sparse = cases.indices.filter { !cases[$0].dense }.map { medians[$0][0] * 1e3 }
        let dense = cases.indices.filter { cases[$0].dense }.map { medians[$0][0] * 1e3 }
        return DensePathTable.Entry(fanIn: shape.fanIn, fanOut: shape.fanOut, batch: batch, densities: densities,
                                    sparseMilliseconds: sparse, denseMilliseconds: dense)
    }
}

/// The per-machine cache of timed crossovers: one JSON file holding a `DensePathTable` per machine key, at
/// `$SPARROW_CACHE_DIR/dense-path.json`, else `$XDG_CACHE_HOME/sparrow/dense-path.json`, else
/// `~/.cache/sparrow/dense-path.json`. Written atomically; an unreadable file counts as empty (it is only a cache:
/// the shapes are timed again and the file rewritten). Two runs that time at once may each drop the other's new
/// entries from the file, which costs a later run a second timing and nothing else.
public struct DensePathCache: Sendable {
    public let path: String

    public init(path: String = DensePathCache.defaultPath) { self.path = path }

    public static var defaultPath: String {
        let env = ProcessInfo.processInfo.environment
        let folder: String
        if let d = env["SPARROW_CACHE_DIR"], !d.isEmpty { folder = d }
        else if let d = env["XDG_CACHE_HOME"], !d.isEmpty { folder = (d as NSString).appendingPathComponent("sparrow") }
        else { folder = (NSHomeDirectory() as NSString).appendingPathComponent(".cache/sparrow") }
        return (folder as NSString).appendingPathComponent("dense-path.json")
    }

    struct File: Codable { var format = 1; var tables: [DensePathTable] = [] }

    func load() -> File {
        guard let data = FileManager.default.contents(atPath: path),
              let file = try? JSONDecoder().decode(File.self, from: data), file.format == 1 else { return File() }
        return file
    }

    /// The cached table of `machine` (empty if none).
    public func table(machine: String = DensePathTable.machineKey) -> DensePathTable {
        load().tables.first { $0.machine == machine } ?? DensePathTable(machine: machine)
    }

    /// Adds (or replaces) `entries` in `machine`'s table. Throws `AtomicFile.WriteError` or a folder error.
    public func store(_ entries: [DensePathTable.Entry], machine: String = DensePathTable.machineKey) throws {
        var file = load()
        var table = file.tables.first { $0.machine == machine } ?? DensePathTable(machine: machine)
        for e in entries {
            table.entries.removeAll { $0.fanIn == e.fanIn && $0.fanOut == e.fanOut && $0.batch == e.batch }
            table.entries.append(e)
        }
        table.entries.sort { ($0.fanIn, $0.fanOut, $0.batch) < ($1.fanIn, $1.fanOut, $1.batch) }
        file.tables.removeAll { $0.machine == machine }
        file.tables.append(table)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try PrettyJSON.write(file, to: path)
    }

    /// The table for `shapes` at `batch` on this machine: cached entries, the others timed now and added to the
    /// cache (a cache that cannot be written is left as it is).
    public func resolve(shapes: [LayerShape], batch: Int,
                        measure: (LayerShape, Int) -> DensePathTable.Entry = { DensePathTiming.measure(shape: $0, batch: $1) })
        -> DensePathTable {
        let machine = DensePathTable.machineKey
        let cached = table(machine: machine)
        var unique: [LayerShape] = []
        for s in shapes where !unique.contains(where: { $0.fanIn == s.fanIn && $0.fanOut == s.fanOut }) { unique.append(s) }
        var result = DensePathTable(machine: machine)
        var fresh: [DensePathTable.Entry] = []
        for s in unique {
            if let e = cached.entry(fanIn: s.fanIn, fanOut: s.fanOut, batch: batch) {
                result.entries.append(e)
            } else {
                let e = measure(s, batch)
                result.entries.append(e); fresh.append(e)
            }
        }
        if !fresh.isEmpty { try? store(fresh, machine: machine) }
        return result
    }
}
