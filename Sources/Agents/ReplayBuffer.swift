import SparrowCore

/// A preallocated ring buffer of transitions (s, a, r, s', terminated) for off-policy agents that stores each
/// observation once.
///
/// Transitions are stored sample-major in Float32; `sample` gathers a uniformly random batch into the
/// feature-major layout the networks use. Truncation (time limit) is NOT stored as done: a truncated
/// transition bootstraps from s' like any other, only `terminated` stops bootstrapping.
///
/// **Layout: one copy of each observation.** Within an episode, s′ of transition t is s of transition t+1, so
/// `observations[slot]` holds slot's s and s′ is found, in this order:
/// 1. a row of the *finals* ring, when the episode did not continue from s′ (it terminated or was truncated and
///    the next transition starts from a reset observation): `finalIndex[slot]` ≥ 0 names the row;
/// 2. the *pending* row, for the newest transition (its successor has not been added yet);
/// 3. otherwise `observations[(slot + 1) % capacity]`.
///
/// Continuation is detected by value: when transition t+1 is added, its `observation` (as Float32) is compared
/// bit for bit with t's pending s′. Equal: t's s′ is slot t+1's row (`finalIndex[t] = −1`). Different: the
/// pending row moves into the finals ring. Sharing happens only when the values are identical, so every sampled
/// s′ is exactly `Float(nextObservation)` of its transition, as with two copies; `sample` makes the same draws
/// and returns the same batches as the former two-copy buffer did for the same adds.
///
/// The finals ring is FIFO with `capacity` rows: finals are pushed in transition order and a transition's final
/// is freed when that (oldest) transition is overwritten, so its oldest row is always the next to go and the ring
/// never holds more than `capacity` rows.
///
/// **Memory.** Everything is reserved up front and pages are touched as they fill, so adding never allocates and
/// the resident size is `residentBytes`: per stored transition (observationSize + actionSize + 3) × 4 bytes
/// (s, a, r, terminated, final index), plus observationSize × 4 per finals row used so far (one per episode
/// ended so far, at most `capacity`) and one pending row. For a 1M-transition Humanoid-v5 buffer (observation
/// 348, action 17) that is 1,000,000 × 1,472 B = 1.472 GB plus 1,392 B per episode (e.g. +7 MB for 5,000
/// episodes), against 1,000,000 × 2,860 B = 2.86 GB with separate s and s′ copies. Checkpoints hold the same
/// compact form (see `encode`).
public final class ReplayBuffer: TrainingMemory {
    public let capacity: Int
    public let observationSize: Int
    public let actionSize: Int
    public private(set) var count = 0
    /// Next slot to write.
    public private(set) var cursor = 0

