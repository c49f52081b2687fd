import XCTest
@testable import Agents
import Environments
import SparrowCore

/// `FrameReplayBuffer` against a plain twin that keeps every transition's whole s and s′ stacks: random episodes
/// (ending by termination or truncation, some shorter than the stack), stacked as Gymnasium's FrameStackObservation
/// stacks them (the reset frame repeated), through several wraps of a small ring.
final class FrameReplayBufferTests: XCTestCase {
    struct Transition { var s: [UInt8]; var a: Int; var r: Float; var terminated: Bool; var next: [UInt8] }

    func testRebuildsEveryStoredTransitionLikeAPlainBuffer() {
        let frameSize = 5, k = 4, capacity = 37
        let buffer = FrameReplayBuffer(capacity: capacity, frameSize: frameSize, stackSize: k)
        var g = Generator(seed: 11)
        var reference: [Transition] = []  // every transition added, in order
        var frameCounter: UInt8 = 0
        func newFrame() -> [UInt8] {
            frameCounter &+= 1
            return (0..<frameSize).map { UInt8(truncatingIfNeeded: Int(frameCounter) &* 31 &+ $0 &* 7 &+ g.nextInt(below: 3)) }
        }
        var checkedFull = 0
        for episode in 0..<40 {
            let first = newFrame()
            var stack = Array(repeating: first, count: k)  // reset padding
            let length = 1 + g.nextInt(below: episode % 3 == 0 ? 3 : 12)  // some episodes shorter than the stack
            let terminates = g.nextInt(below: 2) == 0
            for step in 0..<length {
                let next = newFrame()
                let ended = step == length - 1
                let t = Transition(s: stack.flatMap { $0 }, a: g.nextInt(below: 6), r: Float(g.nextInt(below: 5)),
                                   terminated: ended && terminates, next: (stack.dropFirst() + [next]).flatMap { $0 })
                stack = Array(stack.dropFirst()) + [next]
                reference.append(t)
                Array(t.s.suffix(frameSize)).withUnsafeBufferPointer { f in
                    next.withUnsafeBufferPointer { n in
                        buffer.add(frame: f, action: t.a, reward: Double(t.r), terminated: t.terminated, nextFrame: n,
                                   episodeEnded: ended)
                    }
                }
                // Every sampleable slot rebuilds exactly its transition; only transitions whose stack reaches past
                // the oldest stored one are not sampleable.
                let stored = min(reference.count, capacity)
                var state = [UInt8](repeating: 0, count: k * frameSize), nextState = state
                var sampleable = 0
                for age in 0..<stored {
                    let slot = (buffer.cursor - stored + age + capacity) % capacity
                    let want = reference[reference.count - stored + age]
                    guard buffer.isSampleable(slot) else {
                        XCTAssertLessThan(age, k - 1, "only the oldest few can lose their stack")
                        continue
                    }
                    sampleable += 1
                    state.withUnsafeMutableBufferPointer { s in
                        nextState.withUnsafeMutableBufferPointer { n in buffer.gather(slot: slot, state: s.baseAddress!, nextState: n.baseAddress!) }
                    }
                    XCTAssertEqual(state, want.s, "s of transition \(reference.count - stored + age)")
                    XCTAssertEqual(nextState, want.next, "s′ of transition \(reference.count - stored + age)")
                    XCTAssertEqual(buffer.action(at: slot), want.a)
                    XCTAssertEqual(buffer.reward(at: slot), want.r)
                    XCTAssertEqual(buffer.terminated(at: slot), want.terminated)
                }
                XCTAssertGreaterThanOrEqual(sampleable, stored - (k - 1))
                if stored == capacity { checkedFull += 1 }
            }
        }
        XCTAssertGreaterThan(reference.count, 3 * capacity, "the ring wrapped several times")
        XCTAssertGreaterThan(checkedFull, 100)
        // Sampling only returns sampleable slots.
        for _ in 0..<500 { XCTAssertTrue(buffer.isSampleable(buffer.sampleSlot(generator: &g))) }
        XCTAssertEqual(buffer.bytesPerTransition, frameSize + 17)
    }

