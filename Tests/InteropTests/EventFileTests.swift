import Foundation
@testable import Interop
@testable import Training
import XCTest

/// The event file's framing and resume cut, against definitions (TensorBoard's own reader checks the files in
/// `make test-interop`, tools/interop/check_tensorboard.py).
final class EventFileTests: XCTestCase {
    func directory(_ name: String = #function) throws -> String {
        let d = NSTemporaryDirectory() + "sparrow-events-\(name.filter(\.isLetter))-\(getpid())"
        try? FileManager.default.removeItem(atPath: d)
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// The CRC-32C check value of "123456789" (RFC 3720 / the Castagnoli catalogue) and TFRecord's mask.
    func testCRC32CCheckValueAndMask() {
        let c = CRC32C.checksum(Array("123456789".utf8))
        XCTAssertEqual(c, 0xE306_9283)
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), ((c >> 15) | (c << 17)) &+ 0xA282_EAD8)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)  // RFC 3720 B.4
    }

    /// A framed record is length (LE u64) + masked CRC + data + masked CRC; the reader stops at a torn or flipped one.
    func testFramingRoundTripsAndRejectsTornRecords() {
        var bytes: [UInt8] = []
        TFRecord.frame([1, 2, 3], into: &bytes)
        TFRecord.frame(Array(repeating: 7, count: 300), into: &bytes)
        XCTAssertEqual(bytes.count, 16 + 3 + 16 + 300)
        XCTAssertEqual(Array(bytes[0..<8]), [3, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(TFRecord.records(in: bytes), [[1, 2, 3], Array(repeating: 7, count: 300)])
        XCTAssertEqual(TFRecord.records(in: Array(bytes.dropLast(1))), [[1, 2, 3]])
        var flipped = bytes
        flipped[13] ^= 1
        XCTAssertEqual(TFRecord.records(in: flipped), [])
    }

    /// First record "brain.Event:2"; scalars reach the file at flush, not before; a resume keeps steps ≤ the cut
    /// in the same (single) file and appends after them.
    func testBufferingAndResumeCut() throws {
        let d = try directory()
        var w: EventFileWriter? = try EventFileWriter(directory: d, keepingStepsUpTo: nil)
        let path = w!.path
        XCTAssertTrue((path as NSString).lastPathComponent.hasPrefix("events.out.tfevents."))
        let first = TFRecord.records(in: Array(FileManager.default.contents(atPath: path)!))
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(try Tensorboard_Event(serializedBytes: first[0]).fileVersion, "brain.Event:2")
        for s in [100, 200, 300] { w!.add(step: s, scalars: [("a", Double(s)), ("nan", .nan), ("none", nil)]) }
        XCTAssertEqual(EventFileWriter.scalars(inFile: path).count, 0, "buffered until flush")
        try w!.flush()
        XCTAssertEqual(EventFileWriter.scalars(inFile: path).map(\.step), [100, 200, 300])
        XCTAssertEqual(Set(EventFileWriter.scalars(inFile: path).map(\.tag)), ["a"])
        w = nil

        let r = try EventFileWriter(directory: d, keepingStepsUpTo: 200)
        XCTAssertEqual(r.path, path)
        r.add(step: 250, scalars: [("a", 2.5)])
        try r.flush()
        XCTAssertEqual(EventFileWriter.scalars(inFile: path).map(\.step), [100, 200, 250])
        XCTAssertEqual(EventFileWriter.scalars(inFile: path).last?.value, 2.5)
        let files = try FileManager.default.contentsOfDirectory(atPath: d)
        XCTAssertEqual(files, [(path as NSString).lastPathComponent])
        let versions = TFRecord.records(in: Array(FileManager.default.contents(atPath: path)!))
            .filter { (try? Tensorboard_Event(serializedBytes: $0))?.fileVersion == "brain.Event:2" }
        XCTAssertEqual(versions.count, 1)

        // A fresh run in the same folder starts a new file.
        _ = try EventFileWriter(directory: d, keepingStepsUpTo: nil)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: d).count == 1)
    }

    /// RunLogs writes each metrics row and evaluation to its CSV and the event file under the documented tags.
    func testRunLogsWritesEveryColumnUnderItsTag() throws {
        let d = try directory()
        let logs = RunLogs(directory: d)
        try logs.start(keepingRowsUpTo: nil)
        var row = MetricsRow()
        row.step = 1000; row.stepsPerSecond = 123.4; row.episodeReturn = 5; row.criticLoss = 0.5; row.actorLoss = -1
        row.alpha = 0.2; row.meanQ = 3; row.liveParameters = 42; row.actorSparsity = 0.9; row.criticSparsity = 0.8
        row.trainingFLOPs = 1e12; row.wallTime = 2
        try logs.append(row)
        try logs.append(Evaluation(step: 1000, meanReturn: 7, stdReturn: 1, episodes: 2))
        let s = EventFileWriter.scalars(inFile: try XCTUnwrap(logs.eventFile))
        let byTag = Dictionary(uniqueKeysWithValues: s.map { ($0.tag, $0.value) })
        XCTAssertEqual(byTag["charts/SPS"], 123.4)
        XCTAssertEqual(byTag["sparsity/live_params"], 42)
        XCTAssertEqual(byTag["charts/training_flops"], 1e12)
        XCTAssertEqual(byTag["charts/eval_return"], 7)
        XCTAssertEqual(byTag.count, 14)
        XCTAssertEqual(try String(contentsOfFile: d + "/metrics.csv", encoding: .utf8).split(separator: "\n").count, 2)
    }
}

/// What the logs cost: one metrics row (CSV line + event + flush) per `log-every` steps (1000 by default).
final class RunLogsCostTests: XCTestCase {
    func testAMetricsRowCostsWellUnderAMillisecond() throws {
        let d = NSTemporaryDirectory() + "sparrow-logcost-\(getpid())"
        try? FileManager.default.removeItem(atPath: d)
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        let logs = RunLogs(directory: d)
        try logs.start(keepingRowsUpTo: nil)
        var row = MetricsRow()
        row.episodeReturn = 1; row.criticLoss = 1; row.actorLoss = 1; row.alpha = 1; row.meanQ = 1
        let n = 2000
        let t0 = Date()
        for i in 1...n { row.step = i * 1000; row.stepsPerSecond = Double(i); try logs.append(row) }
        let perRow = Date().timeIntervalSince(t0) / Double(n)
        print("RunLogs: \(String(format: "%.1f", perRow * 1e6)) µs per metrics row (CSV + event + flush), "
              + "\(String(format: "%.3f", perRow * 1e6 / 1000)) µs per training step at log-every 1000")
        XCTAssertLessThan(perRow, 1e-3)
        XCTAssertEqual(EventFileWriter.scalars(inFile: try XCTUnwrap(logs.eventFile)).count, n * 11)
    }
}
