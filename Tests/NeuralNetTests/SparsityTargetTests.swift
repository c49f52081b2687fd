import XCTest
import SparrowCore
@testable import NeuralNet

/// SOK DS_TD3.py:218-241 transcribed over dense matrices: soft update, then `update_target_networks`.
func sparsityTestSokarDenseTargetUpdate(shape: LayerShape, target: (positions: [Position], values: [Float]),
                                        online: (positions: [Position], values: [Float]), tau: Float) -> [Float] {
    var param = [Float](repeating: 0, count: shape.count), targetParam = param
    for (p, v) in zip(online.positions, online.values) { param[Int(p)] = v }
    for (p, v) in zip(target.positions, target.values) { targetParam[Int(p)] = v }
    for i in 0..<shape.count { targetParam[i] = tau * param[i] + (1 - tau) * targetParam[i] }
    let currentDensity = param.filter { $0 != 0 }.count
    let targetDensity = targetParam.filter { $0 != 0 }.count
    let difference = targetDensity - currentDensity
    if difference > 0 {
        let tmp = targetParam.map { $0 == 0 ? Float(10_000_000) : abs($0) }
        let order = tmp.indices.sorted { tmp[$0] < tmp[$1] }
        let threshold = tmp[order[difference]]
        for i in 0..<shape.count where tmp[i] < threshold { targetParam[i] = 0 }
    }
    return targetParam
}

final class SparsityTargetTests: XCTestCase {
    private let shape = LayerShape(fanIn: 64, fanOut: 48)

    /// An online layer after a few SET updates and a target that trails it.
    private func scenario(seed: UInt64) -> (target: ([Position], [Float]), online: ([Position], [Float])) {
        var g = Generator(seed: seed)
        let positions = randomTopology(shape: shape, count: 300, generator: &g)
        let targetValues = positions.map { _ in Float(g.normal() * 0.1) }
        var onlineValues = targetValues.map { $0 + Float(g.normal() * 0.01) }
        // Online topology change: drop 10 %, grow elsewhere with small non-zero values (Sokar) or exact zeros (ANF).
        let plan = planTopologyUpdate(shape: shape, positions: positions, weights: onlineValues, dropFraction: 0.1,
                                      drop: .signedMagnitude, grow: .random, regrow: true, denseGradient: nil,
                                      generator: &g)
        let merge = mergeTopology(oldPositions: positions, plan: plan)
        onlineValues = merge.source.map { s in
            s >= 0 ? onlineValues[s] : (g.nextDouble() < 0.3 ? 0 : Float(g.normal() * 0.001))
        }
        return ((positions, targetValues), (merge.positions, onlineValues))
    }

    func testMatchesSokarsDenseRuleAndKeepsExactlyNNZOnline() {
        for seed in 1...50 {
            let (target, online) = scenario(seed: UInt64(seed))
            for tau in [Float(0.005), 0.5, 1] {
                let result = softUpdateMaintainingSparsity(target: target, online: online, tau: tau)
                let reference = sparsityTestSokarDenseTargetUpdate(shape: shape, target: target, online: online,
                                                                   tau: tau)
                var dense = [Float](repeating: 0, count: shape.count)
                for (p, v) in zip(result.positions, result.values) { dense[Int(p)] = v }
                XCTAssertEqual(dense, reference, "seed \(seed) τ \(tau)")
                XCTAssert(sparsityPositionsAreValid(result.positions, in: shape))
                XCTAssertFalse(result.values.contains(0), "exact zeros are absent")
                let nnzOnline = online.1.filter { $0 != 0 }.count
                XCTAssertEqual(result.positions.count, nnzOnline, "seed \(seed) τ \(tau)")
                if tau == 1 {
                    XCTAssertEqual(result.positions, zip(online.0, online.1).filter { $0.1 != 0 }.map(\.0))
                }
            }
        }
    }

