import Foundation
import SparrowCore

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
        case .unsupportedVersion(let v): return "network file version \(v) is not supported (this build reads versions 1 to \(NetworkArchive.version))"
        case .truncated: return "network file is truncated"
        case .checksumMismatch: return "network file is corrupted (checksum mismatch)"
        case .invalid(let why): return "network file is invalid: \(why)"
        }
    }
}

/// Versioned binary format of an MLP with its optimizer state (exact round trip, little-endian). Written with
/// SparrowCore's `ByteWriter` in the container every Sparrow file uses (`ChecksummedFrame`):
///
///     magic "SPRWNET\0" | version u32 (2) | payload length u64 | CRC-32 of payload u32 | payload
///     payload: spec (bytes: JSON) | optional Adam (u8 flag, bytes: JSON)
///              | per layer: backend u8 (0 dense, 1 sparse, 2 masked) | positions [Int32] | weight tensor | bias tensor
///     tensor:  step i64 | moment policy u8 | has mask u8 | values, m, v ([Float] each) [| mask [Float]]
///
/// Arrays are a u64 count and the elements. Sparse layers store live connections only; masked layers their dense
/// arrays and mask. Without optimizer state (`encode(_:optimizerState: false)`, policy files) m and v are empty
/// and read as zeros. Version 1 (before 2026-12-02) had the same payload in a frame of its own — magic | version |
/// length | payload | FNV-1a-64 of the payload — and is still read.
public enum NetworkArchive {
    public static let magic: [UInt8] = Array("SPRWNET".utf8) + [0]
    /// The version written.
    public static let version: UInt32 = 2

    public static func encode(_ network: MLP, adam: Adam? = nil, optimizerState: Bool = true) throws -> [UInt8] {
        var w = ByteWriter()
        let json = JSONEncoder()
        json.outputFormatting = .sortedKeys
        w.write(bytes: Array(try json.encode(network.spec)))
        if let adam { w.write(UInt8(1)); w.write(bytes: Array(try json.encode(adam))) } else { w.write(UInt8(0)) }
        for layer in network.layers {
            w.write(UInt8(layer.backend == .dense ? 0 : layer.backend == .sparse ? 1 : 2))
            w.write(layer.backend == .sparse ? layer.positions : [])
            write(layer.weight, optimizerState: optimizerState, into: &w)
            write(layer.bias, optimizerState: optimizerState, into: &w)
        }
        return ChecksummedFrame.frame(magic: magic, version: version, payload: w.bytes)
    }

    static func write(_ t: ParameterTensor, optimizerState: Bool, into w: inout ByteWriter) {
        w.write(t.step)
        w.write(UInt8(t.momentPolicy == .masked ? 0 : 1))
        w.write(UInt8(t.mask == nil ? 0 : 1))
        w.write(t.values)
        w.write(optimizerState ? t.firstMoment : [])
        w.write(optimizerState ? t.secondMoment : [])
        if let m = t.mask { w.write(m) }
    }

    public static func decode(_ bytes: [UInt8]) throws -> (network: MLP, adam: Adam?) {
        let payload = try unframe(bytes)
        var p = ByteReader(payload)
        do { return try decodePayload(&p) } catch let e as FormatError { throw NetworkArchiveError(e) }
    }

    /// The verified payload of a version-2 or version-1 archive.
    static func unframe(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count >= magic.count + 4 else {
            throw Array(magic.prefix(bytes.count)) == bytes ? NetworkArchiveError.truncated : .badMagic
        }
        guard Array(bytes[0..<magic.count]) == magic else { throw NetworkArchiveError.badMagic }
        var r = ByteReader(bytes)
        do {
            for _ in magic { _ = try r.read(UInt8.self) }
            switch try r.read(UInt32.self) {
            case 2: return try ChecksummedFrame.unframe(bytes, magic: magic, version: 2, kind: "Sparrow network")
            case 1:
                let length = try r.read(UInt64.self)
                guard length <= UInt64(r.remaining), r.remaining - Int(length) >= 8 else { throw NetworkArchiveError.truncated }
                let payload = Array(bytes[r.offset..<(r.offset + Int(length))])
                var tail = ByteReader(Array(bytes[(r.offset + Int(length))...]))
                guard try tail.read(UInt64.self) == fnv1a(payload) else { throw NetworkArchiveError.checksumMismatch }
                guard tail.isAtEnd else { throw NetworkArchiveError.invalid("\(tail.remaining) trailing bytes") }
                return payload
            case let v: throw NetworkArchiveError.unsupportedVersion(v)
            }
        } catch let e as FormatError { throw NetworkArchiveError(e) }
    }

