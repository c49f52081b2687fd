import CGLFW
#if canImport(Glibc)
import Glibc
#endif

/// Why no OpenGL context could be made. Prints as one line.
public struct ViewerError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }

    static let noDisplay = ViewerError(
        "no display available (DISPLAY is not set or the X server cannot be reached); to render without a window use --record PATH")
}

/// An OpenGL context current on this thread: a GLFW window (visible, or hidden for offscreen rendering) or a
/// surfaceless EGL context (no X server at all). MuJoCo's `mjr_makeContext` needs one to be current; it then finds
/// the GL library among those loaded in the process.
final class GLContext {
    enum Kind: Equatable { case window, hiddenWindow, egl }
    let kind: Kind
    /// The GLFW window (window kinds only).
    let window: OpaquePointer?
    private var egl: EGLContextHandle?

    private init(kind: Kind, window: OpaquePointer?, egl: EGLContextHandle?) {
        self.kind = kind; self.window = window; self.egl = egl
    }

    deinit {
        if let window { glfwDestroyWindow(window); GLFW.release() }
        egl?.destroy()
    }

    /// A visible window of the given size. Throws `ViewerError.noDisplay` when GLFW cannot reach an X server.
    static func window(title: String, width: Int, height: Int, samples: Int, visible: Bool = true) throws -> GLContext {
        try GLFW.acquire()
        glfwDefaultWindowHints()
        glfwWindowHint(GLFW_SAMPLES, Int32(samples))
        glfwWindowHint(GLFW_VISIBLE, visible ? GLFW_TRUE : GLFW_FALSE)
        glfwWindowHint(GLFW_DOUBLEBUFFER, GLFW_TRUE)
        guard let w = glfwCreateWindow(Int32(width), Int32(height), title, nil, nil) else {
            GLFW.release()
            throw ViewerError("cannot create an OpenGL window: \(GLFW.lastError ?? "unknown GLFW error")")
        }
        glfwMakeContextCurrent(w)
        glfwSwapInterval(1)
        return GLContext(kind: visible ? .window : .hiddenWindow, window: w, egl: nil)
    }

    /// An offscreen context: surfaceless EGL if the system has it (works without any X server), else a hidden
    /// GLFW window.
    static func offscreen() throws -> GLContext {
        var eglProblem = ""
        do { return GLContext(kind: .egl, window: nil, egl: try EGLContextHandle.makeSurfaceless()) } catch {
            eglProblem = "\(error)"
        }
        do { return try window(title: "sparrow (offscreen)", width: 64, height: 64, samples: 0, visible: false) } catch {
            let glfwProblem = error as? ViewerError == .noDisplay ? "no X display for a hidden window" : "\(error)"
            throw ViewerError("no OpenGL for offscreen rendering: \(eglProblem); \(glfwProblem)")
        }
    }
}

/// GLFW's global init, reference-counted so windows can come and go.
enum GLFW {
    nonisolated(unsafe) private static var users = 0
    nonisolated(unsafe) static var lastError: String?

    static func acquire() throws {
        if users == 0 {
            glfwSetErrorCallback { _, message in
                GLFW.lastError = message.map { String(cString: $0) }
            }
            guard glfwInit() == GLFW_TRUE else {
                throw ViewerError.noDisplay
            }
        }
        users += 1
    }

    static func release() {
        users -= 1
        if users == 0 { glfwTerminate() }
    }

    /// Whether an X display can be opened (GLFW initialises); leaves GLFW as it was.
    static var displayAvailable: Bool {
        guard (try? acquire()) != nil else { return false }
        release()
        return true
    }
}

