// sparrow-alloc-probe: counts heap allocations in Sparrow's hot loops, for the allocation test. Run it with the
// interposer preloaded, or nothing is counted:
//   LD_PRELOAD=.build/release/libMallocInterposerSwift.so .build/release/sparrow-alloc-probe [PRESET ...]
// It prints one JSON object. Each hot-loop scenario is measured over two windows of different length (after a
// warm-up), so a count that grows with the window is a per-step allocation and a constant one is per call.
// Allocations made inside OpenBLAS (its small-matrix sgemm kernels malloc a scratch buffer per call) are
// counted apart, as "blas": they are not Sparrow's to remove. A control scenario must allocate.
import Agents
import Environments
import Foundation
import MallocInterposerSwift
import SparrowCore
import Training

typealias Backtrace = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int32) -> Int32
let backtrace = unsafeBitCast(dlsym(nil, "backtrace")!, to: Backtrace.self)
typealias BacktraceSymbols = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>?, Int32, Int32) -> Void
let backtraceSymbols = unsafeBitCast(dlsym(nil, "backtrace_symbols_fd")!, to: BacktraceSymbols.self)
/// SPARROW_ALLOC_TRACE=N prints the raw stacks (addr2line-able) of the first N Sparrow allocations of each window.
let traceLimit = Int(ProcessInfo.processInfo.environment["SPARROW_ALLOC_TRACE"] ?? "") ?? 0
nonisolated(unsafe) var traced = 0

/// Address ranges of libopenblas's code, read from /proc/self/maps before counting starts (the hook must not
/// allocate, so it only compares return addresses with these).
nonisolated(unsafe) var blasRanges: [(UInt, UInt)] = []

