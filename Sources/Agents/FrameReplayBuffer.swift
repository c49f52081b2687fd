#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import SparrowCore

/// A replay buffer for stacked uint8 frames (Atari: 4 × 84 × 84) that stores each frame once, so 1M transitions
/// take about 7 GB instead of the 28+ GB of separate s and s′ stacks (issue 27, part 4); `encode`/`decode` save and
/// restore it exactly. Not wired into the trainer yet: the DQN that trains on Atari (the next issue) will use it.
///
/// **Layout.** Slot t holds the newest frame of s_t, the action, the reward, `terminated`, and how many earlier
/// transitions of the same episode precede it (`episodeStep`). The stack of s_t is rebuilt from consecutive slots:
/// frames t−k+1 … t, where positions before the episode's first transition repeat that transition's frame — the
/// "reset" padding of Gymnasium's FrameStackObservation, which is what the environment showed. s′_t is s_t shifted
/// by one with the next frame appended (the deque of FrameStackObservation): that frame is slot t+1's when the
/// episode went on, a row of the *finals* ring when the episode ended at t (terminated or truncated: the final
/// observation is not the next transition's), or the *pending* frame for the newest transition.
///
/// **Validity.** Once the ring wraps, a transition whose stack reaches back past the oldest slot cannot be rebuilt;
/// `sample` draws uniformly among the rest (rejection, as Dopamine's buffer does). The finals ring is FIFO like
/// `ReplayBuffer`'s: a final is freed when its transition is overwritten.
///
/// **Memory.** Reserved up front, touched as it fills; per transition frameSize + 17 bytes (frame, action Int32,
/// reward Float, terminated, episode step Int32, final index Int32) plus frameSize per episode ended.
public final class FrameReplayBuffer {
    public let capacity: Int
    /// Bytes of one frame (84 × 84 = 7056 for Atari).
    public let frameSize: Int
    /// Frames per observation.
    public let stackSize: Int
    public private(set) var count = 0
    /// Next slot to write.
    public private(set) var cursor = 0

    private let frames: UnsafeMutablePointer<UInt8>
    private let actions: UnsafeMutablePointer<Int32>
    private let rewards: UnsafeMutablePointer<Float>
    private let terminals: UnsafeMutablePointer<UInt8>
    private let episodeSteps: UnsafeMutablePointer<Int32>
    /// Slot t's next frame is `finals` row `finalIndex[t]` when ≥ 0, else slot t+1's frame (or `pending`).
    private let finalIndex: UnsafeMutablePointer<Int32>
    private let finals: UnsafeMutablePointer<UInt8>
    private var finalsTail = 0, finalsCount = 0
    private let pending: UnsafeMutablePointer<UInt8>
    /// Whether the newest transition ended its episode (so the next add starts a new one).
    private var lastEnded = true

    public init(capacity: Int, frameSize: Int, stackSize: Int) {
        precondition(capacity > stackSize && frameSize > 0 && stackSize > 0)
        precondition(capacity <= Int(Int32.max))
        self.capacity = capacity; self.frameSize = frameSize; self.stackSize = stackSize
        frames = .allocate(capacity: capacity * frameSize)
        actions = .allocate(capacity: capacity)
        rewards = .allocate(capacity: capacity)
        terminals = .allocate(capacity: capacity)
        episodeSteps = .allocate(capacity: capacity)
        finalIndex = .allocate(capacity: capacity)
        finals = .allocate(capacity: capacity * frameSize)
        pending = .allocate(capacity: frameSize)
    }

    deinit {
        frames.deallocate(); actions.deallocate(); rewards.deallocate(); terminals.deallocate()
        episodeSteps.deallocate(); finalIndex.deallocate(); finals.deallocate(); pending.deallocate()
    }

    /// Bytes of one stacked observation.
    public var observationSize: Int { frameSize * stackSize }

