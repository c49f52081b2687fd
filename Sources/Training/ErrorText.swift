import Foundation

/// One wording for every error a command reports: Sparrow's own errors as they describe themselves, and the file
/// system's (Foundation's NSError: "Error Domain=NSCocoaErrorDomain Code=516 … UserInfo={…}") as the path and the
/// reason in words, e.g. "afile: a file of that name already exists" or "metrics.csv: no space left on device".
public enum ErrorText {
    public static func describe(_ error: Error) -> String {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return "\(error)" }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        let reason = Self.reason(ns)
        return path.map { "\($0): \(reason)" } ?? reason
    }

    /// The operating system's words for the underlying errno when there is one, else the Cocoa code's.
    static func reason(_ ns: NSError) -> String {
        if ns.domain == NSPOSIXErrorDomain { return posix(Int32(ns.code)) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            if underlying.code == Int(EEXIST) { return "a file or folder of that name already exists" }
            return posix(Int32(underlying.code))
        }
        switch ns.code {
        case NSFileWriteFileExistsError: return "a file or folder of that name already exists"
        case NSFileWriteOutOfSpaceError: return "no space left on device"
        case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: return "permission denied"
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or directory"
        case NSFileWriteVolumeReadOnlyError: return "read-only file system"
        default: return "file system error \(ns.code)"
        }
    }

    static func posix(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