    func testKeepsTheLargestMagnitudesOfTheUnion() {
        for seed in 100..<120 {
            let (target, online) = scenario(seed: UInt64(seed))
            let tau: Float = 0.005
            let result = softUpdateMaintainingSparsity(target: target, online: online, tau: tau)
            // All union values, recomputed.
            var union = [Position: Float]()
            for (p, v) in zip(target.0, target.1) { union[p, default: 0] += (1 - tau) * v }
            for (p, v) in zip(online.0, online.1) { union[p, default: 0] += tau * v }
            let keptSet = Set(result.positions)
            let minKept = result.values.map { abs($0) }.min()!
            for (p, v) in union where !keptSet.contains(p) { XCTAssertLessThanOrEqual(abs(v), minKept) }
        }
    }

    func testOnlineLiveZerosDoNotCountAndTiesKeepTheLowerPosition() {
        // Online: 3 live, one exactly 0 → nnz 2. τ = 0.5 gives the union [1, 1, 0.5, 0.5] → keep positions 0, 1.
        let r1 = softUpdateMaintainingSparsity(target: ([0, 1, 2, 3], [1, 1, 1, 1]), online: ([0, 1, 2], [1, 1, 0]),
                                               tau: 0.5)
        XCTAssertEqual(r1.positions, [0, 1])
        XCTAssertEqual(r1.values, [1, 1])
        // Ties at the cut: union {1: 0.5, 2: 0.5, 3: 0.5, 5: 0.2} (position 0 cancels to exactly 0), nnz(online) = 2.
        // Exact count here (lower positions kept); Sokar's strict "< threshold" keeps all three tied entries.
        let target: ([Position], [Float]) = ([0, 1, 2, 3], [1, 1, 1, 1])
        let online: ([Position], [Float]) = ([0, 5], [-1, 0.4])
        let r2 = softUpdateMaintainingSparsity(target: target, online: online, tau: 0.5)
        XCTAssertEqual(r2.positions, [1, 2])
        XCTAssertEqual(r2.values, [0.5, 0.5])
        let sokar = sparsityTestSokarDenseTargetUpdate(shape: LayerShape(fanIn: 3, fanOut: 2), target: target,
                                                       online: online, tau: 0.5)
        XCTAssertEqual(sokar.filter { $0 != 0 }.count, 3, "the documented difference from Sokar on exact ties")
    }

