import Agents
import Environments
import Foundation
import SparrowCore
import XCTest
@testable import Training

/// Checkpoints written as a stream (the replay buffer's own storage goes to the file) and read in place (the file is
/// mapped and decoded into the buffer): byte for byte the file the concatenating code wrote, and without a copy of
/// the buffer in memory.
final class StreamingCheckpointTests: XCTestCase {
    /// The checkpoint as `TrainingCheckpoint.write` made it before streaming: every part encoded into one array,
    /// the arrays concatenated, the whole framed. The twin the streamed file must equal.
    func concatenatedCheckpoint(config: TrainConfig, agent: any Agent, loop: LoopState, elapsed: Double,
                                env: any TrainingEnvironment, buffer: any TrainingMemory) throws -> [UInt8] {
        var agentBytes = ByteWriter()
        try agent.encode(into: &agentBytes)
        var w = ByteWriter()
        w.write(bytes: agentBytes.bytes)
        loop.encode(into: &w, elapsed: elapsed)
        env.encodeState(into: &w)
        buffer.encode(into: &w)
        var body = ByteWriter()
        body.write(try config.json())
        return ChecksummedFrame.frame(magic: CheckpointFile.magic, version: CheckpointFile.version, payload: body.bytes + w.bytes)
    }

    /// A frame memory of `capacity` Atari-sized slots, filled with distinct frames and an episode end every 97 steps.
    func filledFrameMemory(capacity: Int, adds: Int) -> FrameReplayMemory {
        let frameSize = 84 * 84
        let memory = FrameReplayMemory(capacity: capacity, frameSize: frameSize, stackSize: 4)
        var frame = [UInt8](repeating: 0, count: frameSize), next = frame
        for step in 0..<adds {
            for i in stride(from: 0, to: frameSize, by: 97) { next[i] = UInt8(truncatingIfNeeded: step &+ i) }
            next[0] = UInt8(truncatingIfNeeded: step)
            let ended = step % 97 == 96
            frame.withUnsafeBufferPointer { f in
                next.withUnsafeBufferPointer { n in
                    memory.frames.add(frame: f, action: step % 4, reward: Double(step % 3), terminated: ended, nextFrame: n,
                                      episodeEnded: ended)
                }
            }
            frame = ended ? next.map { 255 - $0 } : next
        }
        return memory
    }

    /// A SAC run's checkpoint (vector replay buffer, wrapped) and the same agent with an Atari frame memory: the
    /// streamed file equals the concatenated one byte for byte, and resuming from it (read in place) restores the
    /// memory exactly.
    func testStreamedCheckpointIsTheConcatenatedFileByteForByte() throws {
        let config = try smallConfig("tows-sac", ["steps": 700, "buffer-size": 300])
        let dir = temporaryRunDirectory(), other = temporaryRunDirectory("other")
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: other) }
        let trainer = try OffPolicyTrainer(config: config, runDirectory: dir, resume: false)
        XCTAssertEqual(try trainer.run(stopAfter: 650, finalCheckpoint: false).outcome, .interrupted)
        XCTAssertEqual(trainer.buffer.count, 300)
        let frames = filledFrameMemory(capacity: 120, adds: 300)
        let memories: [(String, any TrainingMemory, () -> any TrainingMemory)] = [
            ("replay buffer", trainer.buffer, {
                ReplayBuffer(capacity: 300, observationSize: trainer.buffer.observationSize, actionSize: trainer.buffer.actionSize)
            }),
            ("frame memory", frames, { FrameReplayMemory(capacity: 120, frameSize: 84 * 84, stackSize: 4) }),
        ]
        for (name, memory, makeEmpty) in memories {
            let path = dir + "/streamed.sparrow"
            try TrainingCheckpoint.write(config: config, agent: trainer.agent, loop: trainer.session.loop, elapsed: 12.5,
                                         env: trainer.env, buffer: memory, to: path)
            let twin = try concatenatedCheckpoint(config: config, agent: trainer.agent, loop: trainer.session.loop,
                                                  elapsed: 12.5, env: trainer.env, buffer: memory)
            let streamed = try AtomicFile.read(path)
            XCTAssertEqual(streamed.count, twin.count, name)
            XCTAssertTrue(streamed == twin, "\(name): the streamed checkpoint differs from the concatenated one")

            let fresh = try OffPolicyTrainer(config: config, runDirectory: other, resume: false)
            let restored = makeEmpty()
            let loop = try TrainingCheckpoint.restore(from: path, config: config, agent: fresh.agent, env: fresh.env,
                                                      buffer: restored)
            XCTAssertEqual(loop.step, 650, name)
            XCTAssertTrue(restored.withEncodedChunks { $0.bytes } == memory.withEncodedChunks { $0.bytes },
                          "\(name): the resumed memory differs")
            try FileManager.default.removeItem(atPath: other)
        }
    }

    /// The resident set (VmRSS; its peak VmHWM, reset through /proc/self/clear_refs), in bytes.
    func memoryStatus(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }),
              let kB = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kB * 1024
    }

    func resetPeak() -> Bool {
        guard let f = fopen("/proc/self/clear_refs", "w") else { return false }
        defer { fclose(f) }
        return fputs("5", f) >= 0
    }

    /// Writing and resuming the checkpoint of a 50,000-frame Atari memory (353 MB of frames) grows the resident set
    /// by much less than one copy of the frames while writing, and by about the restored memory itself (which is
    /// touched as it is filled) while reading. The concatenating code needed two to three extra copies for each.
    func testALargeFrameMemoryIsCheckpointedWithoutACopyOfIt() throws {
        guard resetPeak(), memoryStatus("VmHWM") != nil else { throw XCTSkip("peak RSS cannot be reset here") }
        let capacity = 50_000, size = capacity * 84 * 84
        let config = try smallConfig("tows-sac", ["steps": 700])
        let dir = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try OffPolicyTrainer(config: config, runDirectory: dir, resume: false)
        let memory = filledFrameMemory(capacity: capacity, adds: capacity + 500)
        let path = dir + "/large.sparrow"

        XCTAssertTrue(resetPeak())
        let beforeWrite = memoryStatus("VmRSS")!
        try TrainingCheckpoint.write(config: config, agent: trainer.agent, loop: trainer.session.loop, elapsed: 1,
                                     env: trainer.env, buffer: memory, to: path)
        let writeGrowth = memoryStatus("VmHWM")! - beforeWrite

        let restored = FrameReplayMemory(capacity: capacity, frameSize: 84 * 84, stackSize: 4)
        XCTAssertTrue(resetPeak())
        let beforeRead = memoryStatus("VmRSS")!
        _ = try TrainingCheckpoint.restore(from: path, config: config, agent: trainer.agent, env: trainer.env, buffer: restored)
        let readGrowth = memoryStatus("VmHWM")! - beforeRead

        print("checkpoint of \(size >> 20) MiB of frames: peak RSS +\(writeGrowth >> 20) MiB writing, +\(readGrowth >> 20) MiB resuming")
        XCTAssertLessThan(writeGrowth, size / 4, "writing made a copy of the frames")
        XCTAssertLessThan(readGrowth, size + size / 4, "resuming made a copy of the frames beside the restored memory")
        XCTAssertEqual(restored.withEncodedChunks { $0.crc32 }, memory.withEncodedChunks { $0.crc32 })
    }
}
