/// A plain GIF reader for tests, written from the GIF89a specification without looking at `GIFEncoder`: frames
/// composed onto the canvas (disposal "keep"), each frame's delay, and the loop count of a NETSCAPE2.0 block.
public enum ReferenceGIF {
    public struct Animation {
        public let width: Int, height: Int
        /// Every frame as the whole canvas in RGB, top row first.
        public let frames: [[UInt8]]
        /// Hundredths of a second per frame.
        public let delays: [Int]
        public let loops: Int?
    }
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public static func decode(_ b: [UInt8]) throws -> Animation {
        var i = 0
        func byte() throws -> Int { guard i < b.count else { throw Failure(description: "truncated at \(i)") }; i += 1; return Int(b[i - 1]) }
        func le16() throws -> Int { let lo = try byte(); return lo | (try byte()) << 8 }
        func subBlocks() throws -> [UInt8] {
            var out: [UInt8] = []
            while true {
                let n = try byte()
                if n == 0 { return out }
                guard i + n <= b.count else { throw Failure(description: "truncated sub-block") }
                out += b[i..<i + n]; i += n
            }
        }
        guard b.count >= 13, String(decoding: b[0..<6], as: UTF8.self) == "GIF89a" else { throw Failure(description: "not a GIF89a") }
        i = 6
        let width = try le16(), height = try le16()
        let flags = try byte(); _ = try byte(); _ = try byte()
        var global: [UInt8] = []
        if flags & 0x80 != 0 { let n = 3 << ((flags & 7) + 1); global = Array(b[i..<i + n]); i += n }
        var canvas = [UInt8](repeating: 0, count: width * height * 3)
        var frames: [[UInt8]] = [], delays: [Int] = []
        var delay = 0, loops: Int? = nil
        while true {
            let kind = try byte()
            if kind == 0x3B { break }
            if kind == 0x21 {
                let label = try byte()
                let data = try subBlocks()
                if label == 0xF9, data.count == 4 { delay = Int(data[1]) | Int(data[2]) << 8 }
                if label == 0xFF, data.count >= 14, String(decoding: data[0..<11], as: UTF8.self) == "NETSCAPE2.0" {
                    loops = Int(data[12]) | Int(data[13]) << 8
                }
                continue
            }
            guard kind == 0x2C else { throw Failure(description: "unknown block \(kind) at \(i - 1)") }
            let left = try le16(), top = try le16(), w = try le16(), h = try le16()
            let f = try byte()
            var table = global
            if f & 0x80 != 0 { let n = 3 << ((f & 7) + 1); table = Array(b[i..<i + n]); i += n }
            guard f & 0x40 == 0 else { throw Failure(description: "interlaced frames are not read") }
            guard left + w <= width, top + h <= height else { throw Failure(description: "frame outside the canvas") }
            let minCode = try byte()
            let indices = try lzw(try subBlocks(), minCode: minCode, count: w * h)
            for y in 0..<h {
                for x in 0..<w {
                    let k = Int(indices[y * w + x])
                    guard 3 * k + 2 < table.count else { throw Failure(description: "index \(k) outside the colour table") }
                    let d = ((top + y) * width + left + x) * 3
                    canvas[d] = table[3 * k]; canvas[d + 1] = table[3 * k + 1]; canvas[d + 2] = table[3 * k + 2]
                }
            }
            frames.append(canvas); delays.append(delay)
        }
        return Animation(width: width, height: height, frames: frames, delays: delays, loops: loops)
    }

    /// GIF's LZW: codes of minCode+1 … 12 bits, least significant bit first; clear and end codes.
    static func lzw(_ data: [UInt8], minCode: Int, count: Int) throws -> [UInt8] {
        let clear = 1 << minCode, end = clear + 1
        var prefix = [Int](repeating: -1, count: 4096), suffix = [UInt8](repeating: 0, count: 4096)
        for k in 0..<clear { suffix[k] = UInt8(k) }
        var next = end + 1, size = minCode + 1, previous = -1
        var bitPos = 0
        var out: [UInt8] = []
        func string(_ code: Int) -> [UInt8] {
            var s: [UInt8] = [], c = code
            while c >= 0 { s.append(suffix[c]); c = prefix[c] }
            return s.reversed()
        }
        while bitPos + size <= data.count * 8 {
            var code = 0
            for k in 0..<size { let p = bitPos + k; code |= Int((data[p >> 3] >> UInt8(p & 7)) & 1) << k }
            bitPos += size
            if code == clear { next = end + 1; size = minCode + 1; previous = -1; continue }
            if code == end { break }
            let s: [UInt8]
            if previous < 0 {
                guard code < clear else { throw Failure(description: "first code \(code) is not a colour") }
                s = [UInt8(code)]
            } else {
                if code < next { s = string(code) } else if code == next { let p = string(previous); s = p + [p[0]] } else {
                    throw Failure(description: "code \(code) beyond the table (\(next))")
                }
                if next < 4096 {
                    prefix[next] = previous; suffix[next] = s[0]; next += 1
                    if next == 1 << size, size < 12 { size += 1 }
                }
            }
            out += s
            previous = code
        }
        guard out.count == count else { throw Failure(description: "\(out.count) pixels decoded, need \(count)") }
        return out
    }
}
