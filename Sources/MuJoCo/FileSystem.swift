#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The few file operations the MuJoCo layer needs, without pulling Foundation into this module.
enum FileSystem {
    static func temporaryDirectory() -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/sparrow-mj-XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { buf -> String in
            guard let p = mkdtemp(buf.baseAddress!) else { return base }
            return String(cString: p)
        }
    }

    static func write(_ text: String, to path: String) throws {
        guard let f = fopen(path, "wb") else {
            throw MuJoCoError.loadFailed(path: path, message: "cannot write temporary file")
        }
        defer { fclose(f) }
        let bytes = Array(text.utf8)
        guard fwrite(bytes, 1, bytes.count, f) == bytes.count else {
            throw MuJoCoError.loadFailed(path: path, message: "cannot write temporary file")
        }
    }

    static func removeTree(_ dir: String) {
        guard let d = opendir(dir) else { return }
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { unlink(dir + "/" + name) }
        }
        closedir(d)
        rmdir(dir)
    }
}
