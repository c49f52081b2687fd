import Foundation
import XCTest

/// Runs the built `sparrow` executable as a user would and captures what it prints.
struct CLIRun {
    let status: Int32
    let stdout: String
    let stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

enum CLI {
    /// The folder holding the test bundle also holds the `sparrow` product (the test target depends on it).
    static var executable: URL {
        let dir = Bundle.main.bundleURL.hasDirectoryPath ? Bundle.main.bundleURL : Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("sparrow")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return dir.appendingPathComponent("sparrow")
    }

    @discardableResult
    /// Runs `sparrow` with `arguments`; `environment` sets variables, and a nil value removes one.
    static func run(_ arguments: [String], environment: [String: String?] = [:]) throws -> CLIRun {
        try run(executable: executable, arguments, environment: environment)
    }

    /// Runs any program to completion and captures what it prints (environment as for `run(_:environment:)`).
    @discardableResult
    static func run(executable: URL, _ arguments: [String], environment: [String: String?] = [:]) throws -> CLIRun {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read before waiting so a large output cannot fill the pipe and block the child.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIRun(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    static func temporaryDirectory(_ name: String = #function) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("sparrow-cli-\(name.filter(\.isLetter))-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Asserts a failed run: non-zero exit, exactly one line of error text, no Swift trap, nothing on stdout.
func assertCleanFailure(_ r: CLIRun, contains fragment: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNotEqual(r.status, 0, "expected failure", file: file, line: line)
    XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("Stack dump"), r.stderr, file: file, line: line)
    let errorLines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See") && !$0.isEmpty }
    XCTAssertEqual(errorLines.count, 1, "one-line error expected, got: \(r.stderr)", file: file, line: line)
    XCTAssertTrue(r.stderr.contains(fragment), "'\(fragment)' not in: \(r.stderr)", file: file, line: line)
}