    /// Adds (s, a, r, s′) given by their newest frames: `frame` is s's newest frame, `nextFrame` s′'s. A transition
    /// after one that `episodeEnded` (terminated or truncated) starts a new episode; otherwise `frame` must be the
    /// previous transition's `nextFrame` (checked). `terminated` stops bootstrapping; truncation does not.
    public func add(frame: UnsafeBufferPointer<UInt8>, action: Int, reward: Double, terminated: Bool,
                    nextFrame: UnsafeBufferPointer<UInt8>, episodeEnded: Bool) {
        precondition(frame.count == frameSize && nextFrame.count == frameSize)
        precondition(!terminated || episodeEnded, "a terminated transition ends its episode")
        let slot = cursor
        if count > 0 && !lastEnded {
            precondition(memcmp(frame.baseAddress!, pending, frameSize) == 0,
                         "the frame of a continuing episode must be the previous transition's next frame")
        }
        if count == capacity, finalIndex[slot] >= 0 {  // overwriting the oldest transition frees its final
            finalsTail = (finalsTail + 1) % capacity
            finalsCount -= 1
        }
        let previous = (slot + capacity - 1) % capacity
        episodeSteps[slot] = (count == 0 || lastEnded) ? 0 : min(episodeSteps[previous] + 1, Int32(stackSize))
        (frames + slot * frameSize).update(from: frame.baseAddress!, count: frameSize)
        actions[slot] = Int32(action)
        rewards[slot] = Float(reward)
        terminals[slot] = terminated ? 1 : 0
        if episodeEnded {
            let row = (finalsTail + finalsCount) % capacity
            (finals + row * frameSize).update(from: nextFrame.baseAddress!, count: frameSize)
            finalsCount += 1
            finalIndex[slot] = Int32(row)
        } else {
            pending.update(from: nextFrame.baseAddress!, count: frameSize)
            finalIndex[slot] = -1
        }
        lastEnded = episodeEnded
        cursor = (cursor + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// Slots holding transitions, oldest first.
    private var oldest: Int { count < capacity ? 0 : cursor }

    /// Whether slot t's transition can be rebuilt (it is stored and its stack does not reach past the oldest slot).
    public func isSampleable(_ slot: Int) -> Bool {
        guard slot >= 0, slot < count else { return false }
        let age = (slot - oldest + capacity) % capacity
        return age >= min(Int(episodeSteps[slot]), stackSize - 1)
    }

    /// Rebuilds slot t's s and s′ (stackSize × frameSize bytes each, oldest frame first).
    public func gather(slot t: Int, state: UnsafeMutablePointer<UInt8>, nextState: UnsafeMutablePointer<UInt8>) {
        precondition(isSampleable(t), "slot \(t) cannot be rebuilt")
        let k = stackSize, f = frameSize
        let back = Int(episodeSteps[t])
        for p in 0..<k {
            // Position p holds the frame (k−1−p) steps back, or the episode's first frame before the episode began.
            let steps = min(k - 1 - p, back)
            let source = (t - steps + capacity) % capacity
            (state + p * f).update(from: frames + source * f, count: f)
        }
        (nextState).update(from: state + f, count: (k - 1) * f)
        let next: UnsafeMutablePointer<UInt8>
        if finalIndex[t] >= 0 {
            next = finals + Int(finalIndex[t]) * f
        } else if t == (cursor + capacity - 1) % capacity {
            next = pending
        } else {
            next = frames + ((t + 1) % capacity) * f
        }
        (nextState + (k - 1) * f).update(from: next, count: f)
    }

    public func action(at slot: Int) -> Int { Int(actions[slot]) }
    public func reward(at slot: Int) -> Float { rewards[slot] }
    public func terminated(at slot: Int) -> Bool { terminals[slot] != 0 }

    /// A uniformly random sampleable slot (rejection over stored slots).
    public func sampleSlot(generator: inout Generator) -> Int {
        precondition(count > stackSize, "too few transitions to sample")
        while true {
            let t = generator.nextInt(below: count)
            if isSampleable(t) { return t }
        }
    }

    // MARK: - Checkpoints

    /// The whole buffer for an exact resume: shape, positions, the stored slots, the live finals rows (at their
    /// ring positions, which the final indices name) and the pending frame.
    public func encode(into w: inout ByteWriter) { withEncodedChunks { w.append($0) } }

    /// `encode`'s bytes as pieces that point into this buffer's storage (valid only during `body`), so a
    /// checkpoint of 7 GB of frames is checksummed and written without a copy of them. The one description of the
    /// layout: `encode` is built on it.
    public func withEncodedChunks<R>(_ body: (ByteChunks) throws -> R) rethrows -> R {
        var c = ByteChunks()
        c.write(capacity); c.write(frameSize); c.write(stackSize)
        c.write(count); c.write(cursor); c.write(lastEnded); c.write(finalsTail); c.write(finalsCount)
        c.write(UnsafeBufferPointer(start: frames, count: count * frameSize))
        c.write(UnsafeBufferPointer(start: actions, count: count))
        c.write(UnsafeBufferPointer(start: rewards, count: count))
        c.write(UnsafeBufferPointer(start: terminals, count: count))
        c.write(UnsafeBufferPointer(start: episodeSteps, count: count))
        c.write(UnsafeBufferPointer(start: finalIndex, count: count))
        for i in 0..<finalsCount {
            let row = (finalsTail + i) % capacity
            c.write(UnsafeBufferPointer(start: finals + row * frameSize, count: frameSize))
        }
        c.write(UnsafeBufferPointer(start: pending, count: frameSize))
        return try withExtendedLifetime(self) { try body(c) }
    }

    /// Restores what `encode` wrote into a buffer of the same shape, reading each array straight into the storage
    /// (no temporary copy); a foreign or damaged state is an error and leaves nothing half-read behind in the
    /// positions (the contents are then meaningless; discard the buffer).
    public func decode(from r: inout ByteReader) throws {
        let shape = (try r.read(Int.self), try r.read(Int.self), try r.read(Int.self))
        guard shape == (capacity, frameSize, stackSize) else {
            throw FormatError.corrupt("frame replay buffer of capacity \(shape.0), frame \(shape.1), stack \(shape.2); "
                + "this one is \(capacity), \(frameSize), \(stackSize)")
        }
        let n = try r.read(Int.self), c = try r.read(Int.self), ended = try r.read(Bool.self)
        let tail = try r.read(Int.self), finalsN = try r.read(Int.self)
        guard (0...capacity).contains(n), (0..<capacity).contains(c), (0..<capacity).contains(tail),
              (0...n).contains(finalsN), n == capacity || c == n else {
            throw FormatError.corrupt("frame replay buffer positions")
        }
        func restore<T: BitwiseCopyable>(_ p: UnsafeMutablePointer<T>, _ expected: Int) throws {
            try r.read(into: p, count: expected) {
                FormatError.corrupt("frame replay buffer: \($0) values, expected \(expected)")
            }
        }
        try restore(frames, n * frameSize)
        try restore(actions, n); try restore(rewards, n); try restore(terminals, n)
        try restore(episodeSteps, n); try restore(finalIndex, n)
        for i in 0..<finalsN { try restore(finals + ((tail + i) % capacity) * frameSize, frameSize) }
        try restore(pending, frameSize)
        count = n; cursor = c; lastEnded = ended; finalsTail = tail; finalsCount = finalsN
    }

    /// Resident bytes once full, without finals (one frame per ended episode comes on top).
    public var bytesPerTransition: Int { frameSize + 4 + 4 + 1 + 4 + 4 }
}

extension FrameReplayMemory {
    /// The frame buffer's pieces (the default, `encode` into one array, would copy 7 GB).
    public func withEncodedChunks<R>(_ body: (ByteChunks) throws -> R) rethrows -> R {
        try frames.withEncodedChunks(body)
    }
}
