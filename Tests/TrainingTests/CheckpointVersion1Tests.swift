import Foundation
import SparrowCore
import XCTest
@testable import Training

/// A checkpoint written by the code before the compact replay buffer (checkpoint version 1, whose buffer holds s
/// and s′ in full), committed as a fixture: the current code resumes it and continues it exactly.
///
/// Fixtures/checkpoint-v1 was made with commit 26dbf3d:
///   sparrow train --env Hopper-v5 --preset tows-sac --hidden 64,64 --steps 3000 --start-steps 1000 \
///     --eval-every 1000 --eval-episodes 2 --checkpoint-every 500 --log-every 100 --buffer-size 800 --seed 0
/// stopped by SIGTERM at step 1395 (the replay buffer had wrapped; 395 updates done): checkpoint.sparrow.gz
/// (gzip: the MuJoCo snapshot is mostly zeros), metrics.csv and evaluations.csv as the run left them.
/// The run directory's other files are not needed.
final class CheckpointVersion1Tests: XCTestCase {
    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/checkpoint-v1") }

    /// A run directory holding the fixture's checkpoint (decompressed), metrics.csv and evaluations.csv.
    func fixtureRun(_ name: String = #function) throws -> String {
        let dir = temporaryRunDirectory(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let bytes = try gunzip(fixtures.appendingPathComponent("checkpoint.sparrow.gz"))
        try bytes.write(to: URL(fileURLWithPath: dir + "/checkpoint.sparrow"))
        for f in ["metrics.csv", "evaluations.csv"] {
            try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent(f).path, toPath: dir + "/" + f)
        }
        return dir
    }

    func version(_ path: String) throws -> UInt32 {
        let b = try AtomicFile.read(path)
        return UInt32(b[8]) | UInt32(b[9]) << 8 | UInt32(b[10]) << 16 | UInt32(b[11]) << 24
    }

    func testVersion1CheckpointResumesAndContinues() throws {
        let dir = try fixtureRun()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/checkpoint.sparrow"
        XCTAssertEqual(try version(path), 1)
        let oldSize = try AtomicFile.read(path).count
        let (config, _) = try CheckpointFile.read(path)
        let trainer = try OffPolicyTrainer(config: config, runDirectory: dir, resume: true)
        XCTAssertEqual(trainer.step, 1395)
        XCTAssertEqual(trainer.buffer.count, 800)
        let summary = try trainer.run()
        XCTAssertEqual(summary.outcome, .finished)
        XCTAssertEqual(summary.step, 3000)
        // The final checkpoint is version 2; its buffer (the same 800 transitions) is one observation copy smaller.
        XCTAssertEqual(try version(path), 2)
        let newSize = try AtomicFile.read(path).count
        XCTAssertLessThan(newSize, oldSize - 800 * 11 * 4 / 2, "compact buffer: \(oldSize) → \(newSize) bytes")
        XCTAssertNoThrow(try TrainingCheckpoint.loadAgent(checkpoint: path))
    }

    /// Resuming the old file and going straight to the end equals resuming it, stopping (a version-2 checkpoint)
    /// and resuming again: the converted buffer continues exactly. (Before flush-to-zero arithmetic landed, the
    /// continuation also matched the old build's own metrics row for row on the machine that made the fixture;
    /// that comparison is not kept, since float results differ between BLAS kernel families and CPUs.)
    func testVersion1CheckpointContinuesExactlyThroughAVersion2Checkpoint() throws {
        let straight = try fixtureRun("straight"), split = try fixtureRun("split")
        defer { try? FileManager.default.removeItem(atPath: straight); try? FileManager.default.removeItem(atPath: split) }
        let (config, _) = try CheckpointFile.read(straight + "/checkpoint.sparrow")
        try OffPolicyTrainer(config: config, runDirectory: straight, resume: true).run()
        let first = try OffPolicyTrainer(config: config, runDirectory: split, resume: true).run(stopAfter: 2222)
        XCTAssertEqual(first.outcome, .interrupted)
        XCTAssertEqual(try version(split + "/checkpoint.sparrow"), 2)
        try OffPolicyTrainer(config: config, runDirectory: split, resume: true).run()
        XCTAssertEqual(try deterministicMetrics(straight), try deterministicMetrics(split))
        XCTAssertEqual(try file(straight, "evaluations.csv"), try file(split, "evaluations.csv"))
    }

    /// A version this build does not read is refused in one line, naming the versions it reads.
    func testOtherCheckpointVersionsAreRefused() throws {
        let dir = try fixtureRun()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/checkpoint.sparrow"
        for v: UInt8 in [0, 3] {
            var bytes = try AtomicFile.read(path)
            bytes[8] = v
            let other = dir + "/v\(v).sparrow"
            try Data(bytes).write(to: URL(fileURLWithPath: other))
            XCTAssertThrowsError(try CheckpointFile.read(other)) { error in
                XCTAssertTrue("\(error)".contains("format version \(v) is not supported (this build reads versions 1 to 2)"),
                              "\(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}