    func testInPlaceFormAgreesAndSkipsWorkWhenSupportsMatch() {
        var g = Generator(seed: 3)
        let positions = randomTopology(shape: shape, count: 200, generator: &g)
        var targetValues = positions.map { _ in Float(g.normal()) }
        let onlineValues = positions.map { _ in Float(g.normal()) }
        var targetPositions = positions
        let expected = softUpdateMaintainingSparsity(target: (positions, targetValues),
                                                     online: (positions, onlineValues), tau: 0.005)
        let changed = softUpdateMaintainingSparsity(targetPositions: &targetPositions, targetValues: &targetValues,
                                                    onlinePositions: positions, onlineValues: onlineValues, tau: 0.005)
        XCTAssertFalse(changed)
        XCTAssertEqual(targetPositions, expected.positions)
        XCTAssertEqual(targetValues, expected.values)
        // Different supports and online zeros go through the exact rule.
        for seed in 200..<220 {
            let (target, online) = scenario(seed: UInt64(seed))
            var tp = target.0, tv = target.1
            let reference = softUpdateMaintainingSparsity(target: target, online: online, tau: 0.01)
            _ = softUpdateMaintainingSparsity(targetPositions: &tp, targetValues: &tv, onlinePositions: online.0,
                                              onlineValues: online.1, tau: 0.01)
            XCTAssertEqual(tp, reference.positions)
            XCTAssertEqual(tv, reference.values)
        }
        // The steady state after a topology change (newcomers enter small and are dropped again, with no
        // allocation) and its near misses (a newcomer as large as a target weight, an online zero, a target value
        // that blends to 0) all agree with the general rule.
        var r = Generator(seed: 5)
        var fastPathTaken = 0
        for trial in 0..<400 {
            let all = randomTopology(shape: shape, count: 120, generator: &r)
            var target = [Position](), online = [Position]()
            for p in all {
                switch r.nextInt(below: 6) {
                case 0: target.append(p)
                case 1: online.append(p)
                default: target.append(p); online.append(p)
                }
            }
            // Equal counts, as between topology updates: trim the longer list at random.
            while target.count > online.count { target.remove(at: r.nextInt(below: target.count)) }
            while online.count > target.count { online.remove(at: r.nextInt(below: online.count)) }
            var tv = target.map { _ in Float(r.nextInt(below: 2) == 0 ? 1 : -1) * Float(0.5 + r.uniform(0, 1)) }
            var ov = online.map { _ in Float(r.normal()) }
            let newcomer = online.firstIndex { !target.contains($0) }
            switch trial % 5 {
            case 4 where newcomer != nil:  // a newcomer a little larger than the smallest target weight
                ov[newcomer!] = 1.3 * tv.map(abs).min()! / 0.01
            case 1 where !ov.isEmpty: ov[r.nextInt(below: ov.count)] = 0
            case 2 where !tv.isEmpty: tv[0] = 0.6; if let k = newcomer { ov[k] = 0.6 / 0.01 }
            case 3 where !tv.isEmpty: if let k = online.firstIndex(of: target[0]) { ov[k] = -tv[0] * 0.99 / 0.01 }
            default: break
            }
            let reference = softUpdateMaintainingSparsity(target: (target, tv), online: (online, ov), tau: 0.01)
            var fastValues = tv
            if blendKeepingSupport(targetPositions: target, targetValues: &fastValues, onlinePositions: online,
                                   onlineValues: ov, tau: 0.01) {
                fastPathTaken += 1
                XCTAssertEqual(target, reference.positions, "trial \(trial)")
                XCTAssertEqual(fastValues, reference.values, "trial \(trial)")
            } else {
                XCTAssertEqual(fastValues, tv, "trial \(trial): a declined fast path changes nothing")
            }
            var tp2 = target, tv2 = tv
            softUpdateMaintainingSparsity(targetPositions: &tp2, targetValues: &tv2, onlinePositions: online,
                                          onlineValues: ov, tau: 0.01)
            XCTAssertEqual(tp2, reference.positions, "trial \(trial)")
            XCTAssertEqual(tv2, reference.values, "trial \(trial)")
        }
        XCTAssertGreaterThan(fastPathTaken, 60, "the steady state must take the fast path")
        XCTAssertLessThan(fastPathTaken, 400, "near misses must decline it")
        // Same support but an online weight exactly 0 → one target entry must go.
        var tp: [Position] = [1, 2, 3], tv: [Float] = [1, 2, 3]
        XCTAssertTrue(softUpdateMaintainingSparsity(targetPositions: &tp, targetValues: &tv, onlinePositions: [1, 2, 3],
                                                    onlineValues: [0, 2, 3], tau: 0.5))
        XCTAssertEqual(tp, [2, 3])
        XCTAssertEqual(tv, [2, 3])
    }
}

final class SparsityPruneSelectionTests: XCTestCase {
    /// The selection keeps exactly what the sort-based twin keeps, ties and zeros included.
    func testSelectionMatchesSortingTwin() {
        var g = Generator(seed: 21)
        for trial in 0..<300 {
            let n = 1 + g.nextInt(below: 400)
            var positions = [Position](), values = [Float]()
            var next: Position = 0
            for _ in 0..<n {
                next += Position(1 + g.nextInt(below: 5))
                positions.append(next)
                // Coarse values make ties common; some exact zeros.
                values.append(g.nextInt(below: 10) == 0 ? 0 : Float(g.nextInt(below: 21) - 10) / 4)
            }
            let count = g.nextInt(below: n + 1)
            let fast = pruneToLargest(positions: positions, values: values, count: count)
            let slow = pruneToLargestBySorting(positions: positions, values: values, count: count)
            XCTAssertEqual(fast.0, slow.0, "trial \(trial)")
            XCTAssertEqual(fast.1, slow.1, "trial \(trial)")
        }
    }

