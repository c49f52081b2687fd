@testable import Agents
import NeuralNet
import SparrowCore
import XCTest

/// The sparse-method seam: the registry, what each declaration builds, and the updaters' checkpoint codec.
final class SparseMethodTests: XCTestCase {
    func testRegistryNamesAreUniqueAndAreTheMethodSpellings() {
        let names = SparseMethods.registry.map(\.method.rawValue)
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(AgentConfig.Method.spellings, names)
        for d in SparseMethods.registry { XCTAssertEqual(SparseMethods.declaration(of: d.method)?.method, d.method) }
        XCTAssertNil(SparseMethods.declaration(of: AgentConfig.Method(rawValue: "nonesuch")))
        XCTAssertNil(AgentConfig.Method.parse("nonesuch"))
        XCTAssertEqual(AgentConfig.Method.parse("rigl"), .rigl)
        let presets = SparseMethods.presets.map(\.name)
        XCTAssertEqual(Set(presets).count, presets.count)
    }

    /// A config naming a method the registry does not have is refused by name, not trapped on.
    func testAnUnknownMethodBuiltInCodeIsRefused() {
        var c = AgentConfig()
        c.method = AgentConfig.Method(rawValue: "nonesuch")
        XCTAssertThrowsError(try c.validate()) {
            XCTAssertTrue("\($0)".hasPrefix("method nonesuch is not one of dense, static"), "\($0)")
        }
    }

    /// Each method's declaration decides what its networks start as and which updater they get.
    func testDeclarationsBuildTheirNetworksAndUpdaters() throws {
        for method in AgentConfig.Method.allCases {
            var c = AgentConfig()
            c.method = method
            c.sparsity = method == .dense ? 0 : 0.8
            c.grow = method == .set || method == .ds || method == .tows ? .random : .gradient
            try c.validate()
            let factory = NetworkFactory(config: c, totalUpdates: 1000)
            let spec = try factory.spec(input: 5, output: 2, sparsity: c.sparsity)
            let updater = try factory.updater(for: spec, sparsity: c.sparsity)
            let hidden = spec.layers[0]
            switch method.declaration.start {
            case .dense: XCTAssertEqual(hidden.backend, .dense, "\(method)")
            case .sparse: XCTAssertLessThan(hidden.density, 1, "\(method)")
            case .denseToBePruned: XCTAssertEqual(hidden.density, 1, "\(method)"); XCTAssertNotEqual(hidden.backend, .dense, "\(method)")
            }
            switch method {
            case .dense, .static: XCTAssertNil(updater, "\(method)")
            case .ds, .tows, .set, .rigl: XCTAssertTrue(updater is DynamicSparsityUpdater, "\(method)")
            case .prune: XCTAssertTrue(updater is GradualPruningUpdater, "\(method)")
            default: XCTAssertNotNil(updater, "\(method)")
            }
        }
    }

    /// An updater with state: each connection's age in updates since it was grown (the bookkeeping of methods such
    /// as SRigL's or age-based drops), so the codec has something to carry.
    final class AgeUpdater: SparsityUpdater {
        var ages: [[Int32]] = []
        func update(_ net: MLP, step: Int, workspace: Workspace, generator: inout Generator) -> [Int] {
            if ages.isEmpty { ages = net.layers.map { [Int32](repeating: 0, count: $0.liveConnections) } }
            ages = ages.map { $0.map { $0 + 1 } }
            return []
        }
        var carriesState: Bool { true }
        func encodeState(into w: inout ByteWriter) { w.write(ages.count); for a in ages { w.write(a) } }
        func decodeState(from r: inout ByteReader) throws {
            ages = try (0..<r.read(Int.self)).map { _ in try r.read([Int32].self) }
        }
    }

    /// Stateless updaters write nothing (checkpoints from before the seam read back); stateful ones round-trip in
    /// network order, each in its own record, and a record with bytes left over is refused.
    func testUpdaterStatesRoundTripAndStatelessOnesWriteNothing() throws {
        var g = Generator(seed: 1)
        let net = MLP(spec: MLPSpec(widths: [3, 4, 2], layers: [LayerSpec(backend: .sparse, density: 0.5), LayerSpec(backend: .dense)]),
                      generator: &g)
        let ws = net.workspace(batch: 1)
        let a = AgeUpdater(), b = AgeUpdater()
        for _ in 0..<3 { a.update(net, step: 0, workspace: ws, generator: &g) }
        b.update(net, step: 0, workspace: ws, generator: &g)
        let stateless = GradualPruningUpdater([nil, nil])

        var empty = ByteWriter()
        encodeUpdaterStates([stateless, nil, DynamicSparsityUpdater(.set())], into: &empty)
        XCTAssertEqual(empty.bytes, [])

        var w = ByteWriter()
        encodeUpdaterStates([a, stateless, nil, b], into: &w)
        let a2 = AgeUpdater(), b2 = AgeUpdater()
        var r = ByteReader(w.bytes)
        try decodeUpdaterStates([a2, stateless, nil, b2], from: &r)
        XCTAssertTrue(r.isAtEnd)
        XCTAssertEqual(a2.ages, [[Int32](repeating: 3, count: 6), [Int32](repeating: 3, count: 8)])
        XCTAssertEqual(b2.ages, b.ages)

        // A record longer than the state it holds is corrupt.
        var padded = ByteWriter()
        var record = ByteWriter()
        a.encodeState(into: &record)
        padded.write(bytes: record.bytes + [0])
        var pr = ByteReader(padded.bytes)
        XCTAssertThrowsError(try decodeUpdaterStates([AgeUpdater()], from: &pr))
    }
}
