#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The Arcade Learning Environment, loaded at run time.
///
/// ALE is GPL-2.0-only, so `sparrow` does not link it: tools/ale/build.sh (run by `make deps`) builds ALE with a
/// small C shim (tools/ale/sparrow_ale_shim.cpp) into libsparrow_ale.so, and this type dlopen()s that library the
/// first time an Atari task is asked for. Without it every non-Atari command works the same, and an Atari task is a
/// one-line error saying how to build it. The library is looked for at, in order:
///   1. $SPARROW_ALE_LIB (the .so itself; when set, only there: a wrong explicit path is an error, not a silent
///      fallback to another library),
///   2. next to the running executable (a distribution that ships the shim beside `sparrow`),
///   3. the build cache of the repository this module was built from, <repo>/.build/ale/lib (found from this source
///      file's path, as `ModelFiles` finds models-xml/).
/// ROMs: $SPARROW_ALE_ROMS, else the `roms` folder beside the library's `lib` folder (the cache's layout), else a
/// `roms` folder next to the library.
final class ALELibrary: @unchecked Sendable {
    typealias Handle = OpaquePointer
    let path: String
    let romDirectory: String
    let version: String

    // The shim's C API (tools/ale/sparrow_ale_shim.cpp), one pointer per function.
    let create: @convention(c) () -> Handle?
    let createError: @convention(c) () -> UnsafePointer<CChar>
    let destroy: @convention(c) (Handle) -> Void
    let lastError: @convention(c) (Handle) -> UnsafePointer<CChar>
    let setInt: @convention(c) (Handle, UnsafePointer<CChar>, Int32) -> Int32
    let setFloat: @convention(c) (Handle, UnsafePointer<CChar>, Float) -> Int32
    let setBool: @convention(c) (Handle, UnsafePointer<CChar>, Int32) -> Int32
    let loadROM: @convention(c) (Handle, UnsafePointer<CChar>) -> Int32
    let act: @convention(c) (Handle, Int32, Float, UnsafeMutablePointer<Int32>) -> Int32
    let resetGame: @convention(c) (Handle) -> Void
    let gameOver: @convention(c) (Handle, Int32) -> Int32
    let gameTruncated: @convention(c) (Handle) -> Int32
    let lives: @convention(c) (Handle) -> Int32
    let frameNumber: @convention(c) (Handle) -> Int32
    let episodeFrameNumber: @convention(c) (Handle) -> Int32
    let actionSet: @convention(c) (Handle, Int32, UnsafeMutablePointer<Int32>, Int32) -> Int32
    let screenWidth: @convention(c) (Handle) -> Int32
    let screenHeight: @convention(c) (Handle) -> Int32
    let screenGrayscale: @convention(c) (Handle, UnsafeMutablePointer<UInt8>) -> Int32
    let screenRGB: @convention(c) (Handle, UnsafeMutablePointer<UInt8>) -> Int32
    let cloneState: @convention(c) (Handle, Int32) -> Int
    let copyState: @convention(c) (Handle, UnsafeMutablePointer<UInt8>) -> Void
    let restoreState: @convention(c) (Handle, UnsafePointer<UInt8>, Int) -> Int32

    /// The C ABI version this code speaks (kABIVersion in the shim).
    static let abiVersion: Int32 = 1
    static let fileName = "libsparrow_ale.so"
    static let howToBuild = "run `make deps` (or tools/ale/build.sh) to build ALE, or set SPARROW_ALE_LIB to a built "
        + "\(fileName)"

    /// The process's library, loaded once; the error is kept so every later request fails the same way.
    static let shared: Result<ALELibrary, EnvironmentError> = Result(catching: { try ALELibrary.load() })
        .mapError { $0 as? EnvironmentError ?? .atariUnavailable("\($0)") }

    static func get() throws -> ALELibrary { try shared.get() }

    /// Where the library may be, in the order tried.
    static func candidatePaths() -> [String] {
        var paths: [String] = []
        if let env = getenv("SPARROW_ALE_LIB") { return [String(cString: env)] }
        if let exe = ModelFiles.executableDirectory() { paths.append(exe + "/" + fileName) }
        // <repo>/Sources/Environments/Atari/ALELibrary.swift → <repo>/.build/ale/lib
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 4 {
            parts.removeLast(4)
            paths.append(parts.joined(separator: "/") + "/.build/ale/lib/" + fileName)
        }
        return paths
    }

