import CPlatform
import Foundation
@testable import NeuralNet
import XCTest

/// `Parallel` on CPlatform's persistent worker pool: every part runs exactly once, a job part's strided parts on one
/// thread (the split, not the scheduling, decides the numbers), the workers really run parts beside the caller, a
/// caller whose workers get no core runs every part itself instead of waiting, workers that spin and park are woken
/// every time, nested regions stay on their thread, and two threads starting regions at once both finish.
final class ParallelTests: XCTestCase {
    override func tearDown() { Parallel.setThreads(1); sp_parallel_hold_workers(0) }

    func testEveryPartRunsOnceAndAJobPartStaysOnOneThread() {
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
                // Job part w runs parts w, w + workers, … in one call: on one thread, whichever claimed it.
                let workers = min(parts, threads)
                for i in 0..<parts { XCTAssertTrue(pthread_equal(threadOf[i], threadOf[i % workers]) != 0) }
            }
        }
        XCTAssertEqual(sp_parallel_in_region(), 0)
    }

    /// Two parts that each wait (up to 5 s) until both have started: they only meet if a worker runs one beside the
    /// caller, which is stuck in the other until then.
    func testAWorkerRunsAPartBesideTheCaller() {
        Parallel.setThreads(2)
        let started = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        defer { started.deallocate() }
        for _ in 0..<20 {
            started.initialize(to: 0)
            var met = [false, false]
            let lock = NSLock()
            met.withUnsafeMutableBufferPointer { m in
                Parallel.forEach(2) { i in
                    lock.withLock { started.pointee += 1 }
                    let deadline = Date().addingTimeInterval(5)
                    while lock.withLock({ started.pointee }) < 2 && Date() < deadline { usleep(10) }
                    m[i] = lock.withLock { started.pointee } == 2
                }
            }
            XCTAssertEqual(met, [true, true])
        }
    }

    /// Workers held back (as if another process had their cores): the caller claims and runs every part, and each
    /// region returns. With parts assigned per worker this hung.
    func testCallerRunsEveryPartWhenTheWorkersHaveNoCore() {
        Parallel.setThreads(4)
        Parallel.forEach(4) { _ in }  // the workers exist and are spinning
        sp_parallel_hold_workers(1)
        /// What the calling thread records; read only after `done` is signalled.
        final class Record: @unchecked Sendable {
            var caller = pthread_self()
            var threadOf = [pthread_t](repeating: 0, count: 4 * 1000)
        }
        let record = Record(), done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            record.caller = pthread_self()
            record.threadOf.withUnsafeMutableBufferPointer { t in
                for round in 0..<1000 { Parallel.forEach(4) { t[round * 4 + $0] = pthread_self() } }
            }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success, "a region waited for a worker without a core")
        sp_parallel_hold_workers(0)
        XCTAssertTrue(record.threadOf.allSatisfy { pthread_equal($0, record.caller) != 0 }, "every part on the caller")
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
