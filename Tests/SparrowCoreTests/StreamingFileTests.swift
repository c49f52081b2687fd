import Foundation
import XCTest
@testable import SparrowCore

/// The streamed container: an incremental CRC-32, a frame written from pieces, and a frame read in place from a
/// mapped file, each held against the plain path (`CRC32.checksum` a byte a step, `ChecksummedFrame.frame` and
/// `unframe` of one array).
final class StreamingFileTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "sparrow-stream-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    let magic = Array("SPRWTEST".utf8)

    func randomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var g = Generator(seed: seed)
        return (0..<n).map { _ in UInt8(truncatingIfNeeded: g.nextInt(below: 256)) }
    }

    /// The eight-bytes-a-step CRC over pieces cut anywhere (odd lengths, unaligned starts) equals the byte-a-step
    /// reference over the whole, and the standard check value.
    func testIncrementalCRCEqualsTheBytewiseReference() {
        var check = CRC32()
        Array("123456789".utf8).withUnsafeBytes { check.update($0) }
        XCTAssertEqual(check.value, 0xCBF4_3926)
        XCTAssertEqual(CRC32().value, 0)
        var g = Generator(seed: 1)
        for length in [0, 1, 7, 8, 9, 63, 1000, 100_003] {
            let bytes = randomBytes(length, seed: UInt64(length))
            var crc = CRC32()
            var at = 0
            bytes.withUnsafeBytes { raw in
                while at < length {
                    let n = min(length - at, 1 + g.nextInt(below: 40))
                    crc.update(UnsafeRawBufferPointer(rebasing: raw[at..<at + n]))
                    at += n
                }
            }
            XCTAssertEqual(crc.value, CRC32.checksum(bytes), "length \(length)")
        }
    }

    /// Chunks (owned scalars, borrowed arrays large and small, empty ones) are the bytes a `ByteWriter` makes with
    /// the same calls, and the file written from them is `frame` of those bytes, byte for byte.
    func testFrameWrittenFromChunksIsTheConcatenatedFrame() throws {
        let big = (0..<800_000).map { Float($0) * 0.5 }  // 3.2 MB: more than the 1 MiB staging, written in place
        let small: [Int32] = [3, -4, 5], none: [Double] = []
        // The chunks borrow the arrays' storage: keep them alive to the end.
        defer { withExtendedLifetime((big, small, none)) {} }
        var w = ByteWriter(), c = ByteChunks()
        w.write(42); c.write(42)
        w.write(true); c.write(true)
        w.write("config ✓"); c.write("config ✓")
        w.write(bytes: [9, 8, 7]); c.write(bytes: [9, 8, 7])
        big.withUnsafeBufferPointer { w.write($0); c.write($0) }
        small.withUnsafeBufferPointer { w.write($0); c.write($0) }
        none.withUnsafeBufferPointer { w.write($0); c.write($0) }
        w.write(small); c.write(small)
        XCTAssertEqual(c.count, w.bytes.count)
        XCTAssertLessThan(c.ownedCount, 100, "the arrays are borrowed, not copied")
        XCTAssertEqual(c.bytes, w.bytes)
        XCTAssertEqual(c.crc32, CRC32.checksum(w.bytes))

        let path = dir + "/f.bin"
        try ChecksummedFrame.write(magic: magic, version: 3, payload: c, to: path)
        XCTAssertEqual(try AtomicFile.read(path), ChecksummedFrame.frame(magic: magic, version: 3, payload: w.bytes))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["f.bin"], "no temporary left")
        // An empty payload too.
        try ChecksummedFrame.write(magic: magic, version: 3, payload: ByteChunks(), to: path)
        XCTAssertEqual(try AtomicFile.read(path), ChecksummedFrame.frame(magic: magic, version: 3, payload: []))
    }

    /// Read in place from a mapped file, a frame gives the same payload as `unframe` of the array, and every damaged
    /// file is refused with the same error.
    func testMappedUnframeAgreesWithTheArrayOneOnGoodAndDamagedFiles() throws {
        let payload = randomBytes(70_000, seed: 4)
        let good = ChecksummedFrame.frame(magic: magic, version: 2, payload: payload)
        var flipped = good; flipped[good.count - 100] ^= 0x55
        var version = good; version[8] = 9
        var foreign = good; foreign[0] = 0x41
        let cases: [(String, [UInt8], FormatError?)] = [
            ("good", good, nil),
            ("truncated", Array(good.prefix(good.count / 2)), .truncated(needed: payload.count, available: good.count / 2 - 24)),
            ("trailing", good + [0], .corrupt("1 unexpected trailing bytes")),
            ("checksum", flipped, .checksumMismatch),
            ("version", version, .unsupportedVersions(found: 9, supported: 1...2)),
            ("magic", foreign, .badMagic(expected: "Sparrow test")),
            ("empty", [], .truncated(needed: 1, available: 0)),
            ("header only", Array(good.prefix(10)), .truncated(needed: 4, available: 2)),
        ]
        for (name, bytes, expected) in cases {
            let path = dir + "/\(name).bin"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let mapped = Result { try ChecksummedFrame.unframe(ByteReader(try MappedFile(path)), magic: magic, versions: 1...2,
                                                               kind: "Sparrow test") }
            let plain = Result { try ChecksummedFrame.unframe(bytes, magic: magic, versions: 1...2, kind: "Sparrow test") }
            switch (mapped, plain) {
            case let (.success(m), .success(p)):
                XCTAssertNil(expected, name)
                XCTAssertEqual(m.version, p.version)
                XCTAssertEqual(m.payload.withUnsafeRemainingBytes { Array($0) }, p.payload, name)
                XCTAssertEqual(p.payload, payload)
            case let (.failure(m), .failure(p)):
                XCTAssertEqual(m as? FormatError, expected, name)
                XCTAssertEqual(p as? FormatError, expected, name)
            default: XCTFail("\(name): mapped \(mapped), plain \(plain)")
            }
        }
        XCTAssertThrowsError(try MappedFile(dir + "/missing.bin")) {
            XCTAssertEqual("\($0)", "cannot read \(self.dir!)/missing.bin: No such file or directory")
        }
        XCTAssertThrowsError(try MappedFile(dir)) { XCTAssertTrue("\($0)".contains("cannot read \(self.dir!)"), "\($0)") }
    }

    /// `read(into:count:)` copies a stored array into place, and refuses a count other than the expected one (with
    /// the caller's error) or one that runs past the end (as reading an array does).
    func testReadIntoAPointerChecksTheStoredCount() throws {
        var w = ByteWriter()
        w.write([Int32(7), -8, 9])
        let out = UnsafeMutablePointer<Int32>.allocate(capacity: 3)
        defer { out.deallocate() }
        var r = ByteReader(w.bytes)
        try r.read(into: out, count: 3) { _ in .corrupt("unused") }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: out, count: 3)), [7, -8, 9])
        XCTAssertTrue(r.isAtEnd)
        var wrong = ByteReader(w.bytes)
        XCTAssertThrowsError(try wrong.read(into: out, count: 2) { .corrupt("\($0) values") }) {
            XCTAssertEqual($0 as? FormatError, .corrupt("3 values"))
        }
        var cut = ByteReader(Array(w.bytes.dropLast(1)))
        XCTAssertThrowsError(try cut.read(into: out, count: 3) { _ in .corrupt("unused") }) {
            XCTAssertTrue("\($0)".contains("a length field says 3 elements"), "\($0)")
        }
    }

    /// A write that fails part-way (a file-size limit stands in for a full disk) throws naming the path and the
    /// reason, leaves the previous file as it was and no temporary behind.
    func testAFailedStreamedWriteKeepsThePreviousFile() throws {
        let path = dir + "/checkpoint.bin"
        try ChecksummedFrame.write(magic: magic, version: 1, payload: ByteChunks([1, 2, 3]), to: path)
        let before = try AtomicFile.read(path)
        let big = [UInt8](repeating: 7, count: 4 << 20)
        defer { withExtendedLifetime(big) {} }
        var limit = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit), 0)
        let saved = limit
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        limit.rlim_cur = 1 << 20
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit), 0)
        var chunks = ByteChunks()
        big.withUnsafeBytes { chunks.borrow($0) }
        let result = Result { try ChecksummedFrame.write(magic: magic, version: 1, payload: chunks, to: path) }
        var restore = saved
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &restore)
        signal(SIGXFSZ, oldHandler)
        XCTAssertThrowsError(try result.get()) {
            XCTAssertEqual("\($0)", "cannot write \(path): File too large")
        }
        XCTAssertEqual(try AtomicFile.read(path), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["checkpoint.bin"])
        XCTAssertThrowsError(try ChecksummedFrame.write(magic: magic, version: 1, payload: chunks, to: dir + "/no/such/f")) {
            XCTAssertTrue("\($0)".contains("No such file or directory"), "\($0)")
        }
    }
}
