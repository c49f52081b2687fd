#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Finds the models-xml/ folder: $SPARROW_MODELS if set, else the repository this module was built from
/// (found from this source file's path), else next to or above the running executable.
public enum ModelFiles {
    public static func directory() throws -> String {
        var candidates: [String] = []
        if let env = getenv("SPARROW_MODELS") { candidates.append(String(cString: env)) }
        // <repo>/Sources/Environments/ModelFiles.swift → <repo>/models-xml
        let source = #filePath
        var parts = source.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 3 {
            parts.removeLast(3)
            candidates.append(parts.joined(separator: "/") + "/models-xml")
        }
        if let exe = executableDirectory() {
            var dir = exe
            for _ in 0..<5 {
                candidates.append(dir + "/models-xml")
                guard let slash = dir.lastIndex(of: "/"), slash != dir.startIndex else { break }
                dir = String(dir[..<slash])
            }
        }
        for c in candidates where isDirectory(c) { return c }
        throw EnvironmentError.modelFileNotFound(
            "no models-xml/ folder (looked in \(candidates.joined(separator: ", "))); set SPARROW_MODELS")
    }

    public static func path(for id: EnvironmentID) throws -> String {
        let p = try directory() + "/" + id.modelFileName
        guard access(p, R_OK) == 0 else { throw EnvironmentError.modelFileNotFound(p) }
        return p
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func executableDirectory() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        let path = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
