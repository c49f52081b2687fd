import SparrowCore
import SparrowTestSupport
import XCTest
@testable import Viewer

final class PNGTests: XCTestCase {
    /// A test card: gradients, flat areas (long LZ77 matches), noise (literals) and a repeated motif (far matches).
    func testCard(width w: Int, height h: Int) -> [UInt8] {
        var g = Generator(seed: 1)  // fixed test data
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                if y < h / 4 { rgb[i] = UInt8(x * 255 / max(w - 1, 1)); rgb[i + 1] = UInt8(y * 255 / max(h - 1, 1)); rgb[i + 2] = 90 }
                else if y < h / 2 { rgb[i] = 200; rgb[i + 1] = 200; rgb[i + 2] = 200 }
                else if y < 3 * h / 4 { rgb[i] = UInt8.random(in: 0...255, using: &g); rgb[i + 1] = UInt8.random(in: 0...255, using: &g); rgb[i + 2] = UInt8(x & 0xFF) }
                else { let on = ((x / 8) + (y / 8)) % 2 == 0; rgb[i] = on ? 240 : 20; rgb[i + 1] = on ? 240 : 20; rgb[i + 2] = on ? 250 : 30 }
            }
        }
        return rgb
    }

    func testEncodedImagesDecodeToTheSamePixelsCompressedAndStored() throws {
        for (w, h) in [(1, 1), (3, 2), (97, 61), (320, 240)] {
            let rgb = testCard(width: w, height: h)
            for compress in [true, false] {
                let png = PNG.encode(rgb: rgb, width: w, height: h, compress: compress)
                let image = try ReferencePNG.decode(png)
                XCTAssertEqual(image.width, w); XCTAssertEqual(image.height, h)
                XCTAssertEqual(image.rgb, rgb, "\(w)×\(h) compress=\(compress)")
                XCTAssertEqual(image.filtered, PNG.filterRows(rgb, width: w, height: h))
            }
        }
    }

    func testDeflateRoundTripsEdgeCasesAndCompresses() throws {
        var cases: [[UInt8]] = [[], [7], [1, 2], Array(repeating: 0, count: 100_000), Array("abcabcabcabcabcabcabc".utf8)]
        cases.append((0..<70_000).map { UInt8(($0 * 31 + $0 / 7) & 0xFF) })  // longer than one stored block and the window
        var g = Generator(seed: 1)  // fixed test data
        cases.append((0..<5000).map { _ in UInt8.random(in: 0...255, using: &g) })
        for data in cases {
            for compress in [true, false] {
                let z = Deflate.zlib(data, compress: compress)
                XCTAssertEqual(try ReferencePNG.inflate(z, expected: data.count), data, "\(data.count) bytes, compress=\(compress)")
            }
        }
        XCTAssertLessThan(Deflate.zlib(Array(repeating: 0, count: 100_000)).count, 1000)
    }

    func testChecksumsMatchKnownValues() {
        XCTAssertEqual(Deflate.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        XCTAssertEqual(Deflate.adler32([]), 1)
        // Adler-32 of 1 MB of 0xFF exercises the modulo folding.
        let big = [UInt8](repeating: 0xFF, count: 1 << 20)
        var a: UInt64 = 1, b: UInt64 = 0
        for x in big { a = (a + UInt64(x)) % 65521; b = (b + a) % 65521 }
        XCTAssertEqual(Deflate.adler32(big), UInt32(b << 16 | a))
    }
}
