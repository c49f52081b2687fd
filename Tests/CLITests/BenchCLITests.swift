import Foundation
import XCTest

final class BenchCLITests: XCTestCase {
    /// The benchmark's machine-readable contract (keys users' scripts read); speed itself is not asserted.
    func testBenchEnvJSONLines() throws {
        let r = try CLI.run(["bench", "env", "--env", "hopper", "--steps", "300", "--repeats", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines.count, 1)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(o["env"] as? String, "Hopper-v5")
        XCTAssertGreaterThan(o["env_steps_per_s"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(o["mj_steps_per_s"] as? Double ?? 0, 0)
        assertCleanFailure(try CLI.run(["bench", "env", "--env", "pong"]), contains: "unknown environment 'pong'")
        let bad = try CLI.run(["bench", "env", "--steps", "0"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--steps must be positive"), bad.stderr)
    }

    /// `bench nn --network nature-cnn --json`: one line per density × convolution × product, with the keys scripts
    /// read; the live weights are the density's share of each kernel. Speed itself is not asserted.
    func testBenchNNConvolutionJSONLines() throws {
        let r = try CLI.run(["bench", "nn", "--network", "nature-cnn", "--densities", "0.1", "--batch", "2",
                             "--minimum-time", "0.0005", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Nine per-convolution lines, then whole DQN updates: dense, and 90% (1 − 0.1) with ERK and uniform layers.
        XCTAssertEqual(r.lines.count, 12, r.stdout)
        guard r.lines.count == 12 else { return }
        let updates = try r.lines.suffix(3).map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(updates.map { $0["kernel"] as? String }, ["dqn_update", "dqn_update", "dqn_update"])
        XCTAssertEqual(updates.map { $0["backend"] as? String }, ["dense", "sparse erk", "sparse uniform"])
        XCTAssertEqual(updates.map { $0["sparsity"] as? Double }, [0, 0.9, 0.9])
        XCTAssertEqual(updates[1]["live_weights"] as? Int ?? 0, updates[2]["live_weights"] as? Int ?? -100, accuracy: 5)
        for u in updates { XCTAssertGreaterThan(u["update_ms"] as? Double ?? 0, 0) }
        let kernels = [8 * 8 * 4 * 32, 4 * 4 * 32 * 64, 3 * 3 * 64 * 64]
        for (i, line) in r.lines.prefix(9).enumerated() {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            XCTAssertEqual(o["network"] as? String, "nature-cnn")
            XCTAssertEqual(o["kernel"] as? String, ["forward", "input_gradient", "weight_gradient"][i % 3])
            XCTAssertEqual(o["batch"] as? Int, 2)
            XCTAssertEqual(o["density"] as? Double, 0.1)
            let live = try XCTUnwrap(o["live_weights"] as? Int)
            XCTAssertEqual(Double(live), 0.1 * Double(kernels[i / 3]), accuracy: 1, line)
            for key in ["sparse_ms", "dense_ms", "speedup_vs_dense", "sparse_gflops", "dense_gflops", "gflops_ratio"] {
                XCTAssertGreaterThan(o[key] as? Double ?? 0, 0, "\(key) in \(line)")
            }
        }
        assertCleanFailure(try CLI.run(["bench", "nn", "--network", "resnet"]), contains: "resnet")
    }

    /// `bench dense-path --save --json`: one entry per layer of `--widths`, the crossover consistent with its own
    /// timings, and `--save` puts the entries into the cache `--dense-path timed` runs read. Speed is not asserted.
    func testBenchDensePathTimesEachLayerAndSavesTheCache() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-cli-densepath-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let r = try CLI.run(["bench", "dense-path", "--widths", "70", "33", "9", "--batch", "8", "--densities", "0.5", "1",
                             "--rounds", "1", "--save", "--json"], environment: ["SPARROW_CACHE_DIR": cache])
        XCTAssertEqual(r.status, 0, r.stderr)
        let table = try XCTUnwrap(JSONSerialization.jsonObject(with: Data((r.lines.last ?? "").utf8)) as? [String: Any], r.stdout)
        let entries = try XCTUnwrap(table["entries"] as? [[String: Any]])
        XCTAssertEqual(entries.map { [$0["fan_in"] as? Int, $0["fan_out"] as? Int, $0["batch"] as? Int] }, [[70, 33, 8], [33, 9, 8]])
        for e in entries {
            let sparse = try XCTUnwrap(e["sparse_ms"] as? [Double]), dense = try XCTUnwrap(e["dense_ms"] as? [Double])
            XCTAssertEqual(sparse.count, 2); XCTAssertEqual(dense.count, 2)
            let expected: Double? = dense[1] < sparse[1] ? (dense[0] < sparse[0] ? 0.5 : 1) : nil
            XCTAssertEqual(e["dense_from"] as? Double, expected, "\(e)")
            XCTAssertTrue(e.keys.contains("dense_from"), "written as null when never")
        }
        let saved = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cache + "/dense-path.json"))) as? [String: Any])
        let tables = try XCTUnwrap(saved["tables"] as? [[String: Any]])
        XCTAssertEqual(tables.count, 1)
        XCTAssertEqual(tables.first?["machine"] as? String, table["machine"] as? String)
        XCTAssertEqual((tables.first?["entries"] as? [Any])?.count, 2)
        let bad = try CLI.run(["bench", "dense-path", "--densities", "0.5", "0.2"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--densities must be ascending"), bad.stderr)
        assertCleanFailure(try CLI.run(["bench", "nn", "--dense-path", "timed"]), contains: "--dense-path takes rule or off here")
    }
}

/// The OpenBLAS kernel family (issue 10): a generic fallback is replaced on a CPU with AVX2, a user's
/// OPENBLAS_CORETYPE is left alone, and `bench … --json` says which core ran.
final class BLASCoreCLITests: XCTestCase {
    func blas(_ environment: [String: String?]) throws -> [String: Any] {
        let r = try CLI.run(["bench", "blas", "--sizes", "64", "--minimum-time", "0.001", "--json"], environment: environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data((r.lines.last ?? "").utf8)) as? [String: Any], r.stdout)
    }

    /// OpenBLAS made to start from Prescott, as on a CPU model its table does not know (Xeon Emerald Rapids
    /// with Debian's 0.3.21): the process must end up on an AVX2/AVX-512 family, checked against a reference.
    func testGenericFallbackIsReplacedOnAnAVX2CPU() throws {
        let o = try blas(["SPARROW_BLAS_TEST_DETECTED": "Prescott", "OPENBLAS_CORETYPE": nil])
        let features = (o["cpu_features"] as? String ?? "").split(separator: " ")
        try XCTSkipUnless(features.contains("avx2"), "this CPU has no AVX2: Prescott-class kernels are all it can run")
        XCTAssertEqual(o["blas_core_detected"] as? String, "Prescott")
        let core = try XCTUnwrap(o["blas_core"] as? String)
        let expected = features.contains("avx512f") ? ["SkylakeX", "Cooperlake"] : ["Haswell", "Zen"]
        XCTAssertTrue(expected.contains(core), "core \(core) for features \(features)")
        XCTAssertEqual(o["blas_core_changed"] as? Bool, true)
        XCTAssertEqual(o["blas_core_verified"] as? Bool, true)
        XCTAssertGreaterThan((o["sgemm_gflops"] as? [Double])?.first ?? 0, 0)
    }

    /// A user's core this CPU cannot run is a one-line error at start-up, not an illegal-instruction crash.
    func testUsersCoreTypeThisCPUCannotRunIsAClearError() throws {
        let o = try blas(["OPENBLAS_CORETYPE": nil, "SPARROW_BLAS_TEST_DETECTED": nil])
        let features = (o["cpu_features"] as? String ?? "").split(separator: " ")
        try XCTSkipIf(features.contains("avx512f"), "this CPU runs SkylakeX kernels")
        let r = try CLI.run(["bench", "blas", "--sizes", "64"], environment: ["OPENBLAS_CORETYPE": "SkylakeX"])
        assertCleanFailure(r, contains: "OPENBLAS_CORETYPE=SkylakeX cannot be used on this CPU: ")
        XCTAssertTrue(r.stderr.contains("illegal instruction"), r.stderr)
        XCTAssertEqual(r.status, 2)
    }

    func testUsersCoreTypeWins() throws {
        let o = try blas(["OPENBLAS_CORETYPE": "Prescott", "SPARROW_BLAS_TEST_DETECTED": nil])
        XCTAssertEqual(o["blas_core"] as? String, "Prescott")
        XCTAssertEqual(o["blas_core_user_set"] as? Bool, true)
        XCTAssertEqual(o["blas_core_changed"] as? Bool, false)
    }

    /// Nothing set: whatever OpenBLAS detects here, the core in use is not a generic one on an AVX2 CPU.
    func testDefaultCoreIsNotGeneric() throws {
        let o = try blas(["OPENBLAS_CORETYPE": nil, "SPARROW_BLAS_TEST_DETECTED": nil])
        let features = (o["cpu_features"] as? String ?? "").split(separator: " ")
        try XCTSkipUnless(features.contains("avx2"), "no AVX2 on this CPU")
        let generic = ["Prescott", "Core2", "Katmai", "Atom", "Nehalem", "Penryn", "Dunnington", "Sandybridge", "Barcelona",
                       "Opteron", "Opteron_SSE3", "Northwood", "Coppermine", "Banias", "Athlon", "Nano", "Bobcat", "Unknown"]
        XCTAssertFalse(generic.contains(o["blas_core"] as? String ?? "?"), "\(o)")
        XCTAssertEqual(o["blas_core_verified"] as? Bool, true)
    }
}
