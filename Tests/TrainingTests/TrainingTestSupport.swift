import Foundation
import XCTest
@testable import Training

/// A small run config: the preset's values with a few loop knobs shrunk for tests.
func smallConfig(_ preset: String, env: String = "InvertedPendulum-v5", _ flags: [String: Any] = [:]) throws -> TrainConfig {
    var f: [String: Any] = ["steps": 3000, "start-steps": 500, "eval-every": 500, "eval-episodes": 2,
                            "checkpoint-every": 1000, "log-every": 250, "buffer-size": 100_000]
    for (k, v) in flags { f[k] = v }
    return try TrainConfig.resolve(preset: preset, env: env, file: nil, flags: f)
}

func temporaryRunDirectory(_ name: String = #function) -> String {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("sparrow-train-\(name.filter { $0.isLetter || $0.isNumber })-\(getpid())").path
    try? FileManager.default.removeItem(atPath: dir)
    return dir
}

/// metrics.csv without the wall-clock columns (wall time, steps/s), which no two runs share.
func deterministicMetrics(_ dir: String) throws -> [String] {
    try String(contentsOfFile: dir + "/metrics.csv", encoding: .utf8).split(separator: "\n").map { line in
        let cols = line.split(separator: ",", omittingEmptySubsequences: false)
        return ([cols[0]] + cols.dropFirst(3)).joined(separator: ",")
    }
}

func file(_ dir: String, _ name: String) throws -> String { try String(contentsOfFile: dir + "/" + name, encoding: .utf8) }

/// The contents of a gzipped fixture (`gzip -dc`; the MuJoCo snapshots in checkpoints are mostly zeros).
func gunzip(_ url: URL) throws -> Data {
    let gzip = Process()
    gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    gzip.arguments = ["gzip", "-dc", url.path]
    let out = Pipe()
    gzip.standardOutput = out
    try gzip.run()
    let bytes = out.fileHandleForReading.readDataToEndOfFile()
    gzip.waitUntilExit()
    XCTAssertEqual(gzip.terminationStatus, 0, "gzip -dc \(url.lastPathComponent)")
    return bytes
}
