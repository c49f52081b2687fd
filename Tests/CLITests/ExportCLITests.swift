import Foundation
import XCTest

/// `sparrow export` and `sparrow eval --record` as a user runs them (onnxruntime and cc check the exported files
/// against these records in `make test-interop`).
/// Whether a checkpoint file still reads as one (`sparrow export` from it succeeds).
func CheckpointReadable(_ path: String) throws -> Bool {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-readable-\(getpid()).c").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    return try CLI.run(["export", path, "--c", out]).status == 0
}

final class ExportCLITests: XCTestCase {
    /// A short run: trained, exported from the run directory, its checkpoint file and a pretrained policy file.
    func testExportsOnnxAndCAndEvalRecordsEveryStep() throws {
        let dir = try CLI.temporaryDirectory()
        let run = dir.appendingPathComponent("run").path
        let t = try CLI.run(["train", "--preset", "tows-sac", "--env", "InvertedPendulum-v5", "--steps", "400", "--start-steps", "300",
                             "--eval-every", "400", "--eval-episodes", "1", "--no-progress", "--run-dir", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        let onnx = dir.appendingPathComponent("p.onnx").path, c = dir.appendingPathComponent("p.c").path
        let e = try CLI.run(["export", run, "--onnx", onnx, "--c", c])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertEqual(e.lines.count, 2, e.stdout)
        XCTAssertTrue(e.lines[0].hasPrefix("wrote \(onnx) ("), e.stdout)
        XCTAssertTrue(e.stdout.contains("InvertedPendulum-v5 tows-sac (sac, tows)"), e.stdout)
        XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: onnx)).count, 1000)
        let source = try String(contentsOfFile: c, encoding: .utf8)
        XCTAssertTrue(source.contains("#define SPARROW_POLICY_OBSERVATIONS 4"), String(source.prefix(600)))
        XCTAssertTrue(source.contains("layer1_row["), "the hidden layer is stored as CSR")

        let fromCheckpoint = try CLI.run(["export", run + "/checkpoint.sparrow", "--c", c, "--c-layout", "dense"])
        XCTAssertEqual(fromCheckpoint.status, 0, fromCheckpoint.stderr)
        XCTAssertFalse(try String(contentsOfFile: c, encoding: .utf8).contains("_row["), "dense layout: no CSR arrays")

        let record = dir.appendingPathComponent("eval.jsonl").path
        let ev = try CLI.run(["eval", run, "--episodes", "3", "--record", record])
        XCTAssertEqual(ev.status, 0, ev.stderr)
        struct Step: Decodable { let episode: Int; let t: Int; let observation: [Double]; let action: [Double] }
        let steps = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(Step.self, from: Data($0.utf8)) }
        XCTAssertEqual(Set(steps.map(\.episode)), [0, 1, 2])
        for (i, s) in steps.enumerated() {
            XCTAssertEqual(s.observation.count, 4); XCTAssertEqual(s.action.count, 1)
            XCTAssertEqual(s.t, i == 0 || steps[i - 1].episode != s.episode ? 0 : steps[i - 1].t + 1, "steps in order")
        }
        // Every step of every episode: InvertedPendulum-v5 pays 1 per step except the terminating one (0), and this
        // barely trained policy falls well before the 1000-step limit.
        struct Summary: Decodable { let returns: [Double] }
        let summary = try JSONDecoder().decode(Summary.self, from: Data(ev.lines.last!.utf8))
        XCTAssertLessThan(summary.returns.max()!, 999)
        XCTAssertEqual(Double(steps.count), summary.returns.reduce(0, +) + 3)

        let policyFile = try CLI.run(["export", "hopper", "--onnx", onnx])
        XCTAssertEqual(policyFile.status, 0, policyFile.stderr)
        XCTAssertTrue(policyFile.stdout.contains("Hopper-v5 tows-sac"), policyFile.stdout)
    }

    func testBadInputIsOneLine() throws {
        let dir = try CLI.temporaryDirectory()
        let out = dir.appendingPathComponent("p.onnx").path
        assertCleanFailure(try CLI.run(["export", "hopper"]), contains: "give --onnx FILE, --c FILE, or both")
        assertCleanFailure(try CLI.run(["export", "hopper", "--c", out, "--c-layout", "coo"]),
                           contains: "--c-layout must be one of csr, csc, dense, got coo")
        assertCleanFailure(try CLI.run(["export", dir.appendingPathComponent("nothing").path, "--onnx", out]),
                           contains: "no checkpoint or policy file at")
        assertCleanFailure(try CLI.run(["export", "hopper", "--onnx", dir.appendingPathComponent("missing/p.onnx").path]),
                           contains: "cannot write")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        assertCleanFailure(try CLI.run(["eval", "hopper", "--episodes", "1", "--record", dir.appendingPathComponent("missing/r.jsonl").path]),
                           contains: "--record: cannot write")
    }

    /// Issue 25: an output path that is one of a run's own files is refused in one line before anything is written,
    /// whatever the spelling (a symbolic link to the run included), and the run still resumes; a folder as a
    /// file output is one line too.
    func testOutputsNeverReplaceARunsOwnFiles() throws {
        let dir = try CLI.temporaryDirectory()
        let run = dir.appendingPathComponent("run").path
        let t = try CLI.run(["train", "--preset", "tows-sac", "--env", "InvertedPendulum-v5", "--steps", "400", "--start-steps", "300",
                             "--eval-every", "400", "--eval-episodes", "1", "--no-progress", "--checkpoint-every", "200",
                             "--run-dir", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        let link = dir.appendingPathComponent("alias").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: run)
        let own = ["checkpoint.sparrow", "metrics.csv", "config.json", "evaluations.csv", "summary.json"]
        let before = try own.map { try Data(contentsOf: URL(fileURLWithPath: run + "/" + $0)) }
        for name in own {
            assertCleanFailure(try CLI.run(["export", run, "--onnx", run + "/" + name]), contains: "would replace the run's own \(name)")
            assertCleanFailure(try CLI.run(["export", run, "--c", link + "/" + name]), contains: "would replace the run's own \(name)")
            assertCleanFailure(try CLI.run(["eval", run, "--episodes", "1", "--record", run + "/./" + name]),
                               contains: "--record")
        }
        assertCleanFailure(try CLI.run(["replay", run, "--record", run, "--frames", "2"]), contains: "is a run's folder")
        assertCleanFailure(try CLI.run(["export", run, "--onnx", dir.path]), contains: "is a folder; give a file path")
        let reportFile = dir.appendingPathComponent("a-file").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: reportFile))
        assertCleanFailure(try CLI.run(["report", dir.path, "--out", reportFile]), contains: "is a file; the report needs a folder")
        XCTAssertEqual(try own.map { try Data(contentsOf: URL(fileURLWithPath: run + "/" + $0)) }, before, "nothing was touched")
        XCTAssertTrue(try CheckpointReadable(run + "/checkpoint.sparrow"), "the checkpoint still reads")
    }
}