    /// Quickselect returns the key of each rank, on random, ascending, descending and all-equal-magnitude inputs.
    func testQuickselectFindsEveryRank() {
        var g = Generator(seed: 22)
        var inputs: [[UInt64]] = (0..<40).map { _ in (0..<(1 + g.nextInt(below: 60))).map { _ in UInt64(g.nextInt(below: 1 << 30)) } }
        inputs = inputs.map { Array(Set($0)) }  // keys are distinct
        inputs += [Array(0..<5000), Array((0..<5000).reversed()), (0..<3000).map { dropKey(1.5, index: $0) }]
        for (t, keys) in inputs.enumerated() {
            let sorted = keys.sorted()
            for rank in Set([0, keys.count - 1, keys.count / 2, g.nextInt(below: keys.count)]) {
                var work = keys
                let got = work.withUnsafeMutableBufferPointer { selectSmallest($0, rank: rank) }
                XCTAssertEqual(got, sorted[rank], "input \(t) rank \(rank)")
            }
        }
    }
}

final class SparsityMaskedTargetTests: XCTestCase {
    /// The in-place masked-dense update equals the position-list form on the same data, through differing supports,
    /// exact zeros and ties.
    func testInPlaceMaskedUpdateMatchesPositionForm() { withEachKernelBody { body in
        var g = Generator(seed: 4)
        for trial in 0..<200 {
            let n = 1 + g.nextInt(below: 300)
            var target = [Float](repeating: 0, count: n), online = target
            for i in 0..<n {
                if g.nextInt(below: 3) == 0 { target[i] = Float(g.nextInt(below: 9) - 4) / 2 }
                if g.nextInt(below: 3) == 0 { online[i] = Float(g.nextInt(below: 9) - 4) / 2 }
            }
            let tau: Float = [0.005, 0.5, 1][g.nextInt(below: 3)]
            func sparse(_ a: [Float]) -> (positions: [Position], values: [Float]) {
                let idx = a.indices.filter { a[$0] != 0 }
                return (idx.map { Position($0) }, idx.map { a[$0] })
            }
            let expected = softUpdateMaintainingSparsity(target: sparse(target), online: sparse(online), tau: tau)
            var mask = target.map { $0 != 0 ? Float(1) : 0 }
            softUpdateMaintainingSparsityInPlace(target: &target, mask: &mask, online: online, tau: tau)
            let got = sparse(target)
            XCTAssertEqual(got.positions, expected.positions, "\(body) trial \(trial)")
            XCTAssertEqual(got.values, expected.values, "\(body) trial \(trial)")
            XCTAssertEqual(mask, target.map { $0 != 0 ? 1 : 0 }, "\(body) trial \(trial)")
        }
    } }
}

extension SparsityMaskedTargetTests {
    /// The masked in-place update with a layer's scratch (keys and the last cut as a guess) against the
    /// position-list rule through a run-like sequence: the carried guess, none, and one above everything each give
    /// the same target and mask.
    func testInPlaceMaskedUpdateWithACutGuessMatchesPositionForm() { withEachKernelBody { body in
        var g = Generator(seed: 5)
        let n = 600
        var online = [Float](repeating: 0, count: n)
        for i in 0..<n where g.nextInt(below: 3) == 0 { online[i] = Float(g.normal() * 0.1) }
        var target = online
        var scratch = MaintainSparsityScratch()
        func sparse(_ a: [Float]) -> (positions: [Position], values: [Float]) {
            let idx = a.indices.filter { a[$0] != 0 }
            return (idx.map { Position($0) }, idx.map { a[$0] })
        }
        for step in 1...300 {
            for i in 0..<n where online[i] != 0 { online[i] += Float(g.normal() * 0.002) }
            if step % 50 == 0 {  // move a tenth of the online support, new ones at small values
                let live = online.indices.filter { online[$0] != 0 }
                for i in live.prefix(live.count / 10) { online[i] = 0 }
                var grown = 0
                while grown < live.count / 10 {
                    let i = g.nextInt(below: n)
                    if online[i] == 0 { online[i] = Float(g.normal() * 0.001); grown += 1 }
                }
            }
            let tau: Float = step % 7 == 0 ? 0.5 : 0.005
            let expected = softUpdateMaintainingSparsityLists(target: target, online: online, tau: tau, sparse: sparse)
            let carried = scratch.cutGuess
            var results: [[Float]] = []
            for guess in [carried, 0, .max] {
                var t = target, mask = target.map { $0 != 0 ? Float(1) : 0 }
                scratch.cutGuess = guess
                softUpdateMaintainingSparsityInPlace(target: &t, mask: &mask, online: online, tau: tau, scratch: &scratch)
                XCTAssertEqual(sparse(t).positions, expected.positions, "\(body) step \(step) guess \(guess)")
                XCTAssertEqual(sparse(t).values.map(\.bitPattern), expected.values.map(\.bitPattern),
                               "\(body) step \(step) guess \(guess)")
                XCTAssertEqual(mask, t.map { $0 != 0 ? 1 : 0 }, "\(body) step \(step) guess \(guess)")
                results.append(t)
            }
            target = results[0]
        }
    } }

