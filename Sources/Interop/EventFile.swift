import Foundation
import SparrowCore
import SwiftProtobuf

/// A TensorBoard event file (`events.out.tfevents.<seconds>.<host>`): TFRecord-framed `Event` protos, the first
/// holding `file_version` "brain.Event:2". Scalars are buffered in memory and reach the file at `flush()`.
///
/// Resume: `open(directory:keepingStepsUpTo:)` finds the directory's event file(s), keeps the records with
/// step ≤ the checkpoint's step (the same cut `metrics.csv` gets), writes them to one file atomically (a
/// temporary file renamed over the first one, others removed), then appends to it — so a resumed run continues
/// its curves with no duplicate and no jump back, and TensorBoard sees one run per directory.
public final class EventFileWriter {
    public static let fileVersion = "brain.Event:2"
    public static let prefix = "events.out.tfevents."
    public let path: String
    private var pending: [UInt8] = []
    private var handle: FileHandle?
    /// One reusable event (its summary holds one value per `add` between flushes).
    private var event = Tensorboard_Event()

    /// Opens the run's event file in `directory`: a new one when `step` is nil (existing ones are removed: a fresh
    /// run), or the existing one cut to records with step ≤ `step` (a resume; a new one if there is none).
    public init(directory: String, keepingStepsUpTo step: Int?) throws {
        let fm = FileManager.default
        let existing = ((try? fm.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix(Self.prefix) && !$0.hasSuffix(".tmp") && !$0.contains(".tmp-") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
        if let step, let first = existing.first {
            path = first
            var kept: [UInt8] = []
            var records: [[UInt8]] = []
            for file in existing {
                guard let data = fm.contents(atPath: file) else { continue }
                records += TFRecord.records(in: Array(data))
            }
            var wroteVersion = false
            for r in records {
                guard let e = try? Tensorboard_Event(serializedBytes: r) else { continue }
                if case .fileVersion = e.what {
                    if wroteVersion { continue }
                    wroteVersion = true
                } else if e.step > step { continue }
                TFRecord.frame(r, into: &kept)
            }
            if !wroteVersion { kept = Self.versionRecord() + kept }
            // Whole or not at all (a full disk leaves the old file), with the path and the reason on failure.
            try AtomicFile.write(kept, to: first)
            for other in existing.dropFirst() { try? fm.removeItem(atPath: other) }
        } else {
            for file in existing { try? fm.removeItem(atPath: file) }
            let host = ProcessInfo.processInfo.hostName
            path = (directory as NSString).appendingPathComponent(
                "\(Self.prefix)\(Int(Date().timeIntervalSince1970)).\(host)")
            try AtomicFile.write(Self.versionRecord(), to: path)
        }
        handle = FileHandle(forWritingAtPath: path)
        handle?.seekToEndOfFile()
        pending.reserveCapacity(4096)
    }

    deinit { try? flush(); try? handle?.close() }

    static func versionRecord() -> [UInt8] {
        var e = Tensorboard_Event()
        e.wallTime = Date().timeIntervalSince1970
        e.fileVersion = fileVersion
        var out: [UInt8] = []
        TFRecord.frame(try! e.serializedBytes(), into: &out)  // a message of plain fields always encodes
        return out
    }

    /// Queues one event holding `scalars` (tag, value) at `step`; non-finite values are left out, as in the CSVs.
    public func add(step: Int, scalars: [(String, Double?)], wallTime: Double = Date().timeIntervalSince1970) {
        event.wallTime = wallTime
        event.step = Int64(step)
        var summary = Tensorboard_Summary()
        for (tag, value) in scalars {
            guard let value, value.isFinite else { continue }
            var v = Tensorboard_Summary.Value()
            v.tag = tag
            v.simpleValue = Float(value)
            summary.value.append(v)
        }
        guard !summary.value.isEmpty else { return }
        event.summary = summary
        TFRecord.frame(try! event.serializedBytes(), into: &pending)  // plain fields (tag, float, step, time): encoding cannot fail
    }

    /// Writes the queued events to the file, whole or not at all (a failure, e.g. a full disk, throws one line and
    /// leaves the file as it was).
    public func flush() throws {
        guard !pending.isEmpty, let handle else { return }
        defer { pending.removeAll(keepingCapacity: true) }
        try AtomicFile.appendWhole(pending, fileDescriptor: handle.fileDescriptor, path: path)
    }

    /// The (step, tag, value) scalars of an event file, for tests.
    public static func scalars(inFile path: String) -> [(step: Int, tag: String, value: Float)] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var out: [(step: Int, tag: String, value: Float)] = []
        for r in TFRecord.records(in: Array(data)) {
            guard let e = try? Tensorboard_Event(serializedBytes: r), case .summary(let s) = e.what else { continue }
            for v in s.value { out.append((Int(e.step), v.tag, v.simpleValue)) }
        }
        return out
    }
}
