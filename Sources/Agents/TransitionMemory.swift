import SparrowCore

/// What the off-policy loop stores transitions in and draws training batches from: the `ReplayBuffer` of vector
/// observations, or `FrameReplayMemory` over uint8 frames (Atari). Both are saved in checkpoints (`TrainingMemory`).
public protocol TransitionMemory: TrainingMemory {
    /// Features of one observation and values of one action, as the batches hold them.
    var observationSize: Int { get }
    var actionSize: Int { get }
    /// Transitions stored (at most the capacity).
    var count: Int { get }
    /// Stores (s, a, r, s′). `terminated`: the MDP ended (no bootstrap); `truncated`: the episode was cut (s′ is not
    /// the next transition's s, but bootstraps).
    func add(observation: UnsafeBufferPointer<Double>, action: UnsafeBufferPointer<Float>, reward: Double,
             nextObservation: UnsafeBufferPointer<Double>, terminated: Bool, truncated: Bool)
    /// Whether `sample` can draw a batch yet.
    var canSample: Bool { get }
    /// Fills `batch` (feature-major) with uniformly drawn transitions.
    func sample(into batch: ReplayBatch, generator: inout Generator)
}

extension ReplayBuffer: TransitionMemory {
    /// A truncated transition is stored like any other: its s′ is kept (it becomes a final row when the next
    /// transition does not continue from it).
    public func add(observation: UnsafeBufferPointer<Double>, action: UnsafeBufferPointer<Float>, reward: Double,
                    nextObservation: UnsafeBufferPointer<Double>, terminated: Bool, truncated: Bool) {
        add(observation: observation, action: action, reward: reward, nextObservation: nextObservation,
            terminated: terminated)
    }

    public var canSample: Bool { count > 0 }
}

/// The off-policy loop's view of a `FrameReplayBuffer`: observations arrive as the environment's stacked frames in
/// `[Double]` (values 0…255, oldest frame first, `AtariEnv`), and only the newest frame of s and of s′ is stored;
/// batches come back as floats 0…255 (the Q network scales them, `DQN.inputScale`). 1M transitions of 4×84×84
/// take about 7 GB instead of the 28+ GB of stacks, 226 GB as the vector buffer's floats.
public final class FrameReplayMemory: TransitionMemory {
    public let frames: FrameReplayBuffer
    public var observationSize: Int { frames.observationSize }
    public let actionSize = 1
    public var count: Int { frames.count }
    private var frame: [UInt8], nextFrame: [UInt8]
    /// Scratch of `sample`: the batch's stacks, one sample after another.
    private var states: [UInt8] = [], nextStates: [UInt8] = []

    public init(capacity: Int, frameSize: Int, stackSize: Int) {
        frames = FrameReplayBuffer(capacity: capacity, frameSize: frameSize, stackSize: stackSize)
        frame = [UInt8](repeating: 0, count: frameSize)
        nextFrame = frame
    }

    public func add(observation: UnsafeBufferPointer<Double>, action: UnsafeBufferPointer<Float>, reward: Double,
                    nextObservation: UnsafeBufferPointer<Double>, terminated: Bool, truncated: Bool) {
        precondition(observation.count == observationSize && nextObservation.count == observationSize && action.count == 1)
        let f = frames.frameSize, newest = observationSize - f
        for i in 0..<f {
            frame[i] = UInt8(observation[newest + i])
            nextFrame[i] = UInt8(nextObservation[newest + i])
        }
        frame.withUnsafeBufferPointer { s in
            nextFrame.withUnsafeBufferPointer { n in
                frames.add(frame: s, action: Int(action[0]), reward: reward, terminated: terminated, nextFrame: n,
                           episodeEnded: terminated || truncated)
            }
        }
    }

    public var canSample: Bool { frames.count > frames.stackSize }

    public func sample(into batch: ReplayBatch, generator: inout Generator) {
        precondition(batch.observationSize == observationSize && batch.actionSize == 1)
        let B = batch.size, n = observationSize
        if states.count < B * n { states = [UInt8](repeating: 0, count: B * n); nextStates = states }
        // Gather each sample's stacks contiguously, then write the feature-major batch row by row (sequential
        // stores; a per-sample pass would store with a stride of B floats across 28 224 rows).
        states.withUnsafeMutableBufferPointer { s in
            nextStates.withUnsafeMutableBufferPointer { s1 in
                for b in 0..<B {
                    let t = frames.sampleSlot(generator: &generator)
                    frames.gather(slot: t, state: s.baseAddress! + b * n, nextState: s1.baseAddress! + b * n)
                    batch.actions[b] = Float(frames.action(at: t))
                    batch.rewards[b] = frames.reward(at: t)
                    batch.notTerminated[b] = frames.terminated(at: t) ? 0 : 1
                }
                for i in 0..<n {
                    let o = batch.observations + i * B, o1 = batch.nextObservations + i * B
                    for b in 0..<B {
                        o[b] = Float(s[b * n + i])
                        o1[b] = Float(s1[b * n + i])
                    }
                }
            }
        }
    }

    public func encode(into w: inout ByteWriter) { frames.encode(into: &w) }
    public func decode(from r: inout ByteReader) throws { try frames.decode(from: &r) }
}