/// A surfaceless EGL context (EGL_MESA_platform_surfaceless), with libEGL loaded at run time so that the binary
/// does not need EGL to start and no extra module map is needed. MuJoCo then renders into its offscreen buffer.
final class EGLContextHandle {
    typealias GetProcAddress = @convention(c) (UnsafePointer<CChar>?) -> UnsafeMutableRawPointer?
    typealias GetPlatformDisplay = @convention(c) (UInt32, UnsafeMutableRawPointer?, UnsafePointer<Int32>?) -> UnsafeMutableRawPointer?
    typealias GetDisplay = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?
    typealias Initialize = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> UInt32
    typealias BindAPI = @convention(c) (UInt32) -> UInt32
    typealias ChooseConfig = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<Int32>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                             Int32, UnsafeMutablePointer<Int32>?) -> UInt32
    typealias CreateContext = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                                              UnsafePointer<Int32>?) -> UnsafeMutableRawPointer?
    typealias MakeCurrent = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                                            UnsafeMutableRawPointer?) -> UInt32
    typealias DestroyContext = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> UInt32
    typealias Terminate = @convention(c) (UnsafeMutableRawPointer?) -> UInt32

    static let platformSurfacelessMESA: UInt32 = 0x31DD
    static let openGLAPI: UInt32 = 0x30A2
    static let none: Int32 = 0x3038

    private let display: UnsafeMutableRawPointer
    private let context: UnsafeMutableRawPointer
    private let makeCurrent: MakeCurrent
    private let destroyContext: DestroyContext
    private let terminate: Terminate

    private init(display: UnsafeMutableRawPointer, context: UnsafeMutableRawPointer, makeCurrent: @escaping MakeCurrent,
                 destroyContext: @escaping DestroyContext, terminate: @escaping Terminate) {
        self.display = display; self.context = context; self.makeCurrent = makeCurrent
        self.destroyContext = destroyContext; self.terminate = terminate
    }

    static func makeSurfaceless() throws -> EGLContextHandle {
        // RTLD_GLOBAL so MuJoCo's loader sees libEGL among the process's libraries.
        guard let lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_GLOBAL) else { throw ViewerError("libEGL.so.1 is not installed") }
        func symbol<T>(_ name: String, _: T.Type) throws -> T {
            guard let p = dlsym(lib, name) else { throw ViewerError("libEGL lacks \(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        let getProcAddress = try symbol("eglGetProcAddress", GetProcAddress.self)
        let initialize = try symbol("eglInitialize", Initialize.self)
        let bindAPI = try symbol("eglBindAPI", BindAPI.self)
        let chooseConfig = try symbol("eglChooseConfig", ChooseConfig.self)
        let createContext = try symbol("eglCreateContext", CreateContext.self)
        let makeCurrent = try symbol("eglMakeCurrent", MakeCurrent.self)
        let destroyContext = try symbol("eglDestroyContext", DestroyContext.self)
        let terminate = try symbol("eglTerminate", Terminate.self)

        var display: UnsafeMutableRawPointer? = nil
        if let p = getProcAddress("eglGetPlatformDisplayEXT") {
            let getPlatformDisplay = unsafeBitCast(p, to: GetPlatformDisplay.self)
            display = getPlatformDisplay(platformSurfacelessMESA, nil, nil)
        }
        var major: Int32 = 0, minor: Int32 = 0
        if display == nil || initialize(display, &major, &minor) == 0 {
            // No Mesa surfaceless platform: the default display (e.g. a GPU driver's device display).
            let getDisplay = try symbol("eglGetDisplay", GetDisplay.self)
            display = getDisplay(nil)
            guard display != nil, initialize(display, &major, &minor) != 0 else {
                throw ViewerError("EGL has no usable display")
            }
        }
        guard bindAPI(openGLAPI) != 0 else { _ = terminate(display); throw ViewerError("EGL cannot bind desktop OpenGL") }
        // Any OpenGL-capable configuration; MuJoCo renders into its own framebuffer object, so none is needed at all
        // where EGL_KHR_no_config_context is supported (Mesa's surfaceless platform lists no configs with OpenGL).
        let attributes: [Int32] = [0x3040, 0x0008, none]  // EGL_RENDERABLE_TYPE = EGL_OPENGL_BIT
        var config: UnsafeMutableRawPointer? = nil
        var count: Int32 = 0
        if chooseConfig(display, attributes, &config, 1, &count) == 0 || count == 0 { config = nil }
        guard let context = createContext(display, config, nil, nil) else {
            _ = terminate(display); throw ViewerError("EGL cannot create an OpenGL context")
        }
        guard makeCurrent(display, nil, nil, context) != 0 else {
            _ = destroyContext(display, context); _ = terminate(display)
            throw ViewerError("EGL cannot make a surfaceless context current")
        }
        return EGLContextHandle(display: display!, context: context, makeCurrent: makeCurrent,
                                destroyContext: destroyContext, terminate: terminate)
    }

    func destroy() {
        _ = makeCurrent(display, nil, nil, nil)
        _ = destroyContext(display, context)
        _ = terminate(display)
    }
}