    static func decodePayload(_ p: inout ByteReader) throws -> (network: MLP, adam: Adam?) {
        let json = JSONDecoder()
        let spec: MLPSpec
        do { spec = try json.decode(MLPSpec.self, from: Data(try p.readBytes())) } catch let e as FormatError { throw e } catch {
            throw NetworkArchiveError.invalid("spec: \(error)")
        }
        var adam: Adam? = nil
        if try p.read(UInt8.self) == 1 {
            do { adam = try json.decode(Adam.self, from: Data(try p.readBytes())) } catch let e as FormatError { throw e } catch {
                throw NetworkArchiveError.invalid("optimizer: \(error)")
            }
        }
        do { try spec.validate() } catch { throw NetworkArchiveError.invalid("spec: \(error)") }
        var layers: [any Layer] = []
        for (l, shape) in spec.shapes.enumerated() {
            let kind = try p.read(UInt8.self)
            let positions = try p.read([Int32].self)
            let weight = try readTensor(&p), bias = try readTensor(&p)
            guard bias.values.count == shape.fanOut else { throw NetworkArchiveError.invalid("layer \(l) has \(bias.values.count) biases") }
            let layer: any Layer
            switch kind {
            case 1:
                guard positions.count == weight.values.count, isAscending(positions, below: shape.count) else {
                    throw NetworkArchiveError.invalid("layer \(l) positions")
                }
                layer = MLP.makeLayer(backend: .sparse, shape: shape, positions: positions, values: weight.values,
                                      biases: bias.values, momentPolicy: weight.policy, convolution: spec.layers[l].convolution)
            case 0, 2:
                guard weight.values.count == shape.count, (kind == 0) == (weight.mask == nil),
                      weight.mask.map({ $0.count == shape.count }) ?? true else {
                    throw NetworkArchiveError.invalid("layer \(l) dense arrays")
                }
                if let g = spec.layers[l].convolution {
                    layer = DenseConv2D(geometry: g, weights: weight.values, biases: bias.values, mask: weight.mask,
                                        momentPolicy: weight.policy)
                } else {
                    layer = DenseLayer(shape: shape, weights: weight.values, biases: bias.values, mask: weight.mask,
                                       momentPolicy: weight.policy)
                }
            default:
                throw NetworkArchiveError.invalid("layer \(l) backend code \(kind)")
            }
            layer.weight.replace(values: weight.values, firstMoment: weight.m, secondMoment: weight.v, mask: weight.mask)
            layer.weight.restoreState(step: weight.step, momentPolicy: weight.policy)
            layer.bias.replace(values: bias.values, firstMoment: bias.m, secondMoment: bias.v, mask: nil)
            layer.bias.restoreState(step: bias.step, momentPolicy: bias.policy)
            layers.append(layer)
        }
        guard p.isAtEnd else { throw NetworkArchiveError.invalid("unread bytes in payload") }
        return (MLP(spec: spec, layers: layers), adam)
    }

    static func readTensor(_ p: inout ByteReader) throws -> (values: [Float], m: [Float], v: [Float], step: Int,
                                                              policy: MomentPolicy, mask: [Float]?) {
        let step = try p.read(Int.self)
        let policyCode = try p.read(UInt8.self), hasMask = try p.read(UInt8.self)
        guard policyCode <= 1, hasMask <= 1, step >= 0 else { throw NetworkArchiveError.invalid("tensor header") }
        let values = try p.read([Float].self)
        var m = try p.read([Float].self), v = try p.read([Float].self)
        if m.isEmpty && v.isEmpty { m = [Float](repeating: 0, count: values.count); v = m }  // no optimizer state
        guard m.count == values.count, v.count == values.count else { throw NetworkArchiveError.invalid("tensor moment sizes") }
        let mask = hasMask == 1 ? try p.read([Float].self) : nil
        return (values, m, v, step, policyCode == 0 ? .masked : .unmasked, mask)
    }

    public static func write(_ network: MLP, adam: Adam? = nil, to url: URL) throws {
        try Data(try encode(network, adam: adam)).write(to: url, options: .atomic)
    }

    public static func read(from url: URL) throws -> (network: MLP, adam: Adam?) {
        try decode(Array(try Data(contentsOf: url)))
    }

    /// Version 1's checksum.
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

extension NetworkArchiveError {
    /// The archive's view of a container or field error.
    init(_ e: FormatError) {
        switch e {
        case .truncated: self = .truncated
        case .checksumMismatch: self = .checksumMismatch
        case .badMagic: self = .badMagic
        case let .unsupportedVersion(found, _), let .unsupportedVersions(found, _): self = .unsupportedVersion(found)
        case let .corrupt(detail): self = .invalid(detail)
        }
    }
}
