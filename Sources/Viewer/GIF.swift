import Foundation
import SparrowCore

/// An animated GIF (GIF89a) written by Sparrow itself, so `--record x.gif` works without ffmpeg.
///
/// Each frame carries its own colour table: exact when the frame has at most 256 colours (an Atari screen has at
/// most 128, the NTSC palette), otherwise 256 colours by median cut over 4-bit-per-channel cells with every pixel
/// mapped to the nearest of them (a 3-D render; ffmpeg's palettegen dithers and is used for those when it is
/// installed). Only the rectangle that changed since the previous frame is stored (disposal "do not dispose"), so
/// a game whose background stands still costs little. Frame k is shown from round(100·k/fps) to
/// round(100·(k+1)/fps) hundredths of a second, so the delays add up to the real duration. Loops forever.
public struct GIFEncoder {
    public let width: Int, height: Int
    public let fps: Double
    private(set) var bytes: [UInt8] = []
    private var previous: [UInt8]? = nil
    private var frameCount = 0
    private var lzw = LZWCoder()

    public init(width: Int, height: Int, fps: Double) {
        precondition(width > 0 && width <= 65535 && height > 0 && height <= 65535 && fps > 0)
        self.width = width; self.height = height; self.fps = fps
        bytes = Array("GIF89a".utf8)
        appendLE16(width); appendLE16(height)
        bytes += [0x70, 0, 0]  // no global colour table, 8-bit colour resolution; background 0; square pixels
        // NETSCAPE2.0 application extension: loop forever.
        bytes += [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [0x03, 0x01, 0x00, 0x00, 0x00]
    }

    /// Adds a frame of RGB bytes (row-major, top row first, width × height × 3).
    public mutating func add(rgb: [UInt8]) {
        precondition(rgb.count == width * height * 3, "frame of \(rgb.count) bytes, need \(width * height * 3)")
        let rect = changedRectangle(rgb)
        let delay = Int((100 * Double(frameCount + 1) / fps).rounded()) - Int((100 * Double(frameCount) / fps).rounded())
        frameCount += 1
        previous = rgb
        // Graphics control extension: disposal 1 (keep), no transparency, the delay in hundredths.
        bytes += [0x21, 0xF9, 0x04, 0x04]
        appendLE16(min(max(delay, 0), 65535))
        bytes += [0x00, 0x00]
        var pixels = [UInt8](repeating: 0, count: rect.width * rect.height * 3)
        for y in 0..<rect.height {
            let from = ((rect.top + y) * width + rect.left) * 3
            for i in 0..<(rect.width * 3) { pixels[y * rect.width * 3 + i] = rgb[from + i] }
        }
        let (palette, indices) = Self.indexed(pixels)
        var tableBits = 1
        while (1 << tableBits) < palette.count { tableBits += 1 }
        // Image descriptor with a local colour table of 2^tableBits entries.
        bytes.append(0x2C)
        appendLE16(rect.left); appendLE16(rect.top); appendLE16(rect.width); appendLE16(rect.height)
        bytes.append(0x80 | UInt8(tableBits - 1))
        for k in 0..<(1 << tableBits) {
            let c = k < palette.count ? palette[k] : 0
            bytes += [UInt8(c >> 16), UInt8((c >> 8) & 0xFF), UInt8(c & 0xFF)]
        }
        let minCodeSize = max(2, tableBits)
        bytes.append(UInt8(minCodeSize))
        let data = lzw.encode(indices, minCodeSize: minCodeSize)
        var i = 0
        while i < data.count {
            let n = min(255, data.count - i)
            bytes.append(UInt8(n))
            bytes += data[i..<i + n]
            i += n
        }
        bytes.append(0)
    }

    /// The finished file (the frames so far and the trailer).
    public var file: [UInt8] { bytes + [0x3B] }

    /// The smallest rectangle holding every pixel that differs from the previous frame (the whole frame first; a
    /// 1×1 rectangle when nothing changed, so the frame still takes its time).
    func changedRectangle(_ rgb: [UInt8]) -> (left: Int, top: Int, width: Int, height: Int) {
        guard let prev = previous else { return (0, 0, width, height) }
        var minX = width, minY = height, maxX = -1, maxY = -1
        rgb.withUnsafeBufferPointer { a in
            prev.withUnsafeBufferPointer { b in
                for y in 0..<height {
                    let row = y * width * 3
                    var x = 0
                    while x < width {
                        let p = row + 3 * x
                        if a[p] != b[p] || a[p + 1] != b[p + 1] || a[p + 2] != b[p + 2] {
                            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = y
                        }
                        x += 1
                    }
                }
            }
        }
        if maxX < 0 { return (0, 0, 1, 1) }
        return (minX, minY, maxX - minX + 1, maxY - minY + 1)
    }

    /// A colour table (0xRRGGBB) and one index per pixel: exact up to 256 colours, else reduced (see the type).
    static func indexed(_ rgb: [UInt8]) -> (palette: [UInt32], indices: [UInt8]) {
        let n = rgb.count / 3
        var index: [UInt32: UInt8] = [:]
        var palette: [UInt32] = []
        var indices = [UInt8](repeating: 0, count: n)
        var exact = true
        for p in 0..<n {
            let c = UInt32(rgb[3 * p]) << 16 | UInt32(rgb[3 * p + 1]) << 8 | UInt32(rgb[3 * p + 2])
            if let k = index[c] { indices[p] = k; continue }
            if palette.count == 256 { exact = false; break }
            index[c] = UInt8(palette.count)
            indices[p] = UInt8(palette.count)
            palette.append(c)
        }
        if exact { return (palette, indices) }
        // More than 256 colours: median cut over 4-bit-per-channel cells weighted by their pixels, each box's mean
        // colour in the table, every pixel to the nearest entry.
        var counts = [Int](repeating: 0, count: 4096), sums = [Int](repeating: 0, count: 3 * 4096)
        func cell(_ p: Int) -> Int { Int(rgb[3 * p] >> 4) << 8 | Int(rgb[3 * p + 1] >> 4) << 4 | Int(rgb[3 * p + 2] >> 4) }
        for p in 0..<n {
            let c = cell(p)
            counts[c] += 1
            for k in 0..<3 { sums[3 * c + k] += Int(rgb[3 * p + k]) }
        }
        palette = medianCut(cells: (0..<4096).filter { counts[$0] > 0 }, counts: counts, sums: sums, boxes: 256)
        var nearest = [Int16](repeating: -1, count: 4096)
        for p in 0..<n {
            let c = cell(p)
            if nearest[c] < 0 {
                // The cell's mean colour to its nearest table entry.
                let m = (0..<3).map { sums[3 * c + $0] / counts[c] }
                var best = 0, bestDistance = Int.max
                for (k, q) in palette.enumerated() {
                    let dr = Int(q >> 16) - m[0], dg = Int((q >> 8) & 0xFF) - m[1], db = Int(q & 0xFF) - m[2]
                    let d = dr * dr + dg * dg + db * db
                    if d < bestDistance { bestDistance = d; best = k }
                }
                nearest[c] = Int16(best)
            }
            indices[p] = UInt8(nearest[c])
        }
        return (palette, indices)
    }

    /// Heckbert's median cut: the box with the most pixels × widest channel range is split at its pixel median
    /// along that channel until there are `boxes` boxes (or none can be split); each box gives its pixels' mean.
    static func medianCut(cells: [Int], counts: [Int], sums: [Int], boxes: Int) -> [UInt32] {
        func channel(_ c: Int, _ k: Int) -> Int { (c >> (8 - 4 * k)) & 15 }
        func widest(_ box: [Int]) -> (channel: Int, score: Int) {
            var best = (channel: 0, score: -1)
            let weight = box.reduce(0) { $0 + counts[$1] }
            for k in 0..<3 {
                let values = box.map { channel($0, k) }
                let range = values.max()! - values.min()!
                if range > 0, weight * range > best.score { best = (k, weight * range) }
            }
            return best
        }
        var list = [cells]
        while list.count < boxes {
            let scored = list.enumerated().map { ($0.offset, widest($0.element)) }.filter { $0.1.score >= 0 }
            guard let (i, (k, _)) = scored.max(by: { $0.1.score < $1.1.score }) else { break }
            let box = list[i].sorted { (channel($0, k), $0) < (channel($1, k), $1) }
            let total = box.reduce(0) { $0 + counts[$1] }
            var running = 0, cut = 1
            for (j, c) in box.enumerated() {
                running += counts[c]
                if 2 * running >= total { cut = j + 1; break }
            }
            // Never split inside one channel value: move the cut to the nearest change of the channel.
            cut = min(max(cut, 1), box.count - 1)
            while cut < box.count, channel(box[cut], k) == channel(box[cut - 1], k) { cut += 1 }
            if cut == box.count {
                cut = box.count - 1
                while cut > 1, channel(box[cut], k) == channel(box[cut - 1], k) { cut -= 1 }
            }
            list[i] = Array(box[..<cut])
            list.append(Array(box[cut...]))
        }
        return list.map { box in
            let w = box.reduce(0) { $0 + counts[$1] }
            let mean = (0..<3).map { k in UInt32(box.reduce(0) { $0 + sums[3 * $1 + k] } / w) }
            return mean[0] << 16 | mean[1] << 8 | mean[2]
        }
    }

    private mutating func appendLE16(_ x: Int) { bytes += [UInt8(x & 0xFF), UInt8(x >> 8)] }
}

/// GIF's variable-width LZW (codes of minCodeSize+1 … 12 bits, least significant bit first, a clear code when the
/// table is full), the scheme of the GIF89a specification's appendix F. The string table is a flat array indexed by
/// (prefix code, next index) whose entries carry the generation of the table they belong to, so a clear costs
/// nothing.
struct LZWCoder {
    private var table = [UInt32](repeating: 0, count: 4096 * 256)
    private var generation: UInt32 = 0

