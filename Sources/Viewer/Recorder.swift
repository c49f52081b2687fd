import CMuJoCo
import Foundation
import SparrowCore
import Training

/// Settings of an offscreen recording.
public struct RecordOptions: Sendable {
    public var path: String
    public var frames: Int
    public var width: Int
    public var height: Int
    /// Video frames per second of simulated time (times `speed`).
    public var fps: Double
    public var speed: Double
    public var effects: RenderEffects
    public var overlay: Bool
    public init(path: String, frames: Int, width: Int, height: Int, fps: Double, speed: Double, effects: RenderEffects,
                overlay: Bool) {
        self.path = path; self.frames = frames; self.width = width; self.height = height; self.fps = fps
        self.speed = speed; self.effects = effects; self.overlay = overlay
    }
}

/// What a recording produced.
public struct RecordResult: Sendable {
    public enum Output: Equatable, Sendable { case video(String), pngFolder(String) }
    public var output: Output
    public var frames: Int
    public var episodesFinished: [Double]
    public var secondsPerFrame: Double
    /// Set when a video was asked for but ffmpeg is not installed.
    public var note: String?
}

/// Renders a session into MuJoCo's offscreen buffer, without a window: frame k shows the simulation at time
/// k · speed / fps. Writes an .mp4 through ffmpeg when it is installed, else numbered PNG frames; a .gif through
/// ffmpeg for 3-D scenes when it is installed, else (and always for an Atari screen) with Sparrow's `GIFEncoder`.
public enum Recorder {
    public static func record(_ session: ReplaySession, options o: RecordOptions) throws -> RecordResult {
        let lower = o.path.lowercased()
        let wantsVideo = lower.hasSuffix(".mp4") || lower.hasSuffix(".gif")
        var note: String? = nil
        var sink: FrameSink
        let ffmpeg = findExecutable("ffmpeg")
        if lower.hasSuffix(".gif") && (ffmpeg == nil || session.scene.screenImage() != nil) {
            // Sparrow's own GIF: exact for an Atari screen's few colours, and the way without ffmpeg.
            sink = GIFSink(path: o.path, width: o.width, height: o.height, fps: o.fps)
        } else if wantsVideo, let ffmpeg {
            sink = try FFmpegSink(ffmpeg: ffmpeg, path: o.path, width: o.width, height: o.height, fps: o.fps)
        } else {
            var folder = o.path
            if wantsVideo {
                folder = String(o.path.dropLast(4))
                note = "ffmpeg is not installed (Debian package ffmpeg): wrote PNG frames to \(folder)/ instead of \(o.path)"
            }
            sink = try PNGFolderSink(folder: folder)
        }

        signal(SIGPIPE, SIG_IGN)  // a dying ffmpeg must become an error, not kill us
        let gl = try GLContext.offscreen()
        defer { withExtendedLifetime(gl) {} }  // the GL context outlives the renderer (freed in the block below)
        let started = Date()
        do {
            let renderer = SceneRenderer(model: session.scene.model, effects: o.effects, offscreen: (o.width, o.height),
                                         initialCamera: session.scene.initialCamera)
            let viewport = mjrRect(left: 0, bottom: 0, width: Int32(o.width), height: Int32(o.height))
            var rgb = [UInt8]()
            let frameTime = o.speed / o.fps
            var target = 0.0
            for k in 0..<o.frames {
                if k > 0 {
                    target += frameTime
                    while session.simulatedTime < target - 1e-9 { try session.advance() }
                }
                renderer.render(session.scene, viewport: viewport)
                if o.overlay {
                    let (t, v) = session.overlayLines()
                    renderer.overlay(t, v, corner: mjGRID_TOPLEFT, viewport: viewport)
                }
                renderer.readPixels(viewport, into: &rgb)
                try sink.write(frame: rgb, width: o.width, height: o.height, index: k)
            }
            try sink.finish()
        } catch {
            sink.abort()
            throw error
        }
        let elapsed = Date().timeIntervalSince(started)
        return RecordResult(output: sink.output, frames: o.frames, episodesFinished: session.finishedReturns,
                            secondsPerFrame: elapsed / Double(max(o.frames, 1)), note: note)
    }

