import Foundation

/// Why a saved network could not be read.
public enum NetworkArchiveError: Error, Equatable, CustomStringConvertible {
    case badMagic
    case unsupportedVersion(UInt32)
    case truncated
    case checksumMismatch
    case invalid(String)

    public var description: String {
        switch self {
        case .badMagic: return "not a Sparrow network file (bad magic header)"
        case .unsupportedVersion(let v): return "network file version \(v) is not supported (this build reads version \(NetworkArchive.version))"
        case .truncated: return "network file is truncated"
        case .checksumMismatch: return "network file is corrupted (checksum mismatch)"
        case .invalid(let why): return "network file is invalid: \(why)"
        }
    }
}

/// Versioned binary format of an MLP with its optimizer state (exact round trip, little-endian):
///
///     magic "SPRWNET\0" | version u32 | payload length u64 | payload | FNV-1a-64 of payload u64
///     payload: spec (u64 length + JSON) | optional Adam (u8 flag, u64 length + JSON)
///              | per layer: backend u8 | positions (u64 count + i32…) | weight tensor | bias tensor
///     tensor:  step i64 | moment policy u8 | has mask u8 | values, m, v (u64 count + f32 bit patterns each) [| mask]
///
/// Sparse layers store live connections only; masked layers their dense arrays and mask.
public enum NetworkArchive {
    public static let magic: [UInt8] = Array("SPRWNET".utf8) + [0]
    public static let version: UInt32 = 1

    public static func encode(_ network: MLP, adam: Adam? = nil) throws -> [UInt8] {
        var w = Writer()
        let json = JSONEncoder()
        json.outputFormatting = .sortedKeys
        w.bytes(Array(try json.encode(network.spec)))
        if let adam { w.u8(1); w.bytes(Array(try json.encode(adam))) } else { w.u8(0) }
        for layer in network.layers {
            w.u8(layer.backend == .dense ? 0 : layer.backend == .sparse ? 1 : 2)
            w.i32s(layer.backend == .sparse ? layer.positions : [])
            w.tensor(layer.weight)
            w.tensor(layer.bias)
        }
        var out = magic
        var header = Writer()
        header.u32(version)
        header.u64(UInt64(w.data.count))
        out += header.data + w.data
        var tail = Writer()
        tail.u64(fnv1a(w.data))
        return out + tail.data
    }

    public static func decode(_ bytes: [UInt8]) throws -> (network: MLP, adam: Adam?) {
        guard bytes.count >= magic.count else { throw NetworkArchiveError.truncated }
        guard Array(bytes[0..<magic.count]) == magic else { throw NetworkArchiveError.badMagic }
        var r = Reader(bytes: bytes, offset: magic.count)
        let v = try r.u32()
        guard v == version else { throw NetworkArchiveError.unsupportedVersion(v) }
        let length = try r.u64()
        guard length <= UInt64(bytes.count), r.offset + Int(length) + 8 <= bytes.count else { throw NetworkArchiveError.truncated }
        let payload = Array(bytes[r.offset..<(r.offset + Int(length))])
        var c = Reader(bytes: bytes, offset: r.offset + Int(length))
        guard try c.u64() == fnv1a(payload) else { throw NetworkArchiveError.checksumMismatch }
        guard c.offset == bytes.count else { throw NetworkArchiveError.invalid("\(bytes.count - c.offset) trailing bytes") }

        var p = Reader(bytes: payload, offset: 0)
        let json = JSONDecoder()
        let spec: MLPSpec
        do { spec = try json.decode(MLPSpec.self, from: Data(try p.blob())) } catch let e as NetworkArchiveError { throw e } catch {
            throw NetworkArchiveError.invalid("spec: \(error)")
        }
        var adam: Adam? = nil
        if try p.u8() == 1 {
            do { adam = try json.decode(Adam.self, from: Data(try p.blob())) } catch let e as NetworkArchiveError { throw e } catch {
                throw NetworkArchiveError.invalid("optimizer: \(error)")
            }
        }
        guard spec.widths.count >= 2, spec.widths.allSatisfy({ $0 > 0 }), spec.layers.count == spec.widths.count - 1 else {
            throw NetworkArchiveError.invalid("spec widths \(spec.widths)")
        }
        var layers: [any Layer] = []
        for (l, shape) in spec.shapes.enumerated() {
            let kind = try p.u8()
            let positions = try p.i32s()
            let (wv, wm, wvv, wstep, wpolicy, wmask) = try p.tensor()
            let (bv, bm, bvv, bstep, bpolicy, _) = try p.tensor()
            guard bv.count == shape.fanOut else { throw NetworkArchiveError.invalid("layer \(l) has \(bv.count) biases") }
            let layer: any Layer
            switch kind {
            case 1:
                guard positions.count == wv.count, isAscending(positions, below: shape.count) else {
                    throw NetworkArchiveError.invalid("layer \(l) positions")
                }
                layer = SparseLayer(shape: shape, positions: positions, values: wv, biases: bv)
            case 0, 2:
                guard wv.count == shape.count, (kind == 0) == (wmask == nil), wmask.map({ $0.count == shape.count }) ?? true else {
                    throw NetworkArchiveError.invalid("layer \(l) dense arrays")
                }
                layer = DenseLayer(shape: shape, weights: wv, biases: bv, mask: wmask, momentPolicy: wpolicy)
            default:
                throw NetworkArchiveError.invalid("layer \(l) backend code \(kind)")
            }
            layer.weight.replace(values: wv, firstMoment: wm, secondMoment: wvv, mask: wmask)
            layer.weight.restoreState(step: wstep, momentPolicy: wpolicy)
            layer.bias.replace(values: bv, firstMoment: bm, secondMoment: bvv, mask: nil)
            layer.bias.restoreState(step: bstep, momentPolicy: bpolicy)
            layers.append(layer)
        }
        guard p.offset == payload.count else { throw NetworkArchiveError.invalid("unread bytes in payload") }
        return (MLP(spec: spec, layers: layers), adam)
    }

