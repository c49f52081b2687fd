import Foundation
import SparrowCore

/// The checkpoint container: `SPRWCKPT` magic, format version, payload length, CRC-32 of the payload, payload.
/// The payload starts with the run's resolved config (JSON) so a checkpoint names its env and algorithm before
/// anything else is decoded. Files are written atomically (temporary file, fsync, rename).
public enum CheckpointFile {
    public static let magic: [UInt8] = Array("SPRWCKPT".utf8)
    public static let version: UInt32 = 1
    public static let fileName = "checkpoint.sparrow"

    public static func write(config: TrainConfig, payload: [UInt8], to path: String) throws {
        var body = ByteWriter()
        body.write(try config.json())
        var out = ByteWriter()
        let content = body.bytes + payload
        for b in magic { out.write(b) }
        out.write(version)
        out.write(content.count)
        out.write(CRC32.checksum(content))
        try AtomicFile.write(out.bytes + content, to: path)
    }

    /// Reads and verifies a checkpoint; returns its config and the rest of the payload.
    public static func read(_ path: String) throws -> (config: TrainConfig, payload: ByteReader) {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path) } catch { throw CheckpointError("cannot read checkpoint \(path)") }
        do {
            var r = ByteReader(bytes)
            for b in magic where try r.read(UInt8.self) != b { throw FormatError.badMagic(expected: "Sparrow checkpoint") }
            let v = try r.read(UInt32.self)
            guard v == version else { throw FormatError.unsupportedVersion(found: v, supported: version) }
            let length = try r.read(Int.self)
            let crc = try r.read(UInt32.self)
            guard length == r.remaining else {
                throw length > r.remaining ? FormatError.truncated(needed: length, available: r.remaining)
                    : FormatError.corrupt("\(r.remaining - length) unexpected trailing bytes")
            }
            let content = Array(bytes[r.offset...])
            guard CRC32.checksum(content) == crc else { throw FormatError.checksumMismatch }
            var payload = ByteReader(content)
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
