import Agents
import Environments
import Foundation
import SparrowCore
import XCTest
@testable import Training

/// Policy files written before the one binary format (version 1, their own layer encoding), committed with the
/// checkpoints they were exported from: they still load and act exactly as the checkpoint's agent, and re-exported
/// as version 2 (a `NetworkArchive` inside the common frame) act the same again.
///
/// Fixtures/policy-v1 was made with commit 8e1787c:
///   sparrow train --env InvertedPendulum-v5 --preset ds-td3 --hidden 32,32 --steps 600 --start-steps 300 \
///     --eval-every 300 --eval-episodes 1 --buffer-size 700      (and tows-sac with --hidden 64,64)
///   sparrow replay RUN --export-policy NAME.policy
/// (checkpoints gzipped). ds-td3 has masked layers, which version 1 stored truly sparse.
final class PolicyFileVersion1Tests: XCTestCase {
    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/policy-v1") }

    func checkpoint(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "sparrow-\(name)-\(getpid()).sparrow"
        let bytes = try gunzip(fixtures.appendingPathComponent("\(name).checkpoint.sparrow.gz"))
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    func testVersion1PoliciesActAsTheirAgentsAndReexportAsVersion2() throws {
        for name in ["ds-td3", "tows-sac"] {
            let path = fixtures.appendingPathComponent("\(name).policy").path
            let bytes = try AtomicFile.read(path)
            XCTAssertEqual(UInt32(bytes[8]), 1, "\(name) is a version-1 file")
            let old = try PolicyFile.read(path)
            let ckpt = try checkpoint(name)
            defer { try? FileManager.default.removeItem(atPath: ckpt) }
            let (config, agent) = try TrainingCheckpoint.loadAgent(checkpoint: ckpt)
            XCTAssertEqual(old.config, config)
            let env = try makeEnvironment(config.env)
            let v2 = try PolicyFile.encode(agent: agent, config: config, actionLow: env.actionSpace.low, actionHigh: env.actionSpace.high)
            XCTAssertEqual(UInt32(v2[8]), 2)
            XCTAssertLessThan(Double(v2.count), 1.3 * Double(bytes.count), "\(name): version 2 stays small (no optimizer state)")
            let new = try PolicyFile.decode(v2)
            XCTAssertEqual(new.header, old.header)
            var g = Generator(seed: 5)
            var a = [Float](repeating: 0, count: old.actionSize), b = a, c = a
            for _ in 0..<100 {
                let obs = (0..<env.observationSpace.dimension).map { _ in g.normal() }
                obs.withUnsafeBufferPointer { o in
                    a.withUnsafeMutableBufferPointer { agent.act(o, deterministic: true, into: $0) }
                    b.withUnsafeMutableBufferPointer { old.act(o, into: $0) }
                    c.withUnsafeMutableBufferPointer { new.act(o, into: $0) }
                }
                XCTAssertEqual(b, a, "\(name): the version-1 file acts as the agent")
                XCTAssertEqual(c, a, "\(name): the version-2 file acts as the agent")
            }
        }
    }
}