    private func softUpdateMaintainingSparsityLists(target: [Float], online: [Float], tau: Float,
                                                    sparse: ([Float]) -> (positions: [Position], values: [Float]))
        -> (positions: [Position], values: [Float]) {
        softUpdateMaintainingSparsity(target: sparse(target), online: sparse(online), tau: tau)
    }
}

/// The allocation-free maintain-sparsity update of a truly sparse target (scratch merge and selection, in-place index
/// rebuild, arrays traded with the scratch) against its plain twins, bit for bit.
final class SparsityTargetScratchTests: XCTestCase {
    private func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

    /// The scratch form returns what `softUpdateMaintainingSparsity(target:online:tau:)` returns: trailing supports
    /// with small newcomers (no selection), online zeros and coarse values with ties (selection), empty sides and a
    /// NaN, with one scratch reused throughout (stale contents, growth within and beyond its capacity, a stale cut
    /// guess).
    func testScratchFormEqualsThePlainRule() { withEachKernelBody { body in
        var scratch = MaintainSparsityScratch()
        var g = Generator(seed: 31)
        var cases: [(target: ([Position], [Float]), online: ([Position], [Float]), tau: Float)] = []
        let shape = LayerShape(fanIn: 64, fanOut: 48)
        for trial in 0..<300 {
            let all = randomTopology(shape: shape, count: 1 + g.nextInt(below: 400), generator: &g)
            var tp = [Position](), op = [Position]()
            for p in all {
                switch g.nextInt(below: 8) {
                case 0: tp.append(p)
                case 1: op.append(p)
                default: tp.append(p); op.append(p)
                }
            }
            if trial % 2 == 0 {  // equal counts, as between topology updates
                while tp.count > op.count { tp.remove(at: g.nextInt(below: tp.count)) }
                while op.count > tp.count { op.remove(at: g.nextInt(below: op.count)) }
            }
            let coarse = trial % 3 == 0  // ties and exact cancellations
            func value(_ scale: Double) -> Float {
                coarse ? Float(g.nextInt(below: 9) - 4) / 2 : Float(g.normal() * scale)
            }
            let tv = tp.map { _ in value(0.1) }
            let targetSet = Set(tp)
            // Newcomers small (the steady state) or as large as the rest; in some trials online zeros.
            let newcomerScale = trial % 2 == 0 ? 0.001 : 0.1
            let zeros = trial % 4 == 1
            let ov = op.map { p -> Float in
                zeros && g.nextInt(below: 10) == 0 ? 0 : value(targetSet.contains(p) ? 0.1 : newcomerScale)
            }
            let tau: Float = [0.005, 0.01, 0.5, 1][g.nextInt(below: 4)]
            cases.append(((tp, tv), (op, ov), tau))
        }
        cases.append((([], []), ([3, 9], [1, -2]), 0.005))
        cases.append((([3, 9], [1, -2]), ([], []), 0.005))
        cases.append((([], []), ([], []), 0.005))
        cases.append((([1, 4, 7], [0.5, .nan, -0.25]), ([2, 4, 8], [0.1, 0.2, 0.3]), 0.5))
        var selected = 0, newcomersDropped = 0
        for (k, c) in cases.enumerated() {
            let reference = softUpdateMaintainingSparsity(target: c.target, online: c.online, tau: c.tau)
            // The cut guess is only a hint: the one left by the previous case, none (select among all), and one
            // above everything (select among all, as candidates).
            for guess in [scratch.cutGuess, 0, .max] {
                scratch.cutGuess = guess
                let n = c.target.0.withUnsafeBufferPointer { tp in
                    c.target.1.withUnsafeBufferPointer { tv in
                        c.online.0.withUnsafeBufferPointer { op in
                            c.online.1.withUnsafeBufferPointer { ov in
                                softUpdateMaintainingSparsity(targetPositions: tp, targetValues: tv, onlinePositions: op,
                                                              onlineValues: ov, tau: c.tau, into: &scratch)
                            }
                        }
                    }
                }
                XCTAssertEqual(Array(scratch.positions[0..<n]), reference.positions, "\(body) case \(k) guess \(guess)")
                XCTAssertEqual(bits(Array(scratch.values[0..<n])), bits(reference.values), "\(body) case \(k) guess \(guess)")
            }
            // Which way it went, to be sure both are exercised: all of the target kept, newcomers dropped.
            let newcomers = Set(c.online.0).subtracting(c.target.0)
            if reference.positions.count < c.target.0.count + newcomers.count {
                if Set(c.target.0).isSubset(of: reference.positions) { newcomersDropped += 1 } else { selected += 1 }
            }
        }
        XCTAssertGreaterThan(selected, 30)
        XCTAssertGreaterThan(newcomersDropped, 30)
    } }