    /// The full path of an executable on $PATH.
    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

protocol FrameSink {
    var output: RecordResult.Output { get }
    mutating func write(frame rgb: [UInt8], width: Int, height: Int, index: Int) throws
    mutating func finish() throws
    mutating func abort()
}

/// frame_00000.png, frame_00001.png, … in a folder.
struct PNGFolderSink: FrameSink {
    let folder: String
    var output: RecordResult.Output { .pngFolder(folder) }

    init(folder: String) throws {
        self.folder = folder
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw ViewerError("cannot create the frame folder \(folder)")
        }
    }

    static func fileName(_ index: Int) -> String {
        var n = "\(index)"
        while n.count < 5 { n = "0" + n }
        return "frame_\(n).png"
    }

    mutating func write(frame rgb: [UInt8], width: Int, height: Int, index: Int) throws {
        let path = folder + "/" + Self.fileName(index)
        do { try PNG.write(rgb: rgb, width: width, height: height, to: path) } catch { throw ViewerError("cannot write \(path)") }
    }
    mutating func finish() throws {}
    mutating func abort() {}
}

/// An animated GIF by `GIFEncoder`, written whole (atomically) when the recording finishes.
struct GIFSink: FrameSink {
    let path: String
    var encoder: GIFEncoder
    var output: RecordResult.Output { .video(path) }

    init(path: String, width: Int, height: Int, fps: Double) {
        self.path = path
        encoder = GIFEncoder(width: width, height: height, fps: fps)
    }

    mutating func write(frame rgb: [UInt8], width: Int, height: Int, index: Int) throws { encoder.add(rgb: rgb) }
    mutating func finish() throws {
        do { try AtomicFile.write(encoder.file, to: path) } catch { throw ViewerError("cannot write \(path): \(ErrorText.describe(error))") }
    }
    mutating func abort() {}
}

/// Raw RGB frames piped into ffmpeg: H.264 (yuv420p) for .mp4, a per-file palette for .gif.
struct FFmpegSink: FrameSink {
    let path: String
    let process: Process
    let input: FileHandle
    let log: FileHandle
    let logPath: String
    var output: RecordResult.Output { .video(path) }

    init(ffmpeg: String, path: String, width: Int, height: Int, fps: Double) throws {
        self.path = path
        let isGIF = path.lowercased().hasSuffix(".gif")
        var args = ["-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)",
                    "-r", "\(fps)", "-i", "-"]
        if isGIF {
            args += ["-vf", "split[a][b];[a]palettegen=max_colors=64:stats_mode=diff[p];[b][p]paletteuse=dither=none:diff_mode=rectangle",
                     "-loop", "0"]
        } else {
            args += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "medium", "-crf", "23",
                     "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-movflags", "+faststart"]
        }
        args.append(path)
        process = Process()
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = args
        let pipe = Pipe()
        process.standardInput = pipe
        logPath = NSTemporaryDirectory() + "sparrow-ffmpeg-\(getpid()).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        log = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = log
        process.standardError = log
        do { try process.run() } catch { throw ViewerError("cannot start ffmpeg at \(ffmpeg)") }
        input = pipe.fileHandleForWriting
    }

    mutating func write(frame rgb: [UInt8], width: Int, height: Int, index: Int) throws {
        do { try input.write(contentsOf: Data(rgb)) } catch { throw ViewerError("ffmpeg stopped accepting frames: \(ffmpegLog())") }
    }

    mutating func finish() throws {
        try? input.close()
        process.waitUntilExit()
        try? log.close()
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        guard process.terminationStatus == 0 else {
            throw ViewerError("ffmpeg failed writing \(path): \(ffmpegLog())")
        }
    }

    mutating func abort() {
        try? input.close()
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: logPath)
    }

    func ffmpegLog() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last.map(String.init) ?? "no message"
    }
}