    public static func write(_ network: MLP, adam: Adam? = nil, to url: URL) throws {
        try Data(try encode(network, adam: adam)).write(to: url, options: .atomic)
    }

    public static func read(from url: URL) throws -> (network: MLP, adam: Adam?) {
        try decode(Array(try Data(contentsOf: url)))
    }

    static func fnv1a(_ data: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    static func isAscending(_ p: [Position], below n: Int) -> Bool {
        var prev = -1
        for x in p { if Int(x) <= prev || Int(x) >= n { return false }; prev = Int(x) }
        return true
    }
}

private struct Writer {
    var data: [UInt8] = []
    mutating func u8(_ x: UInt8) { data.append(x) }
    mutating func u32(_ x: UInt32) { for i in 0..<4 { data.append(UInt8(truncatingIfNeeded: x >> (8 * UInt32(i)))) } }
    mutating func u64(_ x: UInt64) { for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(i)))) } }
    mutating func bytes(_ b: [UInt8]) { u64(UInt64(b.count)); data += b }
    mutating func floats(_ f: [Float]) { u64(UInt64(f.count)); for x in f { u32(x.bitPattern) } }
    mutating func i32s(_ v: [Int32]) { u64(UInt64(v.count)); for x in v { u32(UInt32(bitPattern: x)) } }
    mutating func tensor(_ t: ParameterTensor) {
        u64(UInt64(bitPattern: Int64(t.step)))
        u8(t.momentPolicy == .masked ? 0 : 1)
        u8(t.mask == nil ? 0 : 1)
        floats(t.values); floats(t.firstMoment); floats(t.secondMoment)
        if let m = t.mask { floats(m) }
    }
}

private struct Reader {
    let bytes: [UInt8]
    var offset: Int
    mutating func need(_ n: Int) throws { if n < 0 || offset + n > bytes.count { throw NetworkArchiveError.truncated } }
    mutating func u8() throws -> UInt8 { try need(1); defer { offset += 1 }; return bytes[offset] }
    mutating func u32() throws -> UInt32 {
        try need(4)
        var x: UInt32 = 0
        for i in 0..<4 { x |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return x
    }
    mutating func u64() throws -> UInt64 {
        try need(8)
        var x: UInt64 = 0
        for i in 0..<8 { x |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return x
    }
    mutating func count(_ width: Int) throws -> Int {
        let n = try u64()
        guard n <= UInt64(bytes.count) else { throw NetworkArchiveError.truncated }
        try need(Int(n) * width)
        return Int(n)
    }
    mutating func blob() throws -> [UInt8] {
        let n = try count(1)
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }
    mutating func floats() throws -> [Float] { let n = try count(4); return try (0..<n).map { _ in Float(bitPattern: try u32()) } }
    mutating func i32s() throws -> [Int32] { let n = try count(4); return try (0..<n).map { _ in Int32(bitPattern: try u32()) } }
    mutating func tensor() throws -> ([Float], [Float], [Float], Int, MomentPolicy, [Float]?) {
        let step = Int(Int64(bitPattern: try u64()))
        let policyCode = try u8(), hasMask = try u8()
        guard policyCode <= 1, hasMask <= 1, step >= 0 else { throw NetworkArchiveError.invalid("tensor header") }
        let v = try floats(), m = try floats(), s = try floats()
        guard m.count == v.count, s.count == v.count else { throw NetworkArchiveError.invalid("tensor moment sizes") }
        let mask = hasMask == 1 ? try floats() : nil
        return (v, m, s, step, policyCode == 0 ? .masked : .unmasked, mask)
    }
}