    /// `SparseIndex.rebuild` over another index's storage writes what a fresh index holds, whether the count stays,
    /// grows, shrinks or empties, and with empty rows and columns; and both are the index of the positions, checked
    /// from its definition (CSR rows and columns give back the positions; each CSC column lists its rows ascending,
    /// each slot naming the CSR slot of that very connection).
    func testIndexRebuildEqualsTheInitializer() {
        var g = Generator(seed: 32)
        for shape in [LayerShape(fanIn: 1, fanOut: 1), LayerShape(fanIn: 7, fanOut: 3), LayerShape(fanIn: 365, fanOut: 256)] {
            var index = SparseIndex(shape: shape, positions: randomTopology(shape: shape, count: shape.count / 2, generator: &g))
            for trial in 0..<20 {
                let count = trial % 5 == 0 ? index.count : g.nextInt(below: shape.count + 1)
                let positions = randomTopology(shape: shape, count: count, generator: &g)
                index.rebuild(positions: positions)
                let fresh = SparseIndex(shape: shape, positions: positions)
                XCTAssertEqual(index, fresh, "\(shape) trial \(trial)")
                // `==` compares the CSR part; the CSC view is compared here (copies: they are derived on each access).
                let rows = index.rowIndex, cscToCSR = index.cscToCSR
                XCTAssertEqual(index.columnPointer, fresh.columnPointer, "\(shape) trial \(trial) CSC")
                XCTAssertEqual(rows, fresh.rowIndex, "\(shape) trial \(trial) CSC")
                XCTAssertEqual(cscToCSR, fresh.cscToCSR, "\(shape) trial \(trial) CSC")
                XCTAssertEqual(index.positions, positions, "\(shape) trial \(trial) CSR")
                var seen = 0
                for c in 0..<shape.fanIn {
                    var previousRow = -1
                    for slot in Int(index.columnPointer[c])..<Int(index.columnPointer[c + 1]) {
                        let r = Int(rows[slot])
                        XCTAssertGreaterThan(r, previousRow, "\(shape) trial \(trial) column \(c)")
                        XCTAssertEqual(Int(positions[Int(cscToCSR[slot])]), r * shape.fanIn + c)
                        previousRow = r
                        seen += 1
                    }
                }
                XCTAssertEqual(seen, positions.count, "\(shape) trial \(trial): every connection in one CSC column")
            }
        }
    }

