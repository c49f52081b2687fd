import SparrowCore
import XCTest
@testable import Agents

/// The plain two-copy replay buffer (s and s′ stored separately), as `ReplayBuffer` was before it stored each
/// observation once: the reference the compact buffer must match batch for batch.
struct TwoCopyReplay {
    let capacity: Int, observationSize: Int, actionSize: Int
    var observations: [Float], nextObservations: [Float], actions: [Float], rewards: [Float], terminals: [Float]
    var count = 0, cursor = 0

    init(capacity: Int, observationSize: Int, actionSize: Int) {
        self.capacity = capacity; self.observationSize = observationSize; self.actionSize = actionSize
        observations = [Float](repeating: 0, count: capacity * observationSize)
        nextObservations = observations
        actions = [Float](repeating: 0, count: capacity * actionSize)
        rewards = [Float](repeating: 0, count: capacity)
        terminals = rewards
    }

    mutating func add(_ t: Transition) {
        for i in 0..<observationSize {
            observations[cursor * observationSize + i] = Float(t.observation[i])
            nextObservations[cursor * observationSize + i] = Float(t.nextObservation[i])
        }
        for i in 0..<actionSize { actions[cursor * actionSize + i] = t.action[i] }
        rewards[cursor] = Float(t.reward)
        terminals[cursor] = t.terminated ? 1 : 0
        cursor = (cursor + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// The batch (feature-major, as bit patterns) that the old `sample` wrote.
    func sample(size B: Int, generator g: inout Generator) -> [[UInt32]] {
        var o = [Float](repeating: 0, count: observationSize * B), n = o
        var a = [Float](repeating: 0, count: actionSize * B), r = [Float](repeating: 0, count: B), m = r
        for b in 0..<B {
            let i = g.nextInt(below: count)
            for f in 0..<observationSize {
                o[f * B + b] = observations[i * observationSize + f]
                n[f * B + b] = nextObservations[i * observationSize + f]
            }
            for f in 0..<actionSize { a[f * B + b] = actions[i * actionSize + f] }
            r[b] = rewards[i]
            m[b] = 1 - terminals[i]
        }
        return [o, n, a, r, m].map { $0.map(\.bitPattern) }
    }

    /// The bytes the old `ReplayBuffer.encode` wrote (checkpoint version 1).
    func version1Bytes() -> [UInt8] {
        var w = ByteWriter()
        w.write(capacity); w.write(observationSize); w.write(actionSize); w.write(count); w.write(cursor)
        w.write(Array(observations[0..<count * observationSize]))
        w.write(Array(nextObservations[0..<count * observationSize]))
        w.write(Array(actions[0..<count * actionSize]))
        w.write(Array(rewards[0..<count]))
        w.write(Array(terminals[0..<count]))
        return w.bytes
    }
}

struct Transition {
    var observation: [Double], action: [Float], reward: Double, nextObservation: [Double], terminated: Bool
}

/// Episodes of random length (a fifth of them one step long) that end by termination or truncation; the next
/// episode starts from a reset observation that differs from the final one, except now and then one that equals
/// it (bit for bit, or only after rounding to Float), where sharing the row is still exact.
struct EpisodeStream {
    var g: Generator
    let observationSize: Int, actionSize: Int, maxLength: Int
    var observation: [Double]
    var left = 0

    init(seed: UInt64, observationSize: Int, actionSize: Int, maxLength: Int) {
        g = Generator(seed: seed)
        self.observationSize = observationSize; self.actionSize = actionSize; self.maxLength = maxLength
        observation = []
        observation = fresh()
    }

    mutating func fresh() -> [Double] { (0..<observationSize).map { _ in g.normal() } }

    mutating func next() -> Transition {
        if left == 0 { left = g.nextDouble() < 0.2 ? 1 : 1 + g.nextInt(below: maxLength) }
        left -= 1
        let n = fresh()
        let ends = left == 0
        let terminated = ends && g.nextDouble() < 0.5  // else truncated: stored as not terminated
        let t = Transition(observation: observation, action: (0..<actionSize).map { _ in Float(g.uniform(-1, 1)) },
                           reward: g.normal(), nextObservation: n, terminated: terminated)
        if ends {
            let u = g.nextDouble()
            observation = u < 0.05 ? n : u < 0.1 ? n.map { $0 + 1e-12 } : fresh()
        } else {
            observation = n
        }
        return t
    }
}

extension ReplayBuffer {
    func add(_ t: Transition) {
        t.observation.withUnsafeBufferPointer { o in
            t.action.withUnsafeBufferPointer { a in
                t.nextObservation.withUnsafeBufferPointer { n in
                    add(observation: o, action: a, reward: t.reward, nextObservation: n, terminated: t.terminated)
                }
            }
        }
    }

    func sample(size: Int, generator: inout Generator) -> [[UInt32]] {
        let b = ReplayBatch(size: size, observationSize: observationSize, actionSize: actionSize)
        sample(into: b, generator: &generator)
        func bits(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> [UInt32] { UnsafeBufferPointer(start: p, count: n).map(\.bitPattern) }
        return [bits(b.observations, observationSize * size), bits(b.nextObservations, observationSize * size),
                bits(b.actions, actionSize * size), bits(b.rewards, size), bits(b.notTerminated, size)]
    }

    var encoded: [UInt8] { var w = ByteWriter(); encode(into: &w); return w.bytes }
}

final class ReplayBufferTests: XCTestCase {
    let fields = ["observations", "nextObservations", "actions", "rewards", "notTerminated"]

    func assertSameBatches(_ buffer: ReplayBuffer, _ reference: TwoCopyReplay, seed: UInt64, _ context: String,
                           line: UInt = #line) {
        var g1 = Generator(seed: seed), g2 = Generator(seed: seed)
        for round in 0..<3 {
            let a = buffer.sample(size: 32, generator: &g1), b = reference.sample(size: 32, generator: &g2)
            for k in fields.indices where a[k] != b[k] {
                XCTFail("\(context), round \(round): \(fields[k]) differ", line: line)
                return
            }
        }
        XCTAssertEqual(g1, g2, "same draws", line: line)
    }

    /// Many wraps of several capacities (1 included), one- and many-step episodes: every batch equals the
    /// two-copy reference's, field by field, bit for bit.
    func testSamplesEqualTheTwoCopyReference() {
        for (capacity, maxLength) in [(1, 3), (2, 2), (7, 5), (64, 12), (300, 40)] {
            let buffer = ReplayBuffer(capacity: capacity, observationSize: 4, actionSize: 2)
            var reference = TwoCopyReplay(capacity: capacity, observationSize: 4, actionSize: 2)
            var stream = EpisodeStream(seed: UInt64(capacity), observationSize: 4, actionSize: 2, maxLength: maxLength)
            var shared = 0
            for step in 1...(capacity * 25 + 13) {
                let t = stream.next()
                buffer.add(t); reference.add(t)
                XCTAssertEqual(buffer.count, reference.count); XCTAssertEqual(buffer.cursor, reference.cursor)
                XCTAssertLessThanOrEqual(buffer.finalObservationCount, buffer.count)
                if step % max(1, capacity / 3) == 0 || step < 10 {
                    assertSameBatches(buffer, reference, seed: UInt64(step), "capacity \(capacity) step \(step)")
                }
                shared = max(shared, buffer.count - 1 - buffer.finalObservationCount)
            }
            if capacity > 2 { XCTAssertGreaterThan(shared, 0, "rows are shared within episodes") }
        }
    }

    /// The blocked gather of `sample` against its plain twin `sampleOneByOne`: batch sizes around the gather block
    /// (1, 7, 8, 9, 15, 16, 17, 256), Humanoid's widths, finals and the pending row drawn, the scratch grown and
    /// reused — same draws, every field bit for bit.
    func testBlockedGatherEqualsTheOneByOneTwin() {
        for (capacity, obs, act) in [(3, 1, 1), (300, 7, 2), (1000, 348, 17)] {
            let buffer = ReplayBuffer(capacity: capacity, observationSize: obs, actionSize: act)
            var stream = EpisodeStream(seed: UInt64(obs), observationSize: obs, actionSize: act, maxLength: 20)
            for round in 0..<3 {
                for _ in 0..<(capacity / 2 + 5) { buffer.add(stream.next()) }
                for size in [1, 7, 8, 9, 15, 16, 17, 256] {
                    let fast = ReplayBatch(size: size, observationSize: obs, actionSize: act)
                    let plain = ReplayBatch(size: size, observationSize: obs, actionSize: act)
                    var g1 = Generator(seed: UInt64(size + round)), g2 = g1
                    buffer.sample(into: fast, generator: &g1)
                    buffer.sampleOneByOne(into: plain, generator: &g2)
                    XCTAssertEqual(g1, g2, "same draws")
                    func bits(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> [UInt32] {
                        UnsafeBufferPointer(start: p, count: n).map(\.bitPattern)
                    }
                    let pairs = [(fast.observations, plain.observations, obs * size),
                                 (fast.nextObservations, plain.nextObservations, obs * size),
                                 (fast.actions, plain.actions, act * size), (fast.rewards, plain.rewards, size),
                                 (fast.notTerminated, plain.notTerminated, size)]
                    for (k, (a, b, n)) in pairs.enumerated() where bits(a, n) != bits(b, n) {
                        XCTFail("capacity \(capacity) obs \(obs) round \(round) batch \(size): \(fields[k]) differ")
                    }
                }
            }
        }
    }

    /// Encoded after wrapping, decoded into a fresh buffer, then both continue: same batches and same bytes.
    func testRoundTripMidRunContinuesLikeTheUninterruptedBuffer() throws {
        let capacity = 97
        let a = ReplayBuffer(capacity: capacity, observationSize: 5, actionSize: 3)
        var reference = TwoCopyReplay(capacity: capacity, observationSize: 5, actionSize: 3)
        var stream = EpisodeStream(seed: 11, observationSize: 5, actionSize: 3, maxLength: 9)
        for _ in 0..<(capacity * 4 + 41) { let t = stream.next(); a.add(t); reference.add(t) }
        let b = ReplayBuffer(capacity: capacity, observationSize: 5, actionSize: 3)
        var r = ByteReader(a.encoded)
        try b.decode(from: &r)
        XCTAssertTrue(r.isAtEnd)
        XCTAssertEqual(b.count, a.count); XCTAssertEqual(b.cursor, a.cursor)
        XCTAssertEqual(b.encoded, a.encoded)
        for step in 0..<(capacity * 3) {
            let t = stream.next()
            a.add(t); b.add(t); reference.add(t)
            if step % 10 == 0 {
                assertSameBatches(a, reference, seed: UInt64(step), "uninterrupted \(step)")
                assertSameBatches(b, reference, seed: UInt64(step), "decoded \(step)")
            }
        }
        XCTAssertEqual(b.encoded, a.encoded)

        // The empty buffer round-trips too; a buffer of another shape refuses the data.
        let empty = ReplayBuffer(capacity: capacity, observationSize: 5, actionSize: 3)
        var re = ByteReader(empty.encoded)
        try ReplayBuffer(capacity: capacity, observationSize: 5, actionSize: 3).decode(from: &re)
        var rw = ByteReader(a.encoded)
        XCTAssertThrowsError(try ReplayBuffer(capacity: capacity, observationSize: 4, actionSize: 3).decode(from: &rw))
    }

    /// Bytes in the version-1 layout (s and s′ in full, as the old `encode` wrote them) are converted: the buffer
    /// samples as the old one did, before and after more adds, and re-encodes in the compact layout.
    func testVersion1LayoutIsConvertedAndSamplesAsBefore() throws {
        for (capacity, fill) in [(50, 37), (50, 50 * 6 + 19), (1, 5), (40, 0)] {
            var reference = TwoCopyReplay(capacity: capacity, observationSize: 3, actionSize: 1)
            var stream = EpisodeStream(seed: UInt64(fill), observationSize: 3, actionSize: 1, maxLength: 6)
            for _ in 0..<fill { reference.add(stream.next()) }
            let buffer = ReplayBuffer(capacity: capacity, observationSize: 3, actionSize: 1)
            var r = ByteReader(reference.version1Bytes())
            try buffer.decode(from: &r)
            XCTAssertTrue(r.isAtEnd)
            XCTAssertEqual(buffer.count, reference.count); XCTAssertEqual(buffer.cursor, reference.cursor)
            if fill > 0 { assertSameBatches(buffer, reference, seed: 5, "converted, capacity \(capacity) fill \(fill)") }
            for step in 0..<(capacity * 2) {
                let t = stream.next()
                buffer.add(t); reference.add(t)
                if step % 7 == 0 { assertSameBatches(buffer, reference, seed: UInt64(step), "continued \(step)") }
            }
            let again = ReplayBuffer(capacity: capacity, observationSize: 3, actionSize: 1)
            var rc = ByteReader(buffer.encoded)
            try again.decode(from: &rc)
            assertSameBatches(again, reference, seed: 9, "re-encoded")
        }
    }

    /// With 1000-step episodes the buffer keeps little more than one observation per transition: under 0.55× the
    /// two-copy layout for Humanoid's sizes, and exactly the documented count.
    func testResidentBytesAreAboutHalfOfTwoCopiesForLongEpisodes() {
        let obs = 348, act = 17, capacity = 5000
        let buffer = ReplayBuffer(capacity: capacity, observationSize: obs, actionSize: act)
        XCTAssertEqual(buffer.residentBytes, 0)
        var g = Generator(seed: 3)
        var o = (0..<obs).map { _ in g.normal() }
        let a = [Float](repeating: 0.5, count: act)
        var episodes = 0
        for step in 1...(capacity + 2500) {
            let n = (0..<obs).map { _ in g.normal() }
            let ends = step % 1000 == 0
            buffer.add(Transition(observation: o, action: a, reward: 1, nextObservation: n, terminated: ends))
            if ends { episodes += 1; o = (0..<obs).map { _ in g.normal() } } else { o = n }
        }
        let twoCopies = capacity * (2 * obs + act + 2) * 4
        let ratio = Double(buffer.residentBytes) / Double(twoCopies)
        XCTAssertLessThan(ratio, 0.55)
        XCTAssertEqual(buffer.finalObservationCount, 5)  // episodes ending at 3000 … 7000 are still stored
        XCTAssertEqual(buffer.residentBytes, capacity * (obs + act + 3) * 4 + (episodes + 1) * obs * 4)
    }

    /// A compact buffer whose final indices are out of order, or whose counters are impossible, is refused and
    /// leaves the buffer as it was.
    func testInconsistentCompactDataIsRefused() throws {
        let source = ReplayBuffer(capacity: 20, observationSize: 2, actionSize: 1)
        var stream = EpisodeStream(seed: 1, observationSize: 2, actionSize: 1, maxLength: 3)
        for _ in 0..<45 { source.add(stream.next()) }
        XCTAssertGreaterThan(source.finalObservationCount, 1)
        let good = source.encoded
        // Header: tag, capacity, sizes, count, cursor (8 bytes each), then s, a, r, terminated, final indices.
        let indexStart = 6 * 8 + (8 + 20 * 2 * 4) + 3 * (8 + 20 * 4) + 8
        var swapped = good
        var firstFinal: Int?
        for k in 0..<20 {
            let at = indexStart + 4 * k
            if swapped[at] != 0xFF { if let f = firstFinal { swapped.swapAt(f, at); break } else { firstFinal = at } }
        }
        var badCounters = good
        badCounters[4 * 8] = 3  // count 3 (not full) with the cursor elsewhere
        for bytes in [swapped, badCounters] {
            XCTAssertNotEqual(bytes, good)
            let target = ReplayBuffer(capacity: 20, observationSize: 2, actionSize: 1)
            var r = ByteReader(bytes)
            XCTAssertThrowsError(try target.decode(from: &r))
            XCTAssertEqual(target.count, 0)
        }
    }
}
