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
        var body = ByteWriter()
        body.write(try config.json())
        try AtomicFile.write(ChecksummedFrame.frame(magic: magic, version: version, payload: body.bytes + payload), to: path)
    }

    /// Reads and verifies a checkpoint; returns its config and the rest of the payload.
    public static func read(_ path: String) throws -> (config: TrainConfig, payload: ByteReader) {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path) } catch { throw CheckpointError("cannot read checkpoint \(path)") }
        do {
            var payload = ByteReader(try ChecksummedFrame.unframe(bytes, magic: magic, versions: readableVersions,
                                                                  kind: "Sparrow checkpoint").payload)
            let json = try payload.read(String.self)
            let config = try JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8))
            return (config, payload)
        } catch let e as FormatError {
            throw CheckpointError("checkpoint \(path): \(e)")
        } catch let e as CheckpointError { throw e } catch {
            throw CheckpointError("checkpoint \(path): unreadable config (\(error))")
        }
    }

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
