#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Writes files so that a reader (or a crash) sees either the old complete file or the new complete file:
/// write a temporary file beside the target, fsync it, rename it over the target, fsync the directory.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw WriteError(description: "cannot write \(tmp): \(errorText())") }
        var ok = true
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { ok = false; break }
                off += n
            }
        }
        let message = errorText()
        if ok && fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok else {
            unlink(tmp)
            throw WriteError(description: "cannot write \(path): \(message)")
        }
        guard rename(tmp, path) == 0 else {
            let m = errorText()
            unlink(tmp)
            throw WriteError(description: "cannot replace \(path): \(m)")
        }
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    public static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }

    /// Appends `bytes` to the file at `path` (opened for appending) whole or not at all: if the write fails part-way
    /// (a full disk), the file is cut back to its length before it, so a log keeps whole rows only. Throws one line:
    /// the path and the reason in words ("no space left on device").
    public static func appendWhole(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw WriteError(description: "cannot append to \(path): \(errorText())") }
        defer { close(fd) }
        try appendWhole(bytes, fileDescriptor: fd, path: path)
    }

    /// `appendWhole` on an open descriptor (`path` names it in the error).
    public static func appendWhole(_ bytes: [UInt8], fileDescriptor fd: Int32, path: String) throws {
        var st = stat()
        let before: off_t? = fstat(fd, &st) == 0 ? st.st_size : nil
        var failure: String? = nil
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n < 0 ? errorText() : "nothing written"; break }
                off += n
            }
        }
        if let failure {
            if let before { _ = ftruncate(fd, before) }
            throw WriteError(description: "cannot append to \(path): \(failure)")
        }
    }

    /// Whether the file at `path` begins with `magic` (which kind of Sparrow file it is, before reading the rest);
    /// false for a missing, unreadable or shorter file.
    public static func starts(_ path: String, with magic: [UInt8]) -> Bool {
        guard let f = fopen(path, "rb") else { return false }
        defer { fclose(f) }
        var head = [UInt8](repeating: 0, count: magic.count)
        return fread(&head, 1, head.count, f) == magic.count && head == magic
    }

    public static func read(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw WriteError(description: "cannot read \(path): \(errorText())") }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
        }
        return out
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
