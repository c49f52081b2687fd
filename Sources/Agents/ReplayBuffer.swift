import SparrowCore

/// A preallocated ring buffer of transitions (s, a, r, s', terminated) for off-policy agents.
///
/// Transitions are stored sample-major in Float32; `sample` gathers a uniformly random batch into the
/// feature-major layout the networks use. Truncation (time limit) is NOT stored as done: a truncated
/// transition bootstraps from s' like any other, only `terminated` stops bootstrapping.
/// The whole capacity is reserved up front (pages are touched as they fill), so adding never allocates.
public final class ReplayBuffer {
    public let capacity: Int
    public let observationSize: Int
    public let actionSize: Int
    public private(set) var count = 0
    /// Next slot to write.
    public private(set) var cursor = 0

    private let observations: UnsafeMutablePointer<Float>
    private let nextObservations: UnsafeMutablePointer<Float>
    private let actions: UnsafeMutablePointer<Float>
    private let rewards: UnsafeMutablePointer<Float>
    private let terminals: UnsafeMutablePointer<Float>

    public init(capacity: Int, observationSize: Int, actionSize: Int) {
        precondition(capacity > 0 && observationSize > 0 && actionSize > 0)
        self.capacity = capacity
        self.observationSize = observationSize
        self.actionSize = actionSize
        observations = .allocate(capacity: capacity * observationSize)
        nextObservations = .allocate(capacity: capacity * observationSize)
        actions = .allocate(capacity: capacity * actionSize)
        rewards = .allocate(capacity: capacity)
        terminals = .allocate(capacity: capacity)
    }

    deinit {
        observations.deallocate(); nextObservations.deallocate(); actions.deallocate()
        rewards.deallocate(); terminals.deallocate()
    }

    /// Stores one transition. `terminated` means the MDP ended (no bootstrap); pass false on truncation.
    public func add(observation: UnsafeBufferPointer<Double>, action: UnsafeBufferPointer<Float>, reward: Double,
                    nextObservation: UnsafeBufferPointer<Double>, terminated: Bool) {
        precondition(observation.count == observationSize && nextObservation.count == observationSize
                     && action.count == actionSize)
        let o = cursor * observationSize, a = cursor * actionSize
        for i in 0..<observationSize {
            observations[o + i] = Float(observation[i])
            nextObservations[o + i] = Float(nextObservation[i])
        }
        for i in 0..<actionSize { actions[a + i] = action[i] }
        rewards[cursor] = Float(reward)
        terminals[cursor] = terminated ? 1 : 0
        cursor = (cursor + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// Draws `batch.size` indices uniformly with replacement and writes the batch feature-major.
    public func sample(into batch: ReplayBatch, generator: inout Generator) {
        precondition(count > 0, "sampling from an empty replay buffer")
        precondition(batch.observationSize == observationSize && batch.actionSize == actionSize)
        let B = batch.size
        for b in 0..<B {
            let i = generator.nextInt(below: count)
            let o = i * observationSize, a = i * actionSize
            for f in 0..<observationSize {
                batch.observations[f * B + b] = observations[o + f]
                batch.nextObservations[f * B + b] = nextObservations[o + f]
            }
            for f in 0..<actionSize { batch.actions[f * B + b] = actions[a + f] }
            batch.rewards[b] = rewards[i]
            batch.notTerminated[b] = 1 - terminals[i]
        }
    }

    // MARK: checkpointing (only the filled part is written)

    public func encode(into w: inout ByteWriter) {
        w.write(capacity); w.write(observationSize); w.write(actionSize); w.write(count); w.write(cursor)
        w.write(UnsafeBufferPointer(start: observations, count: count * observationSize))
        w.write(UnsafeBufferPointer(start: nextObservations, count: count * observationSize))
        w.write(UnsafeBufferPointer(start: actions, count: count * actionSize))
        w.write(UnsafeBufferPointer(start: rewards, count: count))
        w.write(UnsafeBufferPointer(start: terminals, count: count))
    }

    /// Restores contents saved by `encode`; the shapes must match this buffer's.
    public func decode(from r: inout ByteReader) throws {
        let cap = try r.read(Int.self), os = try r.read(Int.self), asz = try r.read(Int.self)
        guard cap == capacity, os == observationSize, asz == actionSize else {
            throw FormatError.corrupt("replay buffer shape \(cap)×(\(os), \(asz)) does not match \(capacity)×(\(observationSize), \(actionSize))")
        }
        let n = try r.read(Int.self), c = try r.read(Int.self)
        guard (0...capacity).contains(n), (0..<capacity).contains(c) else { throw FormatError.corrupt("replay buffer counters") }
        func fill(_ p: UnsafeMutablePointer<Float>, _ expected: Int) throws {
            let a = try r.read([Float].self)
            guard a.count == expected else { throw FormatError.corrupt("replay buffer array size") }
            a.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: expected) }
        }
        try fill(observations, n * observationSize)
        try fill(nextObservations, n * observationSize)
        try fill(actions, n * actionSize)
        try fill(rewards, n)
        try fill(terminals, n)
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
