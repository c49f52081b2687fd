/// OpenCV's `cv::resize(src, dst, size, interpolation: INTER_AREA)` for one-channel uint8 images shrunk by a
/// non-integer factor, to the last bit: Gymnasium's AtariPreprocessing resizes the 210×160 screen to 84×84 this way.
///
/// Written from opencv/modules/imgproc/src/resize.cpp: `computeResizeAreaTab` builds, per axis, (source index,
/// destination index, weight) entries in double precision stored as float; `ResizeArea_Invoker` sums each source
/// row horizontally into a float buffer (`buf[d] += src * alpha`, in table order), accumulates rows into a float sum
/// (`sum = beta * buf` for a row's first entry, `sum += beta * buf` after) and rounds with `saturate_cast<uchar>`
/// (round half to even, clamp to 0...255). Swift does not contract a*b+c into a fused multiply-add unless asked, so
/// the float operations round exactly as OpenCV's non-FMA build does. Integer factors take OpenCV's other
/// (`resizeAreaFast`) path and are refused here.
public struct AreaResize: Sendable {
    public let sourceWidth: Int, sourceHeight: Int, width: Int, height: Int
    struct Entry: Sendable { var source: Int; var destination: Int; var alpha: Float }
    let xTable: [Entry], yTable: [Entry]

    public init(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        precondition(width > 0 && height > 0 && width <= sourceWidth && height <= sourceHeight, "INTER_AREA shrinks")
        // cv::resize: inv_scale = dsize / ssize, scale = 1 / inv_scale (both double).
        let scaleX = 1.0 / (Double(width) / Double(sourceWidth))
        let scaleY = 1.0 / (Double(height) / Double(sourceHeight))
        let integral = { (s: Double) in abs(s - s.rounded()) < Double.ulpOfOne }
        precondition(!(integral(scaleX) && integral(scaleY)), "integer INTER_AREA factors use OpenCV's fast path")
        self.sourceWidth = sourceWidth; self.sourceHeight = sourceHeight
        self.width = width; self.height = height
        xTable = Self.table(sourceSize: sourceWidth, size: width, scale: scaleX)
        yTable = Self.table(sourceSize: sourceHeight, size: height, scale: scaleY)
    }

    /// `computeResizeAreaTab(ssize, dsize, cn: 1, scale)`.
    static func table(sourceSize: Int, size: Int, scale: Double) -> [Entry] {
        var tab: [Entry] = []
        for dx in 0..<size {
            let fsx1 = Double(dx) * scale
            let fsx2 = fsx1 + scale
            let cellWidth = min(scale, Double(sourceSize) - fsx1)
            var sx1 = Int(fsx1.rounded(.up)), sx2 = Int(fsx2.rounded(.down))
            sx2 = min(sx2, sourceSize - 1)
            sx1 = min(sx1, sx2)
            if Double(sx1) - fsx1 > 1e-3 {
                tab.append(Entry(source: sx1 - 1, destination: dx, alpha: Float((Double(sx1) - fsx1) / cellWidth)))
            }
            for sx in sx1..<max(sx1, sx2) { tab.append(Entry(source: sx, destination: dx, alpha: Float(1.0 / cellWidth))) }
            if fsx2 - Double(sx2) > 1e-3 {
                tab.append(Entry(source: sx2, destination: dx,
                                 alpha: Float(min(min(fsx2 - Double(sx2), 1.0), cellWidth) / cellWidth)))
            }
        }
        return tab
    }

    /// Resizes `source` (sourceHeight × sourceWidth, row-major) into `destination` (height × width). `scratch`
    /// holds 2 × width floats (the invoker's buf and sum), so the call allocates nothing.
    public func resize(_ source: UnsafeBufferPointer<UInt8>, into destination: UnsafeMutableBufferPointer<UInt8>,
                       scratch: UnsafeMutableBufferPointer<Float>) {
        precondition(source.count >= sourceWidth * sourceHeight && destination.count >= width * height
                     && scratch.count >= 2 * width)
        let buf = UnsafeMutableBufferPointer(rebasing: scratch[0..<width])
        let sum = UnsafeMutableBufferPointer(rebasing: scratch[width..<2 * width])
        for dx in 0..<width { sum[dx] = 0 }
        var prevDy = yTable[0].destination
        for y in yTable {
            let row = y.source * sourceWidth
            for dx in 0..<width { buf[dx] = 0 }
            for x in xTable { buf[x.destination] += Float(source[row + x.source]) * x.alpha }
            if y.destination != prevDy {
                let out = prevDy * width
                for dx in 0..<width {
                    destination[out + dx] = Self.saturatingRound(sum[dx])
                    sum[dx] = y.alpha * buf[dx]
                }
                prevDy = y.destination
            } else {
                for dx in 0..<width { sum[dx] += y.alpha * buf[dx] }
            }
        }
        let out = prevDy * width
        for dx in 0..<width { destination[out + dx] = Self.saturatingRound(sum[dx]) }
    }

    /// `saturate_cast<uchar>(float)`: `cvRound` (lrintf, to nearest even) then clamp.
    @inline(__always)
    static func saturatingRound(_ v: Float) -> UInt8 {
        let r = v.rounded(.toNearestOrEven)
        return r <= 0 ? 0 : r >= 255 ? 255 : UInt8(r)
    }
}