    /// Slot i's s (capacity × observationSize).
    private let observations: UnsafeMutablePointer<Float>
    private let actions: UnsafeMutablePointer<Float>
    private let rewards: UnsafeMutablePointer<Float>
    private let terminals: UnsafeMutablePointer<Float>
    /// Slot i's s′ is `finals` row `finalIndex[i]` when ≥ 0; −1: the next slot's s (or `pending` for the newest).
    private let finalIndex: UnsafeMutablePointer<Int32>
    /// FIFO ring of final observations, capacity × observationSize; live rows `finalsTail ..< finalsTail + finalsCount`
    /// (mod capacity).
    private let finals: UnsafeMutablePointer<Float>
    private var finalsTail = 0
    private var finalsCount = 0
    /// Rows of `finals` written at least once (they are written in order 0, 1, 2, …, so this is a high-water mark).
    private var finalsTouched = 0
    /// s′ of the newest transition (meaningful when count > 0).
    private let pending: UnsafeMutablePointer<Float>
    /// Scratch of `sample` for batches of up to `sampleScratchCapacity`: where each drawn slot's s, s′ and a start.
    private var rows = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 0)
    private var nextRows = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 0)
    private var actionRows = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 0)
    private var sampleScratchCapacity = 0

    /// First word of the compact checkpoint layout; the two-copy layout of checkpoint version 1 starts with the
    /// capacity, which is positive.
    static let compactLayoutTag = -2

    public init(capacity: Int, observationSize: Int, actionSize: Int) {
        precondition(capacity > 0 && observationSize > 0 && actionSize > 0)
        precondition(capacity <= Int(Int32.max), "capacity \(capacity) exceeds the Int32 final indices")
        self.capacity = capacity
        self.observationSize = observationSize
        self.actionSize = actionSize
        observations = .allocate(capacity: capacity * observationSize)
        actions = .allocate(capacity: capacity * actionSize)
        rewards = .allocate(capacity: capacity)
        terminals = .allocate(capacity: capacity)
        finalIndex = .allocate(capacity: capacity)
        finals = .allocate(capacity: capacity * observationSize)
        pending = .allocate(capacity: observationSize)
    }

    deinit {
        observations.deallocate(); actions.deallocate(); rewards.deallocate(); terminals.deallocate()
        finalIndex.deallocate(); finals.deallocate(); pending.deallocate()
        rows.deallocate(); nextRows.deallocate(); actionRows.deallocate()
    }

    /// Live final observations (transitions whose s′ is not the next transition's s, except the newest).
    public var finalObservationCount: Int { finalsCount }

    /// Bytes of the reserved storage written so far (what this buffer keeps resident, page rounding aside).
    public var residentBytes: Int {
        let perTransition = (observationSize + actionSize) * MemoryLayout<Float>.stride
            + 2 * MemoryLayout<Float>.stride + MemoryLayout<Int32>.stride
        let rows = finalsTouched + (count > 0 ? 1 : 0)  // finals rows and the pending row
        return count * perTransition + rows * observationSize * MemoryLayout<Float>.stride
    }

    /// Population standard deviation of each observation feature over the stored transitions' s (in Double).
    public func observationStandardDeviations() -> [Double] {
        let d = observationSize, n = count
        guard n > 0 else { return [Double](repeating: 0, count: d) }
        var mean = [Double](repeating: 0, count: d), square = mean
        for i in 0..<n {
            for j in 0..<d { let v = Double(observations[i * d + j]); mean[j] += v; square[j] += v * v }
        }
        return (0..<d).map { j in
            let m = mean[j] / Double(n)
            return max(square[j] / Double(n) - m * m, 0).squareRoot()
        }
    }

    /// Stores one transition. `terminated` means the MDP ended (no bootstrap); pass false on truncation.
    public func add(observation: UnsafeBufferPointer<Double>, action: UnsafeBufferPointer<Float>, reward: Double,
                    nextObservation: UnsafeBufferPointer<Double>, terminated: Bool) {
        precondition(observation.count == observationSize && nextObservation.count == observationSize
                     && action.count == actionSize)
        let slot = cursor
        // The newest transition so far continues into this one (share the row) or its s′ becomes a final.
        if count > 0 {
            var continues = true
            for i in 0..<observationSize where Float(observation[i]).bitPattern != pending[i].bitPattern {
                continues = false
                break
            }
            if !continues { retirePending(of: (slot + capacity - 1) % capacity) }
        }
        // Overwriting the oldest transition frees its final, the ring's oldest row.
        if count == capacity, finalIndex[slot] >= 0 {
            precondition(Int(finalIndex[slot]) == finalsTail, "replay finals out of order")
            finalsTail = finalsTail + 1 == capacity ? 0 : finalsTail + 1
            finalsCount -= 1
        }
        let o = observations + slot * observationSize, a = slot * actionSize
        for i in 0..<observationSize {
            o[i] = Float(observation[i])
            pending[i] = Float(nextObservation[i])
        }
        for i in 0..<actionSize { actions[a + i] = action[i] }
        rewards[slot] = Float(reward)
        terminals[slot] = terminated ? 1 : 0
        finalIndex[slot] = -1
        cursor = (cursor + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// Moves `pending` into the finals ring as slot's s′.
    private func retirePending(of slot: Int) {
        let row = (finalsTail + finalsCount) % capacity
        (finals + row * observationSize).update(from: pending, count: observationSize)
        finalIndex[slot] = Int32(row)
        finalsCount += 1
        finalsTouched = max(finalsTouched, row + 1)
    }

    /// Where slot i's s′ is stored.
    @inline(__always) private func nextObservation(of i: Int, newest: Int) -> UnsafeMutablePointer<Float> {
        let f = Int(finalIndex[i])
        if f >= 0 { return finals + f * observationSize }
        if i == newest { return pending }
        return observations + (i + 1 == capacity ? 0 : i + 1) * observationSize
    }

    /// Draws `batch.size` indices uniformly with replacement and writes the batch feature-major.
    ///
    /// All slots are drawn first (the same draws, in the same order, as drawing one per sample), then the rows are
    /// gathered `gatherBlock` samples at a time: for each feature, the block's values are stored side by side
    /// from the block's rows, read in step. Storing sample by sample instead writes each value B floats after the
    /// previous one, a cache line per value across all 2 × observationSize rows (most of the 0.45–0.75 ms that
    /// sampling took per Humanoid step at batch 256). Copies only, so the batch is bit for bit `sampleOneByOne`'s,
    /// its plain twin.
    public func sample(into batch: ReplayBatch, generator: inout Generator) {
        precondition(count > 0, "sampling from an empty replay buffer")
        precondition(batch.observationSize == observationSize && batch.actionSize == actionSize)
        let B = batch.size, os = observationSize, asz = actionSize
        reserveSampleScratch(B)
        let newest = (cursor + capacity - 1) % capacity
        for b in 0..<B {
            let i = generator.nextInt(below: count)
            rows[b] = UnsafePointer(observations + i * os)
            nextRows[b] = UnsafePointer(nextObservation(of: i, newest: newest))
            actionRows[b] = UnsafePointer(actions + i * asz)
            batch.rewards[b] = rewards[i]
            batch.notTerminated[b] = 1 - terminals[i]
        }
        var b0 = 0
        while b0 < B {
            let n = min(Self.gatherBlock, B - b0)
            Self.gatherColumns(rows + b0, count: n, features: os, into: batch.observations + b0, stride: B)
            Self.gatherColumns(nextRows + b0, count: n, features: os, into: batch.nextObservations + b0, stride: B)
            Self.gatherColumns(actionRows + b0, count: n, features: asz, into: batch.actions + b0, stride: B)
            b0 += n
        }
    }

    /// Samples per block of `sample`'s gather: eight rows read side by side, their pointers held in registers (on
    /// the 2-vCPU Zen 4 this beat 4, 16 and 32, and a sample-major copy followed by a transpose).
    static let gatherBlock = 8

    /// out[f · stride + j] = rows[j][f] for the `count` (≤ `gatherBlock`) rows: a block of columns of a
    /// feature-major batch, written a feature row at a time.
    @inline(__always)
    private static func gatherColumns(_ rows: UnsafePointer<UnsafePointer<Float>>, count n: Int, features: Int,
                                      into out: UnsafeMutablePointer<Float>, stride: Int) {
        guard n == 8 else {
            for f in 0..<features {
                let o = out + f * stride
                for j in 0..<n { o[j] = rows[j][f] }
            }
            return
        }
        let r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7]
        for f in 0..<features {
            let o = out + f * stride
            o[0] = r0[f]; o[1] = r1[f]; o[2] = r2[f]; o[3] = r3[f]; o[4] = r4[f]; o[5] = r5[f]; o[6] = r6[f]; o[7] = r7[f]
        }
    }

    /// Grows `sample`'s scratch (row pointers) to a batch of `B`; allocates only when B grows.
    private func reserveSampleScratch(_ B: Int) {
        guard B > sampleScratchCapacity else { return }
        rows.deallocate(); nextRows.deallocate(); actionRows.deallocate()
        rows = .allocate(capacity: B); nextRows = .allocate(capacity: B); actionRows = .allocate(capacity: B)
        sampleScratchCapacity = B
    }

    /// `sample` written one sample after another (each index drawn, then its row copied into column b): the plain
    /// twin the tests hold the blocked gather to, bit for bit and draw for draw.
    func sampleOneByOne(into batch: ReplayBatch, generator: inout Generator) {
        precondition(count > 0, "sampling from an empty replay buffer")
        precondition(batch.observationSize == observationSize && batch.actionSize == actionSize)
        let B = batch.size
        let newest = (cursor + capacity - 1) % capacity
        for b in 0..<B {
            let i = generator.nextInt(below: count)
            let s = observations + i * observationSize, s1 = nextObservation(of: i, newest: newest)
            let a = i * actionSize
            for f in 0..<observationSize {
                batch.observations[f * B + b] = s[f]
                batch.nextObservations[f * B + b] = s1[f]
            }
            for f in 0..<actionSize { batch.actions[f * B + b] = actions[a + f] }
            batch.rewards[b] = rewards[i]
            batch.notTerminated[b] = 1 - terminals[i]
        }
    }

    // MARK: checkpointing (only the filled part is written)

    /// The compact layout (checkpoint version 2): `compactLayoutTag`, capacity, observation and action sizes,
    /// count, cursor; then s, a, r, terminated of slots 0..<count; the final index of each of those slots
    /// (renumbered so 0 is the oldest live final); the live finals, oldest first; the pending row (empty when
    /// count = 0).
    public func encode(into w: inout ByteWriter) { withEncodedChunks { w.append($0) } }

    /// `encode`'s bytes as pieces that point into this buffer's storage (valid only during `body`), so a checkpoint
    /// is checksummed and written without a copy of the buffer. The one description of the layout: `encode` is
    /// built on it.
    public func withEncodedChunks<R>(_ body: (ByteChunks) throws -> R) rethrows -> R {
        let os = observationSize
        var c = ByteChunks()
        c.write(Self.compactLayoutTag)
        c.write(capacity); c.write(observationSize); c.write(actionSize); c.write(count); c.write(cursor)
        c.write(UnsafeBufferPointer(start: observations, count: count * os))
        c.write(UnsafeBufferPointer(start: actions, count: count * actionSize))
        c.write(UnsafeBufferPointer(start: rewards, count: count))
        c.write(UnsafeBufferPointer(start: terminals, count: count))
        // Renumbered, so computed here rather than borrowed (4 bytes per transition).
        c.write((0..<count).map { i -> Int32 in
            finalIndex[i] < 0 ? -1 : Int32((Int(finalIndex[i]) - finalsTail + capacity) % capacity)
        })
        // The live finals as one array, oldest first: the ring's rows from its tail, in at most two pieces.
        c.write(finalsCount * os)
        let first = min(finalsCount, capacity - finalsTail)
        c.borrow(UnsafeRawBufferPointer(UnsafeBufferPointer(start: finals + finalsTail * os, count: first * os)))
        c.borrow(UnsafeRawBufferPointer(UnsafeBufferPointer(start: finals, count: (finalsCount - first) * os)))
        c.write(UnsafeBufferPointer(start: pending, count: count > 0 ? os : 0))
        return try withExtendedLifetime(self) { try body(c) }
    }

    /// Restores contents saved by `encode` (compact layout), or by the two-copy buffer of checkpoint version 1
    /// (s and s′ in full), which is converted: the result samples exactly as the old buffer did. The shapes must
    /// match this buffer's. Nothing is changed when the data is refused.
    public func decode(from r: inout ByteReader) throws {
        let first = try r.read(Int.self)
        let compact = first == Self.compactLayoutTag
        let cap = compact ? try r.read(Int.self) : first
        let os = try r.read(Int.self), asz = try r.read(Int.self)
        guard cap == capacity, os == observationSize, asz == actionSize else {
            throw FormatError.corrupt("replay buffer shape \(cap)×(\(os), \(asz)) does not match \(capacity)×(\(observationSize), \(actionSize))")
        }
        let n = try r.read(Int.self), c = try r.read(Int.self)
        // Slots fill from 0, so a buffer that is not full has its cursor at its count.
        guard (0...capacity).contains(n), (0..<capacity).contains(c), n == capacity || c == n else {
            throw FormatError.corrupt("replay buffer counters")
        }
        guard compact else { return try decodeVersion1(from: &r, count: n, cursor: c) }

        // First pass: every count and the final indices are checked and nothing is copied, so refused data leaves
        // the buffer as it was. Then each array is read straight into the storage (no temporary copies).
        func sizeError(_: Int) -> FormatError { .corrupt("replay buffer array size") }
        var probe = r
        func skip(_ expected: Int) throws {
            guard try probe.skipArray(of: Float.self) == expected else { throw sizeError(0) }
        }
        try skip(n * os); try skip(n * asz); try skip(n); try skip(n)
        let index = try probe.read([Int32].self)
        guard index.count == n else { throw sizeError(index.count) }
        let liveValues = try probe.skipArray(of: Float.self)
        guard liveValues % os == 0 else { throw sizeError(liveValues) }
        try skip(n > 0 ? os : 0)
        // Finals are numbered in transition order, each used once; the newest transition's s′ is pending.
        let oldest = n == capacity ? c : 0
        var expected: Int32 = 0
        for k in 0..<n {
            let f = index[(oldest + k) % capacity]
            guard f == -1 || (f == expected && k < n - 1) else { throw FormatError.corrupt("replay buffer final indices") }
            if f >= 0 { expected += 1 }
        }
        guard Int(expected) == liveValues / os else { throw FormatError.corrupt("replay buffer final indices") }

        try r.read(into: observations, count: n * os, mismatch: sizeError)
        try r.read(into: actions, count: n * asz, mismatch: sizeError)
        try r.read(into: rewards, count: n, mismatch: sizeError)
        try r.read(into: terminals, count: n, mismatch: sizeError)
        try r.read(into: finalIndex, count: n, mismatch: sizeError)
        try r.read(into: finals, count: liveValues, mismatch: sizeError)
        try r.read(into: pending, count: n > 0 ? os : 0, mismatch: sizeError)
        commit(count: n, cursor: c, finals: liveValues / os)
    }

    /// The two-copy layout of checkpoint version 1 after its header (small buffers of MuJoCo runs: read through
    /// temporary arrays). s′ is shared with the successor's s where they are bit-identical (as `add` does).
    private func decodeVersion1(from r: inout ByteReader, count n: Int, cursor c: Int) throws {
        let os = observationSize
        func read(_ expected: Int) throws -> [Float] {
            let a = try r.read([Float].self)
            guard a.count == expected else { throw FormatError.corrupt("replay buffer array size") }
            return a
        }
        let obs = try read(n * os), next = try read(n * os), a = try read(n * actionSize)
        let rew = try read(n), term = try read(n)
        let oldest = n == capacity ? c : 0
        var index = [Int32](repeating: -1, count: n), live: [Float] = []
        for k in 0..<max(n - 1, 0) {
            let i = (oldest + k) % capacity, j = (i + 1) % capacity
            let same = (0..<os).allSatisfy { next[i * os + $0].bitPattern == obs[j * os + $0].bitPattern }
            if !same {
                index[i] = Int32(live.count / os)
                live += next[(i * os)..<(i * os + os)]
            }
        }
        let newest = (oldest + n - 1 + capacity) % capacity
        let pendingRow = n > 0 ? Array(next[(newest * os)..<(newest * os + os)]) : []
        obs.withUnsafeBufferPointer { observations.update(from: $0.baseAddress!, count: $0.count) }
        a.withUnsafeBufferPointer { actions.update(from: $0.baseAddress!, count: $0.count) }
        rew.withUnsafeBufferPointer { rewards.update(from: $0.baseAddress!, count: $0.count) }
        term.withUnsafeBufferPointer { terminals.update(from: $0.baseAddress!, count: $0.count) }
        index.withUnsafeBufferPointer { finalIndex.update(from: $0.baseAddress!, count: $0.count) }
        live.withUnsafeBufferPointer { finals.update(from: $0.baseAddress!, count: $0.count) }
        pendingRow.withUnsafeBufferPointer { pending.update(from: $0.baseAddress!, count: $0.count) }
        commit(count: n, cursor: c, finals: live.count / os)
    }

    /// The positions after a decode: the live finals are rows 0..<finals.
    private func commit(count n: Int, cursor c: Int, finals rows: Int) {
        finalsTail = 0
        finalsCount = rows
        finalsTouched = max(finalsTouched, finalsCount)
        count = n
        cursor = c
    }
}

/// Reusable feature-major storage for one sampled batch.
public final class ReplayBatch {
    public let size: Int
    public let observationSize: Int
    public let actionSize: Int
    /// observationSize × size
    public let observations: UnsafeMutablePointer<Float>
    public let nextObservations: UnsafeMutablePointer<Float>
    /// actionSize × size
    public let actions: UnsafeMutablePointer<Float>
    public let rewards: UnsafeMutablePointer<Float>
    /// 1 − terminated: the bootstrap mask.
    public let notTerminated: UnsafeMutablePointer<Float>

    public init(size: Int, observationSize: Int, actionSize: Int) {
        self.size = size
        self.observationSize = observationSize
        self.actionSize = actionSize
        observations = .allocate(capacity: size * observationSize)
        nextObservations = .allocate(capacity: size * observationSize)
        actions = .allocate(capacity: size * actionSize)
        rewards = .allocate(capacity: size)
        notTerminated = .allocate(capacity: size)
    }

    deinit {
        observations.deallocate(); nextObservations.deallocate(); actions.deallocate()
        rewards.deallocate(); notTerminated.deallocate()
    }
}
