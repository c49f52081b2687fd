import Agents
import Environments
import Foundation
import SparrowCore

/// The checkpoint container: `SPRWCKPT` magic, format version, payload length, CRC-32 of the payload, payload.
/// The payload starts with the run's resolved config (JSON) so a checkpoint names its env and algorithm before
/// anything else is decoded. Files are written atomically (temporary file, fsync, rename).
///
/// Versions: 2 holds the replay buffer with each observation once (`ReplayBuffer.encode`); 1 held s and s′ in
/// full. Both are read (a version-1 buffer is converted on load, so an old run resumes exactly); 2 is written.
public enum CheckpointFile {
    public static let magic: [UInt8] = Array("SPRWCKPT".utf8)
    /// The version written.
    public static let version: UInt32 = 2
    /// The versions read.
    public static let readableVersions: ClosedRange<UInt32> = 1...version
    public static let fileName = "checkpoint.sparrow"

    public static func write(config: TrainConfig, payload: [UInt8], to path: String) throws {
        try write(config: config, payload: ByteChunks(payload), to: path)
    }

    /// Writes the config then `payload`'s pieces, streamed to the file: nothing of the payload's size is built in
    /// memory (`ChecksummedFrame.write`).
    public static func write(config: TrainConfig, payload: ByteChunks, to path: String) throws {
        var body = ByteChunks()
        body.write(try config.json())
        body.append(payload)
        try ChecksummedFrame.write(magic: magic, version: version, payload: body, to: path)
    }

    /// Reads and verifies a checkpoint; returns its config and the rest of the payload. The file is mapped, not
    /// copied: the checksum is computed where it lies and the reader decodes from the mapping (`MappedFile`).
    public static func read(_ path: String) throws -> (config: TrainConfig, payload: ByteReader) {
        let file: MappedFile
        do { file = try MappedFile(path) } catch { throw CheckpointError("cannot read checkpoint \(path)") }
        do {
            var payload = try ChecksummedFrame.unframe(ByteReader(file), magic: magic, versions: readableVersions,
                                                       kind: "Sparrow checkpoint").payload
            let json = try payload.read(String.self)
            let config = try JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8))
            return (config, payload)
        } catch let e as FormatError {
            throw CheckpointError("checkpoint \(path): \(e)")
        } catch let e as CheckpointError { throw e } catch {
            throw CheckpointError("checkpoint \(path): unreadable config (\(error))")
        }
    }

    /// Whether the file at `path` starts with the checkpoint magic.
    public static func isCheckpointFile(_ path: String) -> Bool { AtomicFile.starts(path, with: magic) }

    /// A run directory's checkpoint, or the path itself if it names a file.
    public static func locate(_ runDirOrFile: String) -> String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: runDirOrFile, isDirectory: &isDir), isDir.boolValue {
            return (runDirOrFile as NSString).appendingPathComponent(fileName)
        }
        return runDirOrFile
    }
}

public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The payload of a training checkpoint, after the config `CheckpointFile` puts first:
///
///     agent state (length-prefixed bytes: `Agent.encode`) | loop state (`LoopState`)
///     | environment state (`TrainingEnvironment.encodeState`) | replay buffer (`ReplayBuffer.encode`)
///
/// and the agent alone, for the commands that only act (`eval`, `replay`, `export`, reports).
public enum TrainingCheckpoint {
    static func write(config: TrainConfig, agent: any Agent, loop: LoopState, elapsed: Double,
                      env: any TrainingEnvironment, buffer: any TrainingMemory, to path: String) throws {
        var agentBytes = ByteWriter()
        try agent.encode(into: &agentBytes)
        var w = ByteWriter()
        loop.encode(into: &w, elapsed: elapsed)
        env.encodeState(into: &w)
        // The buffer (gigabytes for Atari) lends its storage: the file is written from it, never from a copy.
        try buffer.withEncodedChunks { memory in
            var payload = ByteChunks()
            payload.write(bytes: agentBytes.bytes)
            payload.append(w.bytes)
            payload.append(memory)
            try CheckpointFile.write(config: config, payload: payload, to: path)
        }
    }

    /// Restores agent, environment and buffer from the checkpoint at `path` and returns the loop state. The
    /// checkpoint's settings must be `config`'s.
    static func restore(from path: String, config: TrainConfig, agent: any Agent, env: any TrainingEnvironment,
                        buffer: any TrainingMemory) throws -> LoopState {
        var (saved, r) = try CheckpointFile.read(path)
        if saved.env != config.env {
            throw CheckpointError("checkpoint \(path) is for env \(saved.env), not \(config.env)")
        }
        if saved.agent.algorithm != config.agent.algorithm {
            throw CheckpointError("checkpoint \(path) is for algorithm \(saved.agent.algorithm.rawValue), not \(config.agent.algorithm.rawValue)")
        }
        if saved != config {
            let a = (try? saved.json()) ?? "", b = (try? config.json()) ?? ""
            let diff = zip(a.split(separator: "\n"), b.split(separator: "\n")).first { $0 != $1 }
            throw CheckpointError("checkpoint \(path) was made with other settings (\(diff.map { "\($0.0.trimmingCharacters(in: .whitespaces)) vs \($0.1.trimmingCharacters(in: .whitespaces))" } ?? "")); resume with the run's own config")
        }
        do {
            var agentReader = ByteReader(try r.readBytes())
            try agent.decode(from: &agentReader)
            guard agentReader.isAtEnd else { throw FormatError.corrupt("agent state has trailing bytes") }
            let loop = try LoopState.decode(from: &r)
            try env.decodeState(from: &r)
            try buffer.decode(from: &r)
            guard r.isAtEnd else { throw FormatError.corrupt("\(r.remaining) unexpected trailing bytes") }
            return loop
        } catch let e as FormatError {
            throw CheckpointError("checkpoint \(path): \(e)")
        }
    }

    /// The trained agent of a checkpoint (its config, and the agent ready to act), without the replay buffer.
    /// `adjust` may change what only acting reads before the agent is built (`sparrow eval --eval-epsilon`).
    public static func loadAgent(checkpoint path: String, adjust: (inout TrainConfig) throws -> Void = { _ in }) throws
        -> (config: TrainConfig, agent: any Agent) {
        var (config, r) = try CheckpointFile.read(path)
        try adjust(&config)
        RunDensePath.chooseForLoading(config: config, checkpoint: path)
        let env = try config.makeEnvironment()
        let agent = try AgentFactory.makeAgent(config: config, env: env)
        do {
            var a = ByteReader(try r.readBytes())
            try agent.decode(from: &a)
        } catch let e as FormatError {
            throw CheckpointError("checkpoint \(path): \(e)")
        }
        return (config, agent)
    }
}
