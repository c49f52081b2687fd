import CPlatform

/// Deterministic multi-threading for a training step (`--threads N`).
///
/// Work is only ever split where the parts write disjoint memory and nothing is summed across parts: the twin
/// critics (and their targets) of an actor-critic update, and the output rows of a layer's products (a row's sum
/// stays in one thread, in the same order). So a step computes bit for bit the same numbers with any thread
/// count, and exact resume and same-seed reproducibility hold for every N.
///
/// Dense layers keep one sgemm per product (OpenBLAS sums a row block's terms in another order than the whole
/// product's, via its small-matrix kernels, so splitting them would change results with the thread count), and
/// OpenBLAS's own threads stay at 1: they are created before `main`, so they would not flush subnormals
/// (`Subnormals`), and they would oversubscribe the cores when the twin critics already run side by side. Dense
/// networks gain from the twin critics only. Work inside a parallel part stays on its thread.
public enum Parallel {
    /// Threads a step may use; 1 (the default) runs everything on the calling thread.
    public private(set) static var threads = 1

    public static func setThreads(_ n: Int) {
        precondition(n >= 1, "thread count must be ≥ 1, got \(n)")
        threads = n
    }

    /// Whether a split into parts is worth it here: more than one thread and not already inside a part.
    @inline(__always) public static var canSplit: Bool { threads > 1 && sp_parallel_in_region() == 0 }

    /// Runs `body(0..<parts)`, the parts on up to `threads` threads when `canSplit`, else in order on this thread.
    /// Each part runs with subnormals flushed. The parts must write disjoint memory.
    public static func forEach(_ parts: Int, _ body: (Int) -> Void) {
        guard parts > 1, canSplit else {
            for i in 0..<parts { body(i) }
            return
        }
        // One job part per thread (never more than `threads` run at once); job part w runs parts w, w + workers, …
        // The threads are the caller and CPlatform's persistent pool (`sp_parallel_run`), which stays awake between
        // the regions of a step instead of being woken for each, and any of them may run any job part: they claim
        // them, so a worker that has no core at the moment delays nothing (see parallel.c).
        let workers = min(parts, threads)
        withoutActuallyEscaping(body) { body in
            var job = Job(body: body, parts: parts, workers: workers)
            withUnsafeMutablePointer(to: &job) { sp_parallel_run(Int32(workers), Job.run, $0) }
        }
    }

    /// One region's work as the C pool sees it: `run(context, w)` runs job part w's parts.
    private struct Job {
        let body: (Int) -> Void
        let parts: Int, workers: Int

        static let run: sp_task_fn = { context, w in
            let job = context!.assumingMemoryBound(to: Job.self).pointee
            let previous = sp_parallel_region_enter()
            Subnormals.flushed {
                for i in stride(from: Int(w), to: job.parts, by: job.workers) { job.body(i) }
            }
            sp_parallel_region_leave(previous)
        }
    }

    /// Splits `0..<count` into up to `threads` (at most 8) contiguous ranges of about equal `cost` (cost(i) = work of item i,
    /// as a running total `prefix(i)` = Σ_{j<i} cost(j), prefix(count) the whole) and runs `body` on each.
    /// `minimumWork` (same units) keeps small products on one thread, where waking a second costs more.
    public static func forRanges(_ count: Int, totalWork: Int, minimumWork: Int, prefix: (Int) -> Int,
                                 _ body: (Range<Int>) -> Void) {
        let parts = min(threads, count)
        guard parts > 1, canSplit, totalWork >= minimumWork else {
            body(0..<count)
            return
        }
        // Boundaries by binary search on the running total: part p ends where the total passes (p+1)/parts of it.
        var bounds = (0, 0, 0, 0, 0, 0, 0, 0, 0)  // up to 8 parts without allocating
        let n = min(parts, 8)
        withUnsafeMutableBytes(of: &bounds) { raw in
            let b = raw.bindMemory(to: Int.self)
            b[0] = 0
            for p in 1..<n {
                let goal = totalWork * p / n
                var lo = b[p - 1], hi = count
                while lo < hi { let mid = (lo + hi) / 2; if prefix(mid) < goal { lo = mid + 1 } else { hi = mid } }
                b[p] = lo
            }
            b[n] = count
        }
        let b = bounds
        forEach(n) { p in
            withUnsafeBytes(of: b) { raw in
                let v = raw.bindMemory(to: Int.self)
                if v[p] < v[p + 1] { body(v[p]..<v[p + 1]) }
            }
        }
    }
}
