import SparrowCore

/// One PPO rollout and where learning from it stands: the transitions of `capacity` environment steps (sample-major),
/// then — once full — the values, advantages and returns computed from it and the position of the minibatch loop,
/// so a run interrupted in the middle of collecting or in the middle of an epoch continues exactly
/// (`encode`/`decode` keep all of it).
///
/// Per step t it holds the raw observation, the action as sampled (before clipping to the bounds, so its
/// log-probability is the sampled one), that log-probability, the raw reward, whether the episode terminated or
/// ended at t, and — for a truncated step or the rollout's last step — the observation to bootstrap from.
public final class RolloutBuffer: TrainingMemory {
    public let capacity: Int
    public let observationSize: Int
    public let actionSize: Int
    public private(set) var count = 0

    public internal(set) var observations: [Float]
    public internal(set) var actions: [Float]
    public internal(set) var logProbs: [Float]
    public internal(set) var rewards: [Float]
    public internal(set) var terminated: [Bool]
    /// The episode ended at t (terminated or truncated).
    public internal(set) var episodeEnds: [Bool]
    /// Observations after step t where the value is bootstrapped from one not in `observations`: truncated steps
    /// (the final observation, before the reset) and the last step of the rollout when its episode goes on.
    public internal(set) var bootstrapObservations: [Float]
    public internal(set) var hasBootstrapObservation: [Bool]

    // Learning (set by `PPO.beginLearning`).
    public internal(set) var values: [Float]
    public internal(set) var bootstrapValues: [Float]
    public internal(set) var advantages: [Float]
    public internal(set) var returns: [Float]
    /// Whether the rollout is being learned from (full, its advantages computed, epochs not finished).
    public internal(set) var isLearning = false
    public internal(set) var epoch = 0
    public internal(set) var minibatch = 0
    /// This epoch's order of the steps.
    public internal(set) var permutation: [Int32]

    public init(capacity: Int, observationSize: Int, actionSize: Int) {
        self.capacity = capacity; self.observationSize = observationSize; self.actionSize = actionSize
        observations = [Float](repeating: 0, count: capacity * observationSize)
        actions = [Float](repeating: 0, count: capacity * actionSize)
        logProbs = [Float](repeating: 0, count: capacity)
        rewards = [Float](repeating: 0, count: capacity)
        terminated = [Bool](repeating: false, count: capacity)
        episodeEnds = [Bool](repeating: false, count: capacity)
        bootstrapObservations = [Float](repeating: 0, count: capacity * observationSize)
        hasBootstrapObservation = [Bool](repeating: false, count: capacity)
        values = [Float](repeating: 0, count: capacity)
        bootstrapValues = [Float](repeating: 0, count: capacity)
        advantages = [Float](repeating: 0, count: capacity)
        returns = [Float](repeating: 0, count: capacity)
        permutation = (0..<Int32(capacity)).map { $0 }
    }

    public var isFull: Bool { count == capacity }

    /// Appends one step; `next` is the observation after it (before any reset).
    public func add(observation: UnsafeBufferPointer<Double>, action: UnsafeBufferPointer<Float>, logProb: Float,
                    reward: Double, terminated done: Bool, truncated: Bool, next: UnsafeBufferPointer<Double>) {
        precondition(count < capacity && !isLearning, "rollout is full")
        let t = count, d = observationSize
        for j in 0..<d { observations[t * d + j] = Float(observation[j]) }
        for j in 0..<actionSize { actions[t * actionSize + j] = action[j] }
        logProbs[t] = logProb
        rewards[t] = Float(reward)
        terminated[t] = done
        episodeEnds[t] = done || truncated
        let bootstrap = !done && (truncated || t == capacity - 1)
        hasBootstrapObservation[t] = bootstrap
        if bootstrap { for j in 0..<d { bootstrapObservations[t * d + j] = Float(next[j]) } }
        count += 1
    }

