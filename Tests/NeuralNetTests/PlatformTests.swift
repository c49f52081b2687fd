import XCTest
@testable import NeuralNet

/// The BLAS core in this test process (no variables set by the test) and the flush-to-zero scope.
final class PlatformTests: XCTestCase {
    /// On a CPU with AVX2 the dense layers never run on one of OpenBLAS's pre-AVX2 fallbacks, unless the user
    /// asked for one with OPENBLAS_CORETYPE.
    func testBLASCoreInUseIsNotGenericOnAVX2() throws {
        let cpu = CPUInfo.current, core = BLASCore.current
        try XCTSkipUnless(cpu.hasAVX2FMA, "no AVX2 on \(cpu.summary)")
        try XCTSkipIf(core.userSet, "OPENBLAS_CORETYPE is set: \(core.note)")
        XCTAssertFalse(core.inUse.isEmpty, "OpenBLAS not found: \(core.note)")
        XCTAssertFalse(BLASCore.isGeneric(core.inUse), "\(core.inUse) on \(cpu.summary): \(core.note)")
        XCTAssertEqual(core.verified, true, core.note)
        XCTAssertTrue(BLASCore.isGeneric("Prescott") && BLASCore.isGeneric("core2") && !BLASCore.isGeneric("SkylakeX"))
    }

    /// Inside the scope a product that would be subnormal is zero and a subnormal input reads as zero; outside,
    /// IEEE gradual underflow is back (the scope restores what was there, also when nested).
    func testFlushScopeFlushesAndRestores() {
        let tiny = opaque(1e-30 as Float), sub = opaque(Float.leastNormalMagnitude / 8)
        XCTAssertFalse(Subnormals.areFlushed)
        XCTAssertTrue((tiny * tiny).isSubnormal || tiny * tiny == 0)  // 1e-60 underflows either way
        XCTAssertTrue((opaque(1e-20 as Float) * opaque(1e-19 as Float)).isSubnormal)
        Subnormals.flushed {
            XCTAssertTrue(Subnormals.areFlushed)
            XCTAssertEqual(opaque(1e-20 as Float) * opaque(1e-19 as Float), 0)
            XCTAssertEqual(sub * opaque(1 as Float), 0)  // DAZ: the subnormal input counts as 0
            Subnormals.flushed { XCTAssertTrue(Subnormals.areFlushed) }
            XCTAssertTrue(Subnormals.areFlushed)
        }
        XCTAssertFalse(Subnormals.areFlushed)
        XCTAssertTrue((opaque(1e-20 as Float) * opaque(1e-19 as Float)).isSubnormal)
        XCTAssertEqual(Subnormals.count(in: [0, 1, sub, -sub, .leastNormalMagnitude]), 2)
    }

    @inline(never) func opaque<T>(_ x: T) -> T { x }
}
