import Foundation
import XCTest

/// SwiftPM refuses a versioned dependency on a package whose products contain targets with unsafe flags; Sparrow's
/// libraries are meant to be depended on, so no target may have any (the hot kernels choose AVX2 at run time).
final class PackageManifestTests: XCTestCase {
    func testNoTargetHasUnsafeFlags() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let swift = ProcessInfo.processInfo.environment["SWIFT_EXEC"].flatMap { $0.isEmpty ? nil : $0 } ?? "swift"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [swift, "package", "--package-path", root.path, "--scratch-path", NSTemporaryDirectory() + "sparrow-manifest",
                       "dump-package"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "swift package dump-package runs")
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let targets = try XCTUnwrap(manifest["targets"] as? [[String: Any]])
        XCTAssertGreaterThan(targets.count, 10)
        for target in targets {
            let settings = (target["settings"] as? [[String: Any]]) ?? []
            let text = String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
            XCTAssertFalse(text.contains("unsafeFlags"), "target \(target["name"] ?? "?") has unsafe flags: \(text)")
        }
        // The libraries a Swift user depends on are products.
        let products = Set(((manifest["products"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
        XCTAssertTrue(products.isSuperset(of: ["Environments", "NeuralNet", "Agents", "MuJoCo"]), "\(products)")
    }
}
