import Foundation
import SparrowCore
import XCTest
@testable import Agents

/// Deterministic buffers whose encodings are pinned by fixtures made before encodings were streamed.
enum EncodingFixtures {
    /// A wrapped vector replay buffer whose finals ring has wrapped too (its live rows are in two pieces).
    static func replayBuffer() -> ReplayBuffer {
        let buffer = ReplayBuffer(capacity: 40, observationSize: 3, actionSize: 2)
        var stream = EpisodeStream(seed: 7, observationSize: 3, actionSize: 2, maxLength: 4)
        for _ in 0..<(40 * 5 + 17) { buffer.add(stream.next()) }
        return buffer
    }

    /// A wrapped frame buffer stopped in the middle of an episode.
    static func frameReplayBuffer() -> FrameReplayBuffer {
        let frameSize = 3, capacity = 23
        let buffer = FrameReplayBuffer(capacity: capacity, frameSize: frameSize, stackSize: 4)
        var g = Generator(seed: 5)
        var frame: [UInt8] = [1, 2, 3]
        for counter in 1...(capacity * 3 + 4) {
            let ended = g.nextInt(below: 7) == 0
            let next = (0..<frameSize).map { UInt8(truncatingIfNeeded: counter * 13 + $0) }
            frame.withUnsafeBufferPointer { f in
                next.withUnsafeBufferPointer { n in
                    buffer.add(frame: f, action: counter % 5, reward: Double(counter) / 3, terminated: ended && counter % 2 == 0,
                               nextFrame: n, episodeEnded: ended)
                }
            }
            frame = ended ? [UInt8(counter), 0, 9] : next
        }
        return buffer
    }
}

extension FrameReplayBuffer {
    var encoded: [UInt8] { var w = ByteWriter(); encode(into: &w); return w.bytes }
}

/// The replay buffers' encodings as pieces of their own storage: the same bytes `encode` wrote before they were
/// streamed (fixtures), nothing of their size copied, and decoded straight into the storage.
final class StreamingEncodingTests: XCTestCase {
    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/memory-encodings") }

    /// Fixtures/memory-encodings holds `encode`'s bytes of `EncodingFixtures`' buffers as the code before streaming
    /// wrote them (commit ca907fd); the streamed chunks and the `encode` built on them are those bytes exactly.
    func testChunksAreTheBytesTheFormerEncodeWrote() throws {
        let replay = EncodingFixtures.replayBuffer(), frames = EncodingFixtures.frameReplayBuffer()
        XCTAssertGreaterThan(replay.finalObservationCount, 0)
        let expected = [
            ("replay-buffer.bin", replay.withEncodedChunks { $0.bytes }, replay.encoded),
            ("frame-replay-buffer.bin", frames.withEncodedChunks { $0.bytes }, frames.encoded),
        ]
        for (name, chunks, encoded) in expected {
            let old = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(name)))
            XCTAssertEqual(chunks, old, name)
            XCTAssertEqual(encoded, old, name)
        }
    }

    /// Through `TrainingMemory` (as a checkpoint sees them) the buffers lend their storage: what the chunks own is
    /// the header and, for the vector buffer, its renumbered final indices, never the observations or frames. The
    /// rollout falls back to one owned array.
    func testMemoriesLendTheirStorage() {
        let memory = FrameReplayMemory(capacity: 300, frameSize: 84 * 84, stackSize: 4)
        var g = Generator(seed: 2)
        var observation = [Double](repeating: 0, count: 4 * 84 * 84), next = observation
        for step in 0..<300 {
            for i in 0..<next.count { next[i] = Double(g.nextInt(below: 256)) }
            let ended = step % 50 == 49
            observation.withUnsafeBufferPointer { o in
                next.withUnsafeBufferPointer { n in
                    [Float(1)].withUnsafeBufferPointer { a in
                        memory.add(observation: o, action: a, reward: 1, nextObservation: n, terminated: ended, truncated: false)
                    }
                }
            }
            observation = ended ? observation.map { 255 - $0 } : next
        }
        let memories: [(any TrainingMemory, Int)] = [(memory, 300), (EncodingFixtures.replayBuffer(), 40)]
        for (m, n) in memories {
            let (count, owned) = m.withEncodedChunks { ($0.count, $0.ownedCount) }
            var w = ByteWriter()
            m.encode(into: &w)
            XCTAssertEqual(count, w.bytes.count)
            XCTAssertLessThanOrEqual(owned, 200 + 8 * (n + 1), "\(type(of: m)): \(owned) of \(count) bytes copied")
        }
        XCTAssertGreaterThan(memory.withEncodedChunks { $0.count }, 300 * 84 * 84)
        let rollout = RolloutBuffer(capacity: 8, observationSize: 3, actionSize: 2)
        XCTAssertEqual(rollout.withEncodedChunks { $0.ownedCount }, rollout.withEncodedChunks { $0.count })
    }

    /// A frame buffer decoded from its chunks, read straight into the storage, encodes to the same bytes.
    func testFrameBufferRoundTripsThroughItsChunks() throws {
        let a = EncodingFixtures.frameReplayBuffer()
        let b = FrameReplayBuffer(capacity: a.capacity, frameSize: a.frameSize, stackSize: a.stackSize)
        var r = ByteReader(a.withEncodedChunks { $0.bytes })
        try b.decode(from: &r)
        XCTAssertTrue(r.isAtEnd)
        XCTAssertEqual(b.encoded, a.encoded)
        var cut = ByteReader(Array(a.encoded.dropLast(1)))
        XCTAssertThrowsError(try FrameReplayBuffer(capacity: a.capacity, frameSize: a.frameSize, stackSize: a.stackSize)
            .decode(from: &cut)) { XCTAssertTrue("\($0)".contains("length field") || "\($0)".contains("truncated"), "\($0)") }
    }

    /// Data refused by the vector buffer's decode (final indices out of order, an array of the wrong size, a cut
    /// end) leaves a filled buffer exactly as it was, although the arrays are read straight into its storage.
    func testRefusedDataLeavesAFilledBufferAsItWas() throws {
        let source = EncodingFixtures.replayBuffer()
        let good = source.encoded
        // Header: tag, capacity, sizes, count, cursor; then s (40 × 3), a (40 × 2), r, terminated, final indices.
        let indexStart = 6 * 8 + (8 + 40 * 3 * 4) + (8 + 40 * 2 * 4) + 2 * (8 + 40 * 4) + 8
        var swapped = good
        var firstFinal: Int?
        for k in 0..<40 {
            let at = indexStart + 4 * k
            if swapped[at] != 0xFF { if let f = firstFinal { swapped.swapAt(f, at); break } else { firstFinal = at } }
        }
        var shortPending = good
        shortPending.removeLast(3 * 4)
        shortPending.replaceSubrange(shortPending.count - 8 ..< shortPending.count, with: [UInt8](repeating: 0, count: 8))
        for bytes in [swapped, shortPending, Array(good.dropLast(1))] {
            XCTAssertNotEqual(bytes, good)
            let target = ReplayBuffer(capacity: 40, observationSize: 3, actionSize: 2)
            var stream = EpisodeStream(seed: 99, observationSize: 3, actionSize: 2, maxLength: 6)
            for _ in 0..<57 { target.add(stream.next()) }
            let before = target.encoded
            var r = ByteReader(bytes)
            XCTAssertThrowsError(try target.decode(from: &r))
            XCTAssertEqual(target.encoded, before)
        }
    }
}