    /// Starts the next rollout (after the last epoch).
    func clear() {
        count = 0
        isLearning = false
        epoch = 0
        minibatch = 0
    }

    // MARK: checkpoint state

    public func encode(into w: inout ByteWriter) {
        w.write(capacity); w.write(observationSize); w.write(actionSize); w.write(count)
        w.write(observations); w.write(actions); w.write(logProbs); w.write(rewards)
        w.write(terminated.map { $0 ? UInt8(1) : 0 }); w.write(episodeEnds.map { $0 ? UInt8(1) : 0 })
        w.write(bootstrapObservations); w.write(hasBootstrapObservation.map { $0 ? UInt8(1) : 0 })
        w.write(isLearning); w.write(epoch); w.write(minibatch)
        w.write(values); w.write(bootstrapValues); w.write(advantages); w.write(returns); w.write(permutation)
    }

    public func decode(from r: inout ByteReader) throws {
        let shape = (try r.read(Int.self), try r.read(Int.self), try r.read(Int.self))
        guard shape == (capacity, observationSize, actionSize) else {
            throw FormatError.corrupt("rollout of \(shape.0) steps × \(shape.1) observations × \(shape.2) actions, this run's is \(capacity) × \(observationSize) × \(actionSize)")
        }
        let n = try r.read(Int.self)
        guard n >= 0 && n <= capacity else { throw FormatError.corrupt("rollout count \(n)") }
        func floats(_ c: Int, _ name: String) throws -> [Float] {
            let a = try r.read([Float].self)
            guard a.count == c else { throw FormatError.corrupt("rollout \(name) has \(a.count) values, expected \(c)") }
            return a
        }
        func flags(_ name: String) throws -> [Bool] {
            let a = try r.read([UInt8].self)
            guard a.count == capacity else { throw FormatError.corrupt("rollout \(name) has \(a.count) values") }
            return a.map { $0 != 0 }
        }
        let d = observationSize
        let obs = try floats(capacity * d, "observations"), act = try floats(capacity * actionSize, "actions")
        let lp = try floats(capacity, "log-probabilities"), rew = try floats(capacity, "rewards")
        let term = try flags("terminations"), ends = try flags("episode ends")
        let boot = try floats(capacity * d, "bootstrap observations"), hasBoot = try flags("bootstrap flags")
        let learning = try r.read(Bool.self), e = try r.read(Int.self), m = try r.read(Int.self)
        let v = try floats(capacity, "values"), bv = try floats(capacity, "bootstrap values")
        let adv = try floats(capacity, "advantages"), ret = try floats(capacity, "returns")
        let perm = try r.read([Int32].self)
        guard perm.count == capacity, perm.allSatisfy({ $0 >= 0 && Int($0) < capacity }) else {
            throw FormatError.corrupt("rollout permutation")
        }
        count = n; observations = obs; actions = act; logProbs = lp; rewards = rew; terminated = term
        episodeEnds = ends; bootstrapObservations = boot; hasBootstrapObservation = hasBoot
        isLearning = learning; epoch = e; minibatch = m
        values = v; bootstrapValues = bv; advantages = adv; returns = ret; permutation = perm
    }
}

/// What a training loop learns from, checkpointed with it: the replay buffer (off-policy) or the rollout (on-policy).
public protocol TrainingMemory: AnyObject {
    func encode(into w: inout ByteWriter)
    func decode(from r: inout ByteReader) throws
    /// `encode`'s bytes as `ByteChunks`, valid only during `body`: what a checkpoint is written from. The replay
    /// buffers lend pieces of their own storage (no copy of gigabytes); the default encodes into one array, which is
    /// fine for the rollout (a few MB).
    func withEncodedChunks<R>(_ body: (ByteChunks) throws -> R) rethrows -> R
}

extension TrainingMemory {
    public func withEncodedChunks<R>(_ body: (ByteChunks) throws -> R) rethrows -> R {
        var w = ByteWriter()
        encode(into: &w)
        return try body(ByteChunks(w.bytes))
    }
}
