import Environments
import MuJoCo

/// An Atari game as the viewer shows it: the emulator's RGB screen (210×160, as Gymnasium's `render_mode=
/// "rgb_array"` returns it), drawn scaled into the window or recording with its square pixels. The agent sees the
/// 84×84 grayscale max-pooled stack instead; the screen is what a person watches. The MuJoCo model is empty: it
/// only carries the fonts of the overlay.
public final class AtariScene: ReplayScene {
    public let env: AtariEnv
    public let model: Model
    public let simulation: Simulation
    public var initialCamera: String? { nil }

    public init(env: AtariEnv) throws {
        self.env = env
        model = try Model(xml: "<mujoco model=\"atari-display\"/>", name: "atari-display")
        simulation = try Simulation(model: model)
    }

    /// Nothing to pose: the screen is read when a frame is drawn.
    public func syncWithEnvironment() {}

    public func screenImage() -> ScreenImage? {
        ScreenImage(rgb: env.screenRGB(), width: env.screenWidth, height: env.screenHeight)
    }

    /// ale-py's info beside the reward: lives left and the episode's emulator frame.
    public func overlayRows() -> [(String, String)] {
        [("Lives", "\(env.info.lives)"), ("Frame", "\(env.info.episodeFrameNumber)")]
    }
}

extension ScreenImage {
    /// Where a picture of `width` × `height` goes in a viewport of `viewportWidth` × `viewportHeight`: as large as
    /// fits with its aspect kept, centred; `bottom` counts from the viewport's lower edge (OpenGL's rows).
    static func fit(width: Int, height: Int, viewportWidth: Int, viewportHeight: Int)
        -> (left: Int, bottom: Int, width: Int, height: Int) {
        let scale = min(Double(viewportWidth) / Double(width), Double(viewportHeight) / Double(height))
        let w = max(1, min(viewportWidth, Int((Double(width) * scale).rounded())))
        let h = max(1, min(viewportHeight, Int((Double(height) * scale).rounded())))
        return ((viewportWidth - w) / 2, (viewportHeight - h) / 2, w, h)
    }

    /// The picture resized to `width` × `height` by nearest neighbour (pixel centres), rows bottom-up when
    /// `bottomUp` (for OpenGL).
    func scaled(width w: Int, height h: Int, bottomUp: Bool) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: w * h * 3)
        let columns = (0..<w).map { x in min(width - 1, (2 * x + 1) * width / (2 * w)) }
        out.withUnsafeMutableBufferPointer { dst in
            rgb.withUnsafeBufferPointer { src in
                for y in 0..<h {
                    let sy = min(height - 1, (2 * y + 1) * height / (2 * h))
                    let row = (bottomUp ? h - 1 - y : y) * w * 3, from = sy * width * 3
                    for x in 0..<w {
                        let s = from + 3 * columns[x], d = row + 3 * x
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return out
    }
}
