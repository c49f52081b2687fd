import Foundation
import XCTest

/// The hot loops allocate nothing per step: env steps and resets, and the whole training step (act, env step,
/// replay add and sample, one update, target update) of every preset whose topology is static between updates.
/// `sparrow-alloc-probe` counts allocations under ordo-one's malloc interposer (LD_PRELOAD), over a 100- and a
/// 300-step window; a per-step allocation would add at least 200 to the second.
final class AllocationTests: XCTestCase {
    func testHotLoopsAllocateNothingPerStep() throws {
        let dir = CLI.executable.deletingLastPathComponent()
        let probe = dir.appendingPathComponent("sparrow-alloc-probe").path
        let interposer = dir.appendingPathComponent("libMallocInterposerSwift.so").path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: probe), "missing \(probe)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: interposer), "missing \(interposer)")
        // TowS presets included: their maintain-sparsity targets change support on most updates after a SET update
        // (a newcomer outgrows a decaying weight), and that update now runs in reused storage (issue 26).
        let presets = ["dense-sac", "dense-td3", "ss-sac", "ss-td3", "ds-sac", "ds-td3", "tows-sac", "tows-td3",
                       "set-sac", "rigl-sac", "prune-sac"]
        let r = try CLI.run(executable: URL(fileURLWithPath: probe), presets, environment: ["LD_PRELOAD": interposer])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = r.stdout
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String: [Int]]], text)
        func counts(_ key: String) throws -> [Int] { try XCTUnwrap(results[key]?["sparrow"], "\(key) missing in \(text)") }

        XCTAssertGreaterThanOrEqual(try counts("control").first ?? 0, 10, "the interposer must see the control's allocations")
        for name in ["Hopper-v5", "Ant-v5", "Humanoid-v5", "CartPole-v1", "Acrobot-v1", "MountainCar-v0"] {
            XCTAssertEqual(try counts("env:\(name)"), [0, 0], "\(name): env steps and resets must not allocate")
        }
        for preset in presets {
            let c = try counts("train:\(preset)")
            XCTAssertEqual(c.count, 2)
            // A constant per call (the loop's own set-up) is fine; growth with the window is not (amortised array
            // growth of the episode-return list may add one).
            XCTAssertLessThanOrEqual(abs(c[1] - c[0]), 2, "\(preset): allocations grow with the number of steps: \(c)")
            XCTAssertLessThan(c[0], 50, "\(preset): \(c)")
        }
    }
}
