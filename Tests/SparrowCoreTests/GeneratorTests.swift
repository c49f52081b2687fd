import XCTest
@testable import SparrowCore

final class GeneratorTests: XCTestCase {
    func testSameSeedSameStreamDifferentSeedDifferentStream() {
        var a = Generator(seed: 42), b = Generator(seed: 42), c = Generator(seed: 43)
        let sa = (0..<100).map { _ in a.next() }
        XCTAssertEqual(sa, (0..<100).map { _ in b.next() })
        XCTAssertNotEqual(sa, (0..<100).map { _ in c.next() })
    }

    func testStateRoundTripContinuesTheStream() throws {
        var g = Generator(seed: 7)
        for _ in 0..<10 { _ = g.next() }
        let saved = try JSONEncoder().encode(g)
        var restored = try JSONDecoder().decode(Generator.self, from: saved)
        XCTAssertEqual((0..<50).map { _ in g.next() }, (0..<50).map { _ in restored.next() })
        var fromWords = Generator(stateWords: g.stateWords)
        XCTAssertEqual(g.next(), fromWords.next())
    }

    func testUniformAndNormalMoments() {
        var g = Generator(seed: 1)
        let n = 200_000
        var su = 0.0, sn = 0.0, sn2 = 0.0
        var below = 0
        for _ in 0..<n {
            let u = g.nextDouble(); XCTAssert(u >= 0 && u < 1); su += u
            let z = g.normal(); sn += z; sn2 += z * z
            if g.nextInt(below: 10) == 3 { below += 1 }
        }
        XCTAssertEqual(su / Double(n), 0.5, accuracy: 0.005)
        XCTAssertEqual(sn / Double(n), 0.0, accuracy: 0.01)
        XCTAssertEqual(sn2 / Double(n), 1.0, accuracy: 0.02)
        XCTAssertEqual(Double(below) / Double(n), 0.1, accuracy: 0.005)
    }
}
