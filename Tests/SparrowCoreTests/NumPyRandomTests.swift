import Foundation
import XCTest
import SparrowCore

/// Holds `NumPySeedSequence` and `NumPyPCG64` to values recorded from NumPy itself
/// (tools/parity/record_numpy_random.py → Fixtures/numpy-random.json): the mixed pool, `generate_state` in both
/// word sizes, raw 64-bit draws, `Generator.integers` over several ranges (including runs of odd length, which
/// leave half of a 64-bit draw in the 32-bit buffer), and the seeds ale-py's `AtariEnv.seed_game` derives.
final class NumPyRandomTests: XCTestCase {
    struct Case: Decodable {
        let seed: UInt64
        let pool: [UInt32]
        let state32: [UInt32]
        let state64: [UInt64]
        let raw: [UInt64]
        let noops: [Int]
        let others: [[Int]]
        let ale_np_seed: UInt32
        let ale_seed: Int32
        let ale_noops: [Int]
    }
    struct Fixture: Decodable { let numpy: String; let cases: [Case] }

    func load() throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "numpy-random", withExtension: "json", subdirectory: "Fixtures")
            ?? Bundle.module.url(forResource: "Fixtures/numpy-random", withExtension: "json"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func testSeedSequenceMatchesNumPy() throws {
        let fx = try load()
        XCTAssertGreaterThanOrEqual(fx.cases.count, 10)
        for c in fx.cases {
            let ss = NumPySeedSequence(c.seed)
            XCTAssertEqual(ss.pool, c.pool, "pool, seed \(c.seed)")
            XCTAssertEqual(ss.generateState(words: c.state32.count), c.state32, "generate_state, seed \(c.seed)")
            XCTAssertEqual(ss.generateState64(words: c.state64.count), c.state64, "generate_state uint64, seed \(c.seed)")
        }
    }

    func testPCG64AndIntegersMatchNumPy() throws {
        for c in try load().cases {
            var bits = NumPyPCG64(seed: c.seed)
            XCTAssertEqual((0..<c.raw.count).map { _ in bits.next64() }, c.raw, "random_raw, seed \(c.seed)")
            var g = NumPyPCG64(seed: c.seed)
            XCTAssertEqual((0..<c.noops.count).map { _ in g.integers(1, 31) }, c.noops, "integers(1, 31), seed \(c.seed)")
            for o in c.others {
                XCTAssertEqual(g.integers(o[0], o[1]), o[2], "integers(\(o[0]), \(o[1])) after the noops, seed \(c.seed)")
            }
            // A copy restored from its state words continues the same stream.
            var restored = try XCTUnwrap(NumPyPCG64(stateWords: g.stateWords))
            XCTAssertEqual(restored.next32(), g.next32())
        }
    }

    /// ale-py: `np_seed, ale_seed = SeedSequence(seed).generate_state(2)`; the env's generator is
    /// `seeding.np_random(int(np_seed))` and ALE gets `np.int32(ale_seed)`.
    func testAtariSeedDerivationMatchesALEPy() throws {
        for c in try load().cases {
            let words = NumPySeedSequence(c.seed).generateState(words: 2)
            XCTAssertEqual(words[0], c.ale_np_seed)
            XCTAssertEqual(Int32(bitPattern: words[1]), c.ale_seed)
            var g = NumPyPCG64(seed: UInt64(words[0]))
            XCTAssertEqual((0..<c.ale_noops.count).map { _ in g.integers(1, 31) }, c.ale_noops, "seed \(c.seed)")
        }
    }
}
