import Foundation
@testable import NeuralNet
import SparrowCore
import XCTest

/// Issue 26 part 3: which path a truly sparse layer takes (`DensePath`): the fixed rule, this machine's timed
/// crossovers (`DensePathTable`, `DensePathTiming`) and their per-machine cache (`DensePathCache`).
final class DensePathTests: XCTestCase {
    override func tearDown() { DensePath.use(.rule) }

    func testCrossoverIsTheLowestBandFromWhichSgemmWinsAtEveryBandAbove() {
        let d = [0.1, 0.3, 0.5, 0.7, 1.0]
        XCTAssertEqual(DensePathTiming.crossover(densities: d, sparse: [1, 2, 3, 4, 5], dense: [3, 3, 2.5, 2, 2]), 0.5)
        XCTAssertEqual(DensePathTiming.crossover(densities: d, sparse: [1, 2, 3, 4, 5], dense: [0.5, 3, 2.5, 2, 2]), 0.5,
                       "one noisy band below a band where sparse wins does not count")
        XCTAssertEqual(DensePathTiming.crossover(densities: d, sparse: [1, 2, 3, 4, 5], dense: [0.5, 1, 1, 1, 1]), 0.1)
        XCTAssertNil(DensePathTiming.crossover(densities: d, sparse: [1, 2, 3, 4, 5], dense: [0.5, 1, 1, 1, 6]),
                     "sparse wins at the densest band: never dense")
        XCTAssertNil(DensePathTiming.crossover(densities: d, sparse: [1, 1, 1, 1, 1], dense: [1, 1, 1, 1, 1]), "a tie stays sparse")
    }

    private func layer(_ fanIn: Int, _ fanOut: Int, density: Double) -> SparseLayer {
        var g = Generator(seed: 3)
        let shape = LayerShape(fanIn: fanIn, fanOut: fanOut)
        let pos = randomTopology(shape: shape, count: Int((density * Double(shape.count)).rounded()), generator: &g)
        return SparseLayer(shape: shape, positions: pos, values: g.floats(pos.count), biases: g.floats(fanOut))
    }

    private func entry(_ fanIn: Int, _ fanOut: Int, batch: Int = 256, sgemmFrom: Double?) -> DensePathTable.Entry {
        let d = [0.2, 0.4, 0.6, 0.8, 1.0]
        return DensePathTable.Entry(fanIn: fanIn, fanOut: fanOut, batch: batch, densities: d, sparseMilliseconds: [1, 1, 1, 1, 1],
                                    denseMilliseconds: d.map { x in sgemmFrom.map { x >= $0 - 1e-9 ? 0.5 : 2 } ?? 2 })
    }

    func testTimedTableDecidesPerShapeAndOtherShapesFollowTheRule() {
        let table = DensePathTable(machine: "test", entries: [entry(80, 96, sgemmFrom: 0.4), entry(128, 128, sgemmFrom: nil)])
        XCTAssertEqual(table.entries.map(\.denseFrom), [0.4, nil])
        // The rule first: 80 → 96 at 0.45 is below its 0.55; 128 × 128 at 0.9 and 100 × 100 at 0.9 are above it.
        let a = layer(80, 96, density: 0.45), a2 = layer(80, 96, density: 0.35), b = layer(128, 128, density: 0.9),
            c = layer(100, 100, density: 0.9), small = layer(11, 96, density: 1)
        XCTAssertEqual([a, a2, b, c, small].map(\.runsDense), [false, false, true, true, false])
        DensePath.use(.timed, table: table)
        for l in [a, a2, b, c, small] { l.choosePath() }
        XCTAssertEqual([a, a2, b, c, small].map(\.runsDense), [true, false, false, true, false],
                       "80 → 96 from its 0.4; 128 × 128 never; 100 × 100 and 11 → 96 (not timed) by the rule")
        XCTAssertTrue(layer(80, 96, density: 0.41).runsDense, "a new layer decides by the table too")
        DensePath.use(.off, table: table)
        for l in [a, b, c] { l.choosePath() }
        XCTAssertEqual([a, b, c].map(\.runsDense), [false, false, false])
        XCTAssertNil(DensePath.table, "only timed keeps a table")
    }

    func testTimingRunsBothPathsOfTheShapeAtEachBand() {
        let e = DensePathTiming.measure(shape: LayerShape(fanIn: 70, fanOut: 33), batch: 8, densities: [0.25, 1], rounds: 1,
                                        minimum: 0.0005)
        XCTAssertEqual([e.fanIn, e.fanOut, e.batch], [70, 33, 8])
        XCTAssertEqual(e.densities, [0.25, 1])
        XCTAssertEqual(e.sparseMilliseconds.count, 2)
        XCTAssertTrue((e.sparseMilliseconds + e.denseMilliseconds).allSatisfy { $0 > 0 && $0.isFinite })
        XCTAssertEqual(e.denseFrom, DensePathTiming.crossover(densities: e.densities, sparse: e.sparseMilliseconds,
                                                              dense: e.denseMilliseconds))
        XCTAssertEqual(Parallel.threads, 1)
    }

    func testTheCacheTimesEachMissingShapeOnceAndKeepsMachinesAndBatchesApart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-densepath-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = DensePathCache(path: dir + "/sub/dense-path.json")
        var timed: [String] = []
        let fake: (LayerShape, Int) -> DensePathTable.Entry = { s, b in
            timed.append("\(s.fanIn)x\(s.fanOut)@\(b)")
            return self.entry(s.fanIn, s.fanOut, batch: b, sgemmFrom: s.fanIn > 100 ? 0.6 : nil)
        }
        let shapes = [LayerShape(fanIn: 11, fanOut: 256), LayerShape(fanIn: 256, fanOut: 256), LayerShape(fanIn: 256, fanOut: 256)]
        let first = cache.resolve(shapes: shapes, batch: 256, measure: fake)
        XCTAssertEqual(timed, ["11x256@256", "256x256@256"], "each shape once")
        XCTAssertEqual(first.entries.map(\.denseFrom), [nil, 0.6])
        XCTAssertEqual(first.machine, DensePathTable.machineKey)
        let again = cache.resolve(shapes: shapes, batch: 256, measure: fake)
        XCTAssertEqual(timed.count, 2, "cached: nothing timed again")
        XCTAssertEqual(again, first)
        _ = cache.resolve(shapes: [shapes[1]], batch: 32, measure: fake)
        XCTAssertEqual(timed.last, "256x256@32", "another batch is another entry")
        XCTAssertEqual(cache.table().entries.count, 3)
        try cache.store([entry(256, 256, sgemmFrom: 0.2)], machine: "another machine")
        XCTAssertEqual(cache.table().entry(fanIn: 256, fanOut: 256, batch: 256)?.denseFrom, 0.6, "machines stay apart")
        XCTAssertEqual(cache.table(machine: "another machine").entries.count, 1)
        // An unreadable cache counts as empty and is rewritten.
        try "{ not json".write(toFile: cache.path, atomically: true, encoding: .utf8)
        let fresh = cache.resolve(shapes: [shapes[0]], batch: 256, measure: fake)
        XCTAssertEqual(timed.count, 4)
        XCTAssertEqual(cache.table(), fresh)
        // The run's record reads back equal.
        let decoded = try JSONDecoder().decode(DensePathTable.self, from: Data(try first.json().utf8))
        XCTAssertEqual(decoded, first)
    }
}
