import CPlatform
import Foundation
@testable import NeuralNet
import XCTest

/// `Parallel` on CPlatform's persistent worker pool: every part runs exactly once, part w on worker w (so the split,
/// not the scheduling, decides the numbers), workers that spin and park are woken every time, nested regions stay
/// on their thread, and two threads starting regions at once both finish.
final class ParallelTests: XCTestCase {
    override func tearDown() { Parallel.setThreads(1) }

    func testEveryPartRunsOnceOnItsOwnWorker() {
        for threads in [2, 3, 4] {
            Parallel.setThreads(threads)
            for parts in [2, 3, 5, 8] {
                let runs = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
                let threadOf = UnsafeMutableBufferPointer<pthread_t>.allocate(capacity: parts)
                defer { runs.deallocate(); threadOf.deallocate() }
                runs.initialize(repeating: 0)
                Parallel.forEach(parts) { i in
                    runs[i] += 1  // each part writes only its own slot
                    threadOf[i] = pthread_self()
                    XCTAssertEqual(sp_parallel_in_region(), 1, "a part runs inside the region mark")
                }
                XCTAssertEqual(Array(runs), [Int](repeating: 1, count: parts), "threads \(threads) parts \(parts)")
                let workers = min(parts, threads)
                // Worker w takes parts w, w + workers, …: same thread within a worker, another one across workers.
                for i in 0..<parts {
                    XCTAssertTrue(pthread_equal(threadOf[i], threadOf[i % workers]) != 0)
                    if i < workers && i > 0 { XCTAssertTrue(pthread_equal(threadOf[i], threadOf[0]) == 0) }
                }
                XCTAssertTrue(pthread_equal(threadOf[0], pthread_self()) != 0, "part 0 runs on the caller")
            }
        }
        XCTAssertEqual(sp_parallel_in_region(), 0)
    }

    /// Many short regions back to back, with pauses longer than the workers' spin so they park in between: a lost
    /// wake-up would hang here, a race would miscount.
    func testWorkersWakeAfterParkingAndBetweenShortRegions() {
        Parallel.setThreads(2)
        var total = [0, 0]
        total.withUnsafeMutableBufferPointer { t in
            for round in 0..<20_000 {
                Parallel.forEach(2) { t[$0] += 1 }
                if round % 5000 == 4999 { usleep(2000) }  // 2 ms: past the 0.5 ms spin, the worker parks
            }
        }
        XCTAssertEqual(total, [20_000, 20_000])
    }

    func testNestedRegionsStayOnTheirThread() {
        Parallel.setThreads(2)
        var inner = [0, 0, 0, 0]
        inner.withUnsafeMutableBufferPointer { t in
            Parallel.forEach(2) { outer in
                let me = pthread_self()
                Parallel.forEach(2) { i in
                    XCTAssertTrue(pthread_equal(pthread_self(), me) != 0, "a nested part runs on the outer part's thread")
                    t[outer * 2 + i] += 1
                }
            }
        }
        XCTAssertEqual(inner, [1, 1, 1, 1])
    }

    /// Regions opened from two threads at once: one gets the pool, the other runs its parts alone; both complete.
    func testRegionsFromTwoThreadsAtOnceBothFinish() {
        Parallel.setThreads(2)
        let sums = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0)
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<5000 { Parallel.forEach(2) { sums[caller * 2 + $0] += 1 } }
        }
        XCTAssertEqual(Array(sums), [5000, 5000, 5000, 5000])
    }
}

/// SAC's squashed Gaussian head splits a training batch across threads (`GaussianTanhHead.splitBatch`): actions,
/// log-probabilities and the output gradient are bit-identical with 1 and 2 threads, for a batch that splits and
/// one that stays whole.
final class PolicyHeadThreadsTests: XCTestCase {
    override func tearDown() { Parallel.setThreads(1) }

    func testHeadGivesTheSameNumbersWithTwoThreads() {
        let head = GaussianTanhHead(bounds: ActionBounds(low: [-1, -0.4, -2], high: [1, 0.4, 3]),
                                    logStd: .clamp(min: -20, max: 2))
        let A = head.actionDimensions
        for batch in [300, 7] {
            var g = SystemRandomNumberGenerator()
            let output = (0..<(2 * A * batch)).map { _ in Float.random(in: -3...3, using: &g) }
            let noise = (0..<(A * batch)).map { _ in Float.random(in: -2...2, using: &g) }
            let actionGradient = (0..<(A * batch)).map { _ in Float.random(in: -1...1, using: &g) }
            let logProbGradient = (0..<batch).map { _ in Float.random(in: -1...1, using: &g) }
            func run(threads: Int) -> [[UInt32]] {
                Parallel.setThreads(threads)
                var action = [Float](repeating: 0, count: A * batch), logProb = [Float](repeating: 0, count: batch)
                var gradient = [Float](repeating: 0, count: 2 * A * batch)
                head.sample(output, noise: noise, batch: batch, action: &action, logProb: &logProb)
                head.backward(output, noise: noise, batch: batch, actionGradient: actionGradient,
                              logProbGradient: logProbGradient, into: &gradient)
                return [action, logProb, gradient].map { $0.map(\.bitPattern) }
            }
            let one = run(threads: 1), two = run(threads: 2)
            XCTAssertEqual(one, two, "batch \(batch)")
            XCTAssertFalse(one[2].allSatisfy { $0 == 0 }, "batch \(batch): the gradient was written")
        }
    }
}
