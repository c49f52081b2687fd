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

    public static func write(_ bytes: [UInt8], to path: String) throws { try write(ByteChunks(bytes), to: path) }

    public static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }

    /// Writes the concatenation of `chunks`' pieces, without joining them in memory: small pieces are gathered in a
    /// 1 MiB staging buffer, large ones go to the file from where they lie. A failure at any point (a full disk, a
    /// kill) leaves the previous file at `path` as it was; the error names the path and the reason in words.
    public static func write(_ chunks: ByteChunks, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw WriteError(description: "cannot write \(tmp): \(errorText())") }
        var failure = writeAll(chunks, to: fd)
        if failure == nil && fsync(fd) != 0 { failure = errorText() }
        close(fd)
        if let failure {
            unlink(tmp)
            throw WriteError(description: "cannot write \(path): \(failure)")
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

    /// Writes every piece to `fd`; nil, or the reason it stopped.
    private static func writeAll(_ chunks: ByteChunks, to fd: Int32) -> String? {
        let stagingSize = 1 << 20
        let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: stagingSize, alignment: 16)
        defer { staging.deallocate() }
        var staged = 0
        var failure: String? = nil
        func flush() {
            if failure == nil && staged > 0 { failure = writeWhole(UnsafeRawBufferPointer(rebasing: staging[0..<staged]), to: fd) }
            staged = 0
        }
        chunks.forEach { piece in
            guard failure == nil, piece.count > 0 else { return }
            if staged + piece.count <= stagingSize {
                (staging.baseAddress! + staged).copyMemory(from: piece.baseAddress!, byteCount: piece.count)
                staged += piece.count
            } else {
                flush()
                if piece.count < stagingSize {
                    staging.baseAddress!.copyMemory(from: piece.baseAddress!, byteCount: piece.count)
                    staged = piece.count
                } else if failure == nil {
                    failure = writeWhole(piece, to: fd)
                }
            }
        }
        flush()
        return failure
    }

    /// Writes all of `raw` (retrying after signals and partial writes); nil, or the reason it stopped.
    private static func writeWhole(_ raw: UnsafeRawBufferPointer, to fd: Int32) -> String? {
        var off = 0
        while off < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return n < 0 ? errorText() : "nothing written" }
            off += n
        }
        return nil
    }

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
        if let failure = bytes.withUnsafeBytes({ writeWhole($0, to: fd) }) {
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

    static func errorText() -> String { String(cString: strerror(errno)) }
}

/// A file's bytes mapped read-only into memory, for reading a checkpoint of gigabytes in place: the pages are the
/// file's own (the kernel's page cache), so no anonymous copy of the file is made and the kernel can drop them again
/// under memory pressure. Sparrow replaces files by rename (`AtomicFile`), never rewrites them in place, so a mapped
/// file cannot shrink under its reader.
public final class MappedFile {
    /// The file's bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer
    public var count: Int { bytes.count }

    /// Maps the file at `path`; throws "cannot read PATH: reason" (as `AtomicFile.read`).
    public init(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw AtomicFile.WriteError(description: "cannot read \(path): \(AtomicFile.errorText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw AtomicFile.WriteError(description: "cannot read \(path): \(AtomicFile.errorText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            let reason = (st.st_mode & S_IFMT) == S_IFDIR ? String(cString: strerror(EISDIR)) : "not a regular file"
            throw AtomicFile.WriteError(description: "cannot read \(path): \(reason)")
        }
        let size = Int(st.st_size)
        guard size > 0 else { bytes = UnsafeRawBufferPointer(start: nil, count: 0); return }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw AtomicFile.WriteError(description: "cannot read \(path): \(AtomicFile.errorText())")
        }
        // Read front to back (checksum, then decode): let the kernel read ahead.
        _ = madvise(base, size, MADV_SEQUENTIAL)
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// The bytes in `range` are done with: drop the pages wholly inside it from this process. The mapping stays
    /// valid: a page touched again is read back from the file (the mapping is never written, so nothing is lost).
    func release(_ range: Range<Int>) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lower = (range.lowerBound + page - 1) / page * page, upper = min(range.upperBound, bytes.count) / page * page
        guard upper > lower, let base = bytes.baseAddress else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base) + lower, upper - lower, MADV_DONTNEED)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
