import Foundation
import XCTest
@testable import SparrowCore

final class ByteCodingTests: XCTestCase {
    func testRoundTripOfEveryKind() throws {
        var w = ByteWriter()
        w.write(UInt8(7)); w.write(UInt32(0xDEAD_BEEF)); w.write(-42); w.write(true)
        w.write(Float(-1.5)); w.write(Double.pi); w.write("sparrow ✓")
        w.write([Float(1), .infinity, -0.0]); w.write([Int32(3), -4]); w.write([UInt64.max])
        w.write(bytes: [1, 2, 3])
        var r = ByteReader(w.bytes)
        XCTAssertEqual(try r.read(UInt8.self), 7)
        XCTAssertEqual(try r.read(UInt32.self), 0xDEAD_BEEF)
        XCTAssertEqual(try r.read(Int.self), -42)
        XCTAssertEqual(try r.read(Bool.self), true)
        XCTAssertEqual(try r.read(Float.self), -1.5)
        XCTAssertEqual(try r.read(Double.self), .pi)
        XCTAssertEqual(try r.read(String.self), "sparrow ✓")
        let f = try r.read([Float].self)
        XCTAssertEqual(f.map(\.bitPattern), [Float(1), .infinity, -0.0].map(\.bitPattern))
        XCTAssertEqual(try r.read([Int32].self), [3, -4])
        XCTAssertEqual(try r.read([UInt64].self), [.max])
        XCTAssertEqual(try r.readBytes(), [1, 2, 3])
        XCTAssertTrue(r.isAtEnd)
    }

    func testTruncatedAndCorruptLengthsThrow() {
        var w = ByteWriter()
        w.write([Double](repeating: 1, count: 10))
        var r = ByteReader(Array(w.bytes.dropLast(3)))
        XCTAssertThrowsError(try r.read([Double].self)) { XCTAssertTrue("\($0)".contains("corrupted") || "\($0)".contains("truncated")) }
        var huge = ByteWriter(); huge.write(Int.max / 2)
        var r2 = ByteReader(huge.bytes)
        XCTAssertThrowsError(try r2.read([Float].self))
        var r3 = ByteReader([1, 2])
        XCTAssertThrowsError(try r3.read(UInt32.self)) { XCTAssertEqual($0 as? FormatError, .truncated(needed: 4, available: 2)) }
    }

    func testCRC32MatchesZlib() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)  // the standard check value
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
    }

    func testAtomicWriteReplacesWholeFileAndLeavesNoTemporary() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-atomic-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f.bin").path
        try AtomicFile.write([1, 2, 3], to: path)
        try AtomicFile.write(Array(repeating: 9, count: 3_000_000), to: path)
        XCTAssertEqual(try AtomicFile.read(path).count, 3_000_000)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["f.bin"])
        XCTAssertThrowsError(try AtomicFile.write([1], to: dir.appendingPathComponent("no/such/dir/f").path))
    }
}
