import XCTest
@testable import Agents
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

    /// An Atari-sized buffer of 1M transitions needs about 7 GB (reserved, touched as it fills), not 28+ GB.
    func testAtariSizedBufferStoresEachFrameOnce() {
        let perTransition = FrameReplayBuffer(capacity: 10, frameSize: 84 * 84, stackSize: 4).bytesPerTransition
        XCTAssertEqual(Double(perTransition) * 1e6 / 1e9, 7.07, accuracy: 0.01)
    }
}