    /// A buffer restored from its encoding (mid-episode, after wrapping) rebuilds, samples and grows exactly as the
    /// original; a buffer of another shape refuses it.
    func testCheckpointRoundTripIsExact() throws {
        let frameSize = 3, k = 4, capacity = 23
        let a = FrameReplayBuffer(capacity: capacity, frameSize: frameSize, stackSize: k)
        var g = Generator(seed: 5)
        var counter = 0
        func add(_ buffers: [FrameReplayBuffer], ended: Bool, frame: [UInt8]) -> [UInt8] {
            counter += 1
            let next = (0..<frameSize).map { UInt8(truncatingIfNeeded: counter * 13 + $0) }
            for b in buffers {
                frame.withUnsafeBufferPointer { f in
                    next.withUnsafeBufferPointer { n in
                        b.add(frame: f, action: counter % 5, reward: Double(counter), terminated: ended && counter % 2 == 0,
                              nextFrame: n, episodeEnded: ended)
                    }
                }
            }
            return next
        }
        var frame: [UInt8] = [1, 2, 3]
        for i in 0..<70 {
            let ended = g.nextInt(below: 7) == 0
            let next = add([a], ended: ended, frame: frame)
            frame = ended ? [UInt8(i), 0, 9] : next
        }
        var w = ByteWriter()
        a.encode(into: &w)
        let b = FrameReplayBuffer(capacity: capacity, frameSize: frameSize, stackSize: k)
        var r = ByteReader(w.bytes)
        try b.decode(from: &r)
        for i in 0..<40 {
            let ended = g.nextInt(below: 7) == 0
            let next = add([a, b], ended: ended, frame: frame)
            frame = ended ? [UInt8(i), 1, 9] : next
            var ga = Generator(seed: UInt64(i)), gb = ga
            XCTAssertEqual(a.sampleSlot(generator: &ga), b.sampleSlot(generator: &gb))
            for slot in 0..<capacity where a.isSampleable(slot) {
                XCTAssertTrue(b.isSampleable(slot))
                var sa = [UInt8](repeating: 0, count: k * frameSize), na = sa, sb = sa, nb = sa
                sa.withUnsafeMutableBufferPointer { s in na.withUnsafeMutableBufferPointer { a.gather(slot: slot, state: s.baseAddress!, nextState: $0.baseAddress!) } }
                sb.withUnsafeMutableBufferPointer { s in nb.withUnsafeMutableBufferPointer { b.gather(slot: slot, state: s.baseAddress!, nextState: $0.baseAddress!) } }
                XCTAssertEqual(sa, sb); XCTAssertEqual(na, nb)
                XCTAssertEqual(a.reward(at: slot), b.reward(at: slot))
                XCTAssertEqual(a.terminated(at: slot), b.terminated(at: slot))
            }
        }
        let other = FrameReplayBuffer(capacity: capacity + 1, frameSize: frameSize, stackSize: k)
        var r2 = ByteReader(w.bytes)
        XCTAssertThrowsError(try other.decode(from: &r2))
    }

    /// An Atari-sized buffer of 1M transitions needs about 7 GB (reserved, touched as it fills), not 28+ GB.
    func testAtariSizedBufferStoresEachFrameOnce() {
        let perTransition = FrameReplayBuffer(capacity: 10, frameSize: 84 * 84, stackSize: 4).bytesPerTransition
        XCTAssertEqual(Double(perTransition) * 1e6 / 1e9, 7.07, accuracy: 0.01)
    }

    /// Real Atari frames through `FrameEnvironment`, the way a training loop feeds the buffer: Breakout with random
    /// actions, episodes ended by a lost life (terminated) and by a 400-frame limit (truncated), through a ring of
    /// 150 slots. Every transition the buffer can still rebuild equals the environment's own observations before
    /// and after that step, byte for byte.
    func testRealAtariFramesRebuildTheEnvironmentsObservations() throws {
        var options = AtariOptions()
        options.terminalOnLifeLoss = true
        options.maxEpisodeFrames = 400
        let env = try AtariEnv(AtariGame.find("Breakout")!, options: options, seed: 5)
        let buffer = FrameReplayBuffer(capacity: 150, frameSize: env.frameSize, stackSize: env.frameStack)
        var g = Generator(seed: 2)
        var reference: [Transition] = []
        var frame = [UInt8](repeating: 0, count: env.frameSize)
        try env.resetFrames(seed: 5)
        var ends = (terminated: 0, truncated: 0)
        for _ in 0..<520 {
            let s = env.withObservationBytes { Array($0) }
            env.withNewestFrame { for i in 0..<$0.count { frame[i] = $0[i] } }
            let a = g.nextInt(below: env.actionSet.count)
            let outcome = try env.stepFrames(action: a)
            let ended = outcome.terminated || outcome.truncated
            frame.withUnsafeBufferPointer { f in
                env.withNewestFrame { next in
                    buffer.add(frame: f, action: a, reward: outcome.reward, terminated: outcome.terminated, nextFrame: next,
                               episodeEnded: ended)
                }
            }
            reference.append(Transition(s: s, a: a, r: Float(outcome.reward), terminated: outcome.terminated,
                                        next: env.withObservationBytes { Array($0) }))
            if outcome.terminated { ends.terminated += 1 }
            if outcome.truncated { ends.truncated += 1 }
            if ended { try env.resetFrames(seed: nil) }
        }
        XCTAssertGreaterThan(ends.terminated, 1, "lives lost")
        XCTAssertGreaterThan(ends.truncated, 1, "episodes cut at 400 frames")
        let n = buffer.observationSize
        var state = [UInt8](repeating: 0, count: n), next = state
        var checked = 0
        for slot in 0..<buffer.capacity where buffer.isSampleable(slot) {
            // Slot → the transition it holds: the ring is full, so slot `cursor` holds the oldest of the last 150.
            let age = (slot - buffer.cursor + buffer.capacity) % buffer.capacity
            let t = reference[reference.count - buffer.capacity + age]
            buffer.gather(slot: slot, state: &state, nextState: &next)
            XCTAssertTrue(state == t.s, "slot \(slot): s differs")
            XCTAssertTrue(next == t.next, "slot \(slot): s′ differs")
            XCTAssertEqual(buffer.action(at: slot), t.a)
            XCTAssertEqual(buffer.reward(at: slot), t.r)
            XCTAssertEqual(buffer.terminated(at: slot), t.terminated)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 140)
    }
}
