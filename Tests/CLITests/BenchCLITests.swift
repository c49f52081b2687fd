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
}