func readBLASRanges() throws {
    // procfs reports a size of 0, so read to the end rather than by the file's size.
    guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { throw ProbeError("cannot read /proc/self/maps") }
    let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    for line in maps.split(separator: "\n") where line.contains("openblas") {
        let bounds = line.split(separator: " ")[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
        if bounds.count == 2 { blasRanges.append((bounds[0], bounds[1])) }
    }
    guard !blasRanges.isEmpty else { throw ProbeError("libopenblas is not mapped into this process") }
}

struct ProbeError: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

/// Allocations seen by the hook whose call stack passes through libopenblas, and allocations made by the hook.
nonisolated(unsafe) var blasAllocations = 0
nonisolated(unsafe) var hookAllocations = 0
nonisolated(unsafe) var inHook = false

let classify: MallocInterposerSwift.AllocationHook = { _ in
    if inHook { hookAllocations += 1; return }
    inHook = true
    defer { inHook = false }
    var frames = (nil, nil, nil, nil, nil, nil) as (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                                                    UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                                                    UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
    withUnsafeMutableBytes(of: &frames) { raw in
        let p = raw.baseAddress!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        let n = Int(backtrace(p, 6))
        for i in 0..<n {
            let a = UInt(bitPattern: p[i])
            for r in 0..<blasRanges.count where a >= blasRanges[r].0 && a < blasRanges[r].1 {
                blasAllocations += 1
                return
            }
        }
        if traced < traceLimit {
            traced += 1
            var deep = [UnsafeMutableRawPointer?](repeating: nil, count: 12)  // counted as the hook's own
            deep.withUnsafeMutableBufferPointer { d in
                let m = backtrace(d.baseAddress, 12)
                write(2, "---\n", 4)
                backtraceSymbols(d.baseAddress, m, 2)
            }
        }
    }
}

struct Count { var sparrow: Int; var blas: Int }

func count(_ body: () throws -> Void) rethrows -> Count {
    blasAllocations = 0; hookAllocations = 0; traced = 0
    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    try body()
    MallocInterposerSwift.unhook()
    let total = MallocInterposerSwift.getStatistics().mallocCount
    return Count(sparrow: total - blasAllocations - hookAllocations, blas: blasAllocations)
}

/// Env steps through the zero-allocation API with random actions, resets included.
func environmentSteps(_ name: String, windows: [Int]) throws -> [Count] {
    let env = try makeEnvironment(name)
    var g = Generator(seed: 1)
    let low = env.actionSpace.low, high = env.actionSpace.high
    var action = [Double](repeating: 0, count: low.count)
    var observation = [Double](repeating: 0, count: env.observationSpace.dimension)
    func run(_ n: Int) throws {
        try observation.withUnsafeMutableBufferPointer { obs in
            _ = try env.reset(seed: nil, observation: obs)
            for _ in 0..<n {
                for j in action.indices { action[j] = g.uniform(low[j], high[j]) }
                let outcome = try action.withUnsafeBufferPointer { try env.step(action: $0, observation: obs) }
                if outcome.terminated || outcome.truncated { _ = try env.reset(seed: nil, observation: obs) }
            }
        }
    }
    try run(200)
    return try windows.map { n in try count { try run(n) } }
}

/// Classic-control env steps (discrete random actions) through the zero-allocation API, resets included.
func classicControlSteps(_ name: String, windows: [Int]) throws -> [Count] {
    let env = try makeTrainingEnvironment(name)
    var g = Generator(seed: 1)
    let choices = env.actions.choices ?? 1
    var action = [Double](repeating: 0, count: 1)
    var observation = [Double](repeating: 0, count: env.observationSpace.dimension)
    func run(_ steps: Int) throws {
        try observation.withUnsafeMutableBufferPointer { obs in
            _ = try env.reset(seed: nil, observation: obs)
            for _ in 0..<steps {
                action[0] = Double(g.nextInt(below: choices))
                let outcome = try action.withUnsafeBufferPointer { try env.step(action: $0, observation: obs) }
                if outcome.terminated || outcome.truncated { _ = try env.reset(seed: nil, observation: obs) }
            }
        }
    }
    try run(200)
    return try windows.map { k in try count { try run(k) } }
}

/// Steps of the real training loop (act, env step, replay add, sample, one update) after the start steps; logging,
/// evaluation and checkpoints fall outside the windows.
func trainingSteps(_ preset: String, env: String, windows: [Int]) throws -> [Count] {
    // The run is longer than the windows, so its end (final metrics row, summary) falls outside them too.
    let warm = 200, start = 1000, total = start + warm + windows.reduce(0, +) + 10
    let flags: [String: Any] = ["steps": total, "start-steps": start, "eval-every": total + 1, "checkpoint-every": total + 1,
                                "checkpoint-minutes": 0,
                                "log-every": total + 1, "seed": 0]
    let config = try TrainConfig.resolve(preset: preset, env: env, file: nil, flags: flags)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-alloc-\(getpid())-\(preset)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let trainer = try OffPolicyTrainer(config: config, runDirectory: dir, resume: false)
    var done = start + warm
    _ = try trainer.run(stopAfter: done, finalCheckpoint: false)
    return try windows.map { n in
        done += n
        return try count { _ = try trainer.run(stopAfter: done, finalCheckpoint: false) }
    }
}

func json(_ counts: [Count]) -> String {
    "{\"sparrow\": [\(counts.map { String($0.sparrow) }.joined(separator: ", "))], "
        + "\"blas\": [\(counts.map { String($0.blas) }.joined(separator: ", "))]}"
}

do {
    MallocInterposerSwift.initialize()
    try readBLASRanges()
    var frame: UnsafeMutableRawPointer?
    _ = backtrace(&frame, 1)  // its first call loads the unwinder (and allocates): do that outside any window
    MallocInterposerSwift.setAllocationHook(classify)
    let windows = [100, 300]
    var results: [(String, String)] = []
    results.append(("control", json([count { for i in 0..<10 { _ = [Int](repeating: i, count: 100 + i) } }])))
    for name in ["Hopper-v5", "Ant-v5", "Humanoid-v5"] {
        results.append(("env:\(name)", json(try environmentSteps(name, windows: windows))))
    }
    for name in ["CartPole-v1", "Acrobot-v1", "MountainCar-v0"] {
        results.append(("env:\(name)", json(try classicControlSteps(name, windows: windows))))
    }
    let presets = CommandLine.arguments.count > 1 ? Array(CommandLine.arguments.dropFirst()) : Presets.names
    for preset in presets {
        results.append(("train:\(preset)", json(try trainingSteps(preset, env: "Hopper-v5", windows: windows))))
    }
    print("{" + results.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
} catch {
    FileHandle.standardError.write("sparrow-alloc-probe: \(error)\n".data(using: .utf8)!)
    exit(1)
}
