import XCTest
import SparrowCore
@testable import NeuralNet

final class SparsityScheduleTests: XCTestCase {
    func testCosineDropFraction() {
        let s = DropFractionSchedule.cosine(initial: 0.5, endStep: 800_000)
        XCTAssertEqual(s.fraction(atStep: 0), 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.fraction(atStep: 200_000), 0.5 * 0.5 * (1 + 0.5.squareRoot()), accuracy: 1e-12)
        XCTAssertEqual(s.fraction(atStep: 400_000), 0.25, accuracy: 1e-12)
        XCTAssertEqual(s.fraction(atStep: 800_000), 0, accuracy: 1e-12)
        XCTAssertEqual(s.fraction(atStep: 900_000), 0, accuracy: 1e-12, "clamped at T")
        var previous = 1.0
        for t in stride(from: 0, through: 800_000, by: 1000) {
            let f = s.fraction(atStep: t)
            XCTAssertLessThanOrEqual(f, previous)
            previous = f
        }
        XCTAssertEqual(DropFractionSchedule.constant(0.05).fraction(atStep: 123_456), 0.05)
    }

    func testSokarTiming() {
        let s = TopologyUpdateSchedule.sokar()   // period 1000, offset 2, early stop 925 000
        XCTAssertEqual(s.finalStep, 925_002)
        XCTAssertTrue(s.isUpdateStep(2))
        XCTAssertTrue(s.isUpdateStep(1002))
        XCTAssertFalse(s.isUpdateStep(1000))
        XCTAssertFalse(s.isUpdateStep(1))
        XCTAssertFalse(s.isUpdateStep(0))
        XCTAssertTrue(s.isUpdateStep(924_002))
        XCTAssertFalse(s.isFinalUpdate(924_002))
        XCTAssertTrue(s.isUpdateStep(925_002))
        XCTAssertTrue(s.isFinalUpdate(925_002))
        XCTAssertFalse(s.isUpdateStep(926_002), "nothing after the final drop")
        let updates = (0...1_000_000).filter { s.isUpdateStep($0) }
        XCTAssertEqual(updates.count, 926)
        XCTAssertEqual(updates.filter { s.isFinalUpdate($0) }, [925_002])
        // ANF default: never stops, never a final drop.
        let anf = TopologyUpdateSchedule(period: 1000, offset: 2, stopStep: nil, finalDropWithoutRegrow: true)
        XCTAssertNil(anf.finalStep)
        XCTAssertTrue(anf.isUpdateStep(5_000_002))
        XCTAssertFalse(anf.isFinalUpdate(5_000_002))
        // Stop exactly on an update step: that one still regrows, the next is the final.
        let onStep = TopologyUpdateSchedule(period: 10, offset: 2, stopStep: 52, finalDropWithoutRegrow: true)
        XCTAssertEqual(onStep.finalStep, 62)
        XCTAssertFalse(onStep.isFinalUpdate(52))
    }

    func testRigLTiming() {
        let s = TopologyUpdateSchedule.rigl(period: 1000, lastUpdateStep: 800_000)
        XCTAssertNil(s.finalStep)
        XCTAssertTrue(s.isUpdateStep(1000))
        XCTAssertTrue(s.isUpdateStep(800_000))
        XCTAssertFalse(s.isUpdateStep(801_000))
        XCTAssertFalse(s.isUpdateStep(1500))
        XCTAssertFalse(s.isFinalUpdate(800_000))
        XCTAssertEqual((1...1_000_000).filter { s.isUpdateStep($0) }.count, 800)
        XCTAssertTrue(TopologyUpdateSchedule.rigl(period: 250, lastUpdateStep: nil).isUpdateStep(10_000_000))
    }

    func testZhuGuptaPolynomialSchedule() {
        let s = PolynomialPruningSchedule(initialSparsity: 0, finalSparsity: 0.9, beginStep: 200_000,
                                          endStep: 800_000, frequency: 1000)
        XCTAssertEqual(s.sparsity(atStep: 0), 0, accuracy: 1e-12)
        XCTAssertEqual(s.sparsity(atStep: 200_000), 0, accuracy: 1e-12)
        XCTAssertEqual(s.sparsity(atStep: 500_000), 0.9 - 0.9 * 0.125, accuracy: 1e-12)   // (1 − ½)³ = ⅛
        XCTAssertEqual(s.sparsity(atStep: 350_000), 0.9 - 0.9 * 0.421875, accuracy: 1e-12) // (¾)³
        XCTAssertEqual(s.sparsity(atStep: 800_000), 0.9, accuracy: 1e-12)
        XCTAssertEqual(s.sparsity(atStep: 900_000), 0.9, accuracy: 1e-12)
        XCTAssertTrue(s.isPruningStep(200_000))
        XCTAssertTrue(s.isPruningStep(201_000))
        XCTAssertFalse(s.isPruningStep(200_500))
        XCTAssertFalse(s.isPruningStep(199_000))
        XCTAssertTrue(s.isPruningStep(800_000))
        XCTAssertFalse(s.isPruningStep(801_000))
        let offGrid = PolynomialPruningSchedule(finalSparsity: 0.9, beginStep: 32_000, endStep: 120_000, frequency: 500)
        XCTAssertTrue(offGrid.isPruningStep(32_500))
        XCTAssertFalse(offGrid.isPruningStep(32_250))
    }

    func testPruningTargetCountAndPlan() {
        let shape = LayerShape(fanIn: 256, fanOut: 256)
        XCTAssertEqual(pruningTargetCount(shape: shape, sparsity: 0.9), 6554)   // round(6553.6)
        XCTAssertEqual(pruningTargetCount(shape: shape, sparsity: 0), 65536)
        XCTAssertEqual(pruningTargetCount(shape: LayerShape(fanIn: 2, fanOut: 2), sparsity: 0.99), 1, "at least one")
        XCTAssertEqual(pruningTargetCount(shape: LayerShape(fanIn: 5, fanOut: 1), sparsity: 0.5), 2, "2.5 → 2 (even)")

        // Gradual pruning of a dense layer: at every pruning step keep the top-k magnitudes; counts follow s(t).
        var g = Generator(seed: 4)
        let s = PolynomialPruningSchedule(finalSparsity: 0.9, beginStep: 0, endStep: 10, frequency: 2)
        var positions = (0..<shape.count).map { Position($0) }
        var weights = (0..<shape.count).map { _ in Float(g.normal()) }
        for t in 0...12 where s.isPruningStep(t) {
            let k = pruningTargetCount(shape: shape, sparsity: s.sparsity(atStep: t))
            let kept = planMagnitudePruning(positions: positions, weights: weights, targetCount: k)
            XCTAssertEqual(kept.count, min(k, positions.count))
            let keptSet = Set(kept)
            let minKept = kept.map { abs(weights[$0]) }.min()!
            for i in positions.indices where !keptSet.contains(i) { XCTAssertLessThanOrEqual(abs(weights[i]), minKept) }
            positions = kept.map { positions[$0] }
            weights = kept.map { weights[$0] }
        }
        XCTAssertEqual(positions.count, 6554)
    }
}