    /// A target layer following an online layer through a run-like sequence — values drifting every step, a
    /// magnitude drop and zero-valued random growth every 40 steps, an online weight now and then exactly 0 —
    /// holds, after every soft update, the same positions, values, moments, gradient count and index as the twin
    /// updated by `softUpdateMaintainingSparsityByCopies`; and its support does change on many of the steps. Half-way
    /// the target starts following another online layer (other positions), and later both targets are reloaded
    /// (`reset`, as from a checkpoint): the positions the fast update keeps between steps must follow each change.
    func testLayerUpdateEqualsTheCopyingTwinThroughTopologyChanges() { withEachKernelBody { body in
        for tau in [Float(0.005), 1] {
            var g = Generator(seed: 33)
            let shape = LayerShape(fanIn: 40, fanOut: 30)
            let start = randomTopology(shape: shape, count: 120, generator: &g)
            var online = SparseLayer(shape: shape, positions: start, values: start.map { _ in Float(g.normal() * 0.1) },
                                     biases: [Float](repeating: 0, count: shape.fanOut))
            func target() -> SparseLayer {
                let t = SparseLayer(shape: shape, positions: online.positions, values: online.weight.values,
                                    biases: online.bias.values)
                // Non-zero moments, so that zeroing them on a support change shows.
                t.weight.replace(values: t.weight.values, firstMoment: t.weight.values.map { $0 * 2 },
                                 secondMoment: t.weight.values.map { $0 * $0 }, mask: nil)
                return t
            }
            let fast = target(), plain = target()
            var changes = 0
            for step in 1...400 {
                if step == 210 {
                    let other = randomTopology(shape: shape, count: 120, generator: &g)
                    let values = other.map { _ in Float(g.normal() * 0.1) }
                    let next = SparseLayer(shape: shape, positions: other, values: values,
                                           biases: [Float](repeating: 0, count: shape.fanOut))
                    // As many index changes as the layer it replaces: only its identity tells them apart.
                    while next.topologyVersion < online.topologyVersion { next.reset(positions: other, values: values) }
                    XCTAssertEqual(next.topologyVersion, online.topologyVersion)
                    online = next
                }
                if step == 300 {
                    let kept = randomTopology(shape: shape, count: 110, generator: &g)
                    let values = kept.map { _ in Float(g.normal() * 0.1) }
                    fast.reset(positions: kept, values: values)
                    plain.reset(positions: kept, values: values)
                }
                var v = online.weight.values
                for k in v.indices { v[k] += Float(g.normal() * 0.002) }
                if step % 97 == 0 { v[g.nextInt(below: v.count)] = 0 }
                online.weight.setValues(v)
                if step % 40 == 0 {
                    let plan = planTopologyUpdate(shape: shape, positions: online.positions, weights: online.weight.values,
                                                  dropFraction: 0.1, drop: .magnitude, grow: .random, regrow: false,
                                                  denseGradient: nil, generator: &g)
                    online.apply(plan, grownValues: [Float](repeating: 0, count: plan.grown.count))
                }
                let before = fast.positions
                fast.softUpdateMaintainingSparsity(online: online, tau: tau)
                plain.softUpdateMaintainingSparsityByCopies(online: online, tau: tau)
                if fast.positions != before { changes += 1 }
                let context = "\(body) τ \(tau) step \(step)"
                XCTAssertEqual(fast.positions, plain.positions, context)
                XCTAssertEqual(bits(fast.weight.values), bits(plain.weight.values), context)
                XCTAssertEqual(bits(fast.weight.firstMoment), bits(plain.weight.firstMoment), context)
                XCTAssertEqual(bits(fast.weight.secondMoment), bits(plain.weight.secondMoment), context)
                XCTAssertEqual(fast.weight.gradients.count, plain.weight.gradients.count, context)
                XCTAssertEqual(fast.index, plain.index, context)
                XCTAssertNil(fast.weight.mask, context)
            }
            XCTAssertGreaterThan(changes, 10, "τ \(tau): the support must change on some steps")
        }
    } }
}