    mutating func encode(_ indices: [UInt8], minCodeSize: Int) -> [UInt8] {
        let clear = 1 << minCodeSize, end = clear + 1
        var out: [UInt8] = []
        out.reserveCapacity(indices.count / 2 + 16)
        var bitBuffer: UInt64 = 0, bitCount = 0
        func emit(_ code: Int, _ size: Int) {
            bitBuffer |= UInt64(code) << UInt64(bitCount)
            bitCount += size
            while bitCount >= 8 { out.append(UInt8(bitBuffer & 0xFF)); bitBuffer >>= 8; bitCount -= 8 }
        }
        func newTable() { generation &+= 1; if generation == 0x100000 { generation = 1; table = [UInt32](repeating: 0, count: table.count) } }
        newTable()
        var codeSize = minCodeSize + 1
        var lastCode = end  // the highest code in the table
        emit(clear, codeSize)
        var current = -1
        for v in indices {
            let k = Int(v)
            if current < 0 { current = k; continue }
            let slot = current << 8 | k
            let entry = table[slot]
            if entry >> 12 == generation { current = Int(entry & 0xFFF); continue }
            emit(current, codeSize)
            lastCode += 1
            table[slot] = generation << 12 | UInt32(lastCode)
            if lastCode >= (1 << codeSize) { codeSize += 1 }
            if lastCode == 4095 {
                emit(clear, codeSize)
                newTable()
                codeSize = minCodeSize + 1
                lastCode = end
            }
            current = k
        }
        if current >= 0 { emit(current, codeSize) }
        emit(end, codeSize)
        if bitCount > 0 { out.append(UInt8(bitBuffer & 0xFF)) }
        return out
    }
}