    static func load() throws -> ALELibrary {
        let candidates = candidatePaths()
        guard let path = candidates.first(where: { access($0, R_OK) == 0 }) else {
            throw EnvironmentError.atariUnavailable("Atari support is not built: no \(fileName) (looked at "
                + "\(candidates.joined(separator: ", "))); \(howToBuild)")
        }
        guard let dl = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw EnvironmentError.atariUnavailable("\(path) could not be loaded; rebuild it: \(howToBuild)")
        }
        let abi = try symbol(dl, path, "sparrow_ale_abi_version", (@convention(c) () -> Int32).self)()
        guard abi == abiVersion else {
            throw EnvironmentError.atariUnavailable("\(path) speaks shim version \(abi), this sparrow needs "
                + "\(abiVersion); \(howToBuild)")
        }
        return try ALELibrary(path: path, dl: dl)
    }

    /// A function of the shim, or a one-line error (a library that is not the shim, or an older one).
    static func symbol<T>(_ dl: UnsafeMutableRawPointer, _ path: String, _ name: String, _: T.Type) throws -> T {
        guard let p = dlsym(dl, name) else {
            throw EnvironmentError.atariUnavailable("\(path) has no \(name) (not the shim, or an older one); \(howToBuild)")
        }
        return unsafeBitCast(p, to: T.self)
    }

    private init(path: String, dl: UnsafeMutableRawPointer) throws {
        func f<T>(_ name: String) throws -> T { try Self.symbol(dl, path, "sparrow_ale_" + name, T.self) }
        self.path = path
        let versionFunction: @convention(c) () -> UnsafePointer<CChar> = try f("version")
        version = String(cString: versionFunction())
        create = try f("create"); createError = try f("create_error"); destroy = try f("destroy")
        lastError = try f("last_error")
        setInt = try f("set_int"); setFloat = try f("set_float"); setBool = try f("set_bool")
        loadROM = try f("load_rom"); act = try f("act"); resetGame = try f("reset_game")
        gameOver = try f("game_over"); gameTruncated = try f("game_truncated"); lives = try f("lives")
        frameNumber = try f("frame_number"); episodeFrameNumber = try f("episode_frame_number")
        actionSet = try f("action_set")
        screenWidth = try f("screen_width"); screenHeight = try f("screen_height")
        screenGrayscale = try f("screen_grayscale"); screenRGB = try f("screen_rgb")
        cloneState = try f("clone_state"); copyState = try f("copy_state"); restoreState = try f("restore_state")
        romDirectory = Self.romDirectory(libraryPath: path)
    }

    static func romDirectory(libraryPath: String) -> String {
        if let env = getenv("SPARROW_ALE_ROMS") { return String(cString: env) }
        let libDir = libraryPath.lastIndex(of: "/").map { String(libraryPath[..<$0]) } ?? "."
        let parent = libDir.lastIndex(of: "/").map { String(libDir[..<$0]) } ?? ".."
        return ModelFiles.isDirectory(parent + "/roms") ? parent + "/roms" : libDir + "/roms"
    }

    /// The ROM file of a game, or a one-line error saying where it was looked for and how to get it.
    func romPath(for game: AtariGame) throws -> String {
        let p = romDirectory + "/" + game.romFileName
        guard access(p, R_OK) == 0 else {
            throw EnvironmentError.atariUnavailable("no ROM for \(game.name) at \(p); \(Self.howToBuild) (it unpacks "
                + "the ROMs of ale-py's source distribution), or set SPARROW_ALE_ROMS to a folder of ROMs")
        }
        return p
    }
}

/// One ALE instance (an `ALEInterface`), freed with its owner.
final class ALEInstance {
    let lib: ALELibrary
    let handle: ALELibrary.Handle

    init(_ lib: ALELibrary) throws {
        self.lib = lib
        guard let h = lib.create() else {
            throw EnvironmentError.atariFailure("ALE could not start: \(String(cString: lib.createError()))")
        }
        handle = h
    }

    deinit { lib.destroy(handle) }

    /// The last error ALE reported on this instance, as one line.
    var lastError: String {
        String(cString: lib.lastError(handle)).split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    func check(_ code: Int32, _ what: @autoclosure () -> String) throws {
        if code < 0 { throw EnvironmentError.atariFailure("\(what()): \(lastError)") }
    }

    func set(_ key: String, _ value: Int32) throws { try check(lib.setInt(handle, key, value), "ALE setting \(key)") }
    func set(_ key: String, _ value: Float) throws { try check(lib.setFloat(handle, key, value), "ALE setting \(key)") }
    func set(_ key: String, _ value: Bool) throws { try check(lib.setBool(handle, key, value ? 1 : 0), "ALE setting \(key)") }
    func loadROM(_ path: String) throws { try check(lib.loadROM(handle, path), "ALE could not load \(path)") }

    /// One emulator frame; the frame's reward.
    @inline(__always)
    func act(_ action: Int32, strength: Float = 1) -> Int32 {
        var reward: Int32 = 0
        _ = lib.act(handle, action, strength, &reward)
        return reward
    }
    func resetGame() { lib.resetGame(handle) }
    func gameOver(withTruncation: Bool) -> Bool { lib.gameOver(handle, withTruncation ? 1 : 0) != 0 }
    var gameTruncated: Bool { lib.gameTruncated(handle) != 0 }
    var lives: Int { Int(lib.lives(handle)) }
    var frameNumber: Int { Int(lib.frameNumber(handle)) }
    var episodeFrameNumber: Int { Int(lib.episodeFrameNumber(handle)) }
    var screenWidth: Int { Int(lib.screenWidth(handle)) }
    var screenHeight: Int { Int(lib.screenHeight(handle)) }

    func actionSet(legal: Bool) -> [Int32] {
        var out = [Int32](repeating: 0, count: 32)
        let n = Int(lib.actionSet(handle, legal ? 1 : 0, &out, Int32(out.count)))
        return Array(out.prefix(max(0, min(n, out.count))))
    }

    func grayscale(into p: UnsafeMutablePointer<UInt8>) { _ = lib.screenGrayscale(handle, p) }
    func rgb(into p: UnsafeMutablePointer<UInt8>) { _ = lib.screenRGB(handle, p) }

    /// ALE's serialised emulator state (with its random generator when `includeRNG`).
    func cloneState(includeRNG: Bool) throws -> [UInt8] {
        let n = lib.cloneState(handle, includeRNG ? 1 : 0)
        guard n >= 0 else { throw EnvironmentError.atariFailure("ALE could not save its state: \(lastError)") }
        var bytes = [UInt8](repeating: 0, count: n)
        bytes.withUnsafeMutableBufferPointer { if n > 0 { lib.copyState(handle, $0.baseAddress!) } }
        return bytes
    }

    func restoreState(_ bytes: [UInt8]) throws {
        let code = bytes.withUnsafeBufferPointer { lib.restoreState(handle, $0.baseAddress!, $0.count) }
        try check(code, "ALE could not restore a saved state")
    }
}
