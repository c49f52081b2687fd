import Agents
import Foundation
import NeuralNet
import SparrowCore
import XCTest
@testable import Interop

/// `sparrow export`'s writers on small policies. The ONNX model is read back with the generated protobuf code and
/// its structure held to the network (onnxruntime itself runs the models in `make test-interop`); the C file is
/// compiled with the system's `cc` and its actions held to `DeterministicPolicy.act`, in every layout.
final class PolicyExportTests: XCTestCase {
    func agent(_ algorithm: AgentConfig.Algorithm, backend: LayerBackend = .sparse, activation: AgentConfig.ActivationName = .relu) throws -> any Agent {
        var c = AgentConfig()
        c.algorithm = algorithm
        c.method = .static
        c.sparsity = 0.8
        c.backend = backend
        c.hidden = [24, 16]
        c.activation = activation
        c.batchSize = 8
        if algorithm == .dqn {
            return try DQN(config: c, observationSize: 5, choices: 3, totalUpdates: 100, seed: 2)
        }
        return try makeAgent(config: c, observationSize: 5, actions: .box(BoxSpace(low: [-1, -2], high: [1, 3])),
                             totalUpdates: 100, seed: 4)
    }

    func testONNXModelHoldsTheNetworkTrulySparse() throws {
        let policy = try agent(.sac).deterministicPolicy
        let bytes = try ONNXExport.encode(policy, graphName: "test", producerVersion: "0", metadata: [("env", "Test-v0")])
        let model = try Onnx_ModelProto(serializedBytes: bytes)
        XCTAssertEqual(model.opsetImport.first?.version, ONNXExport.opsetVersion)
        XCTAssertEqual(model.metadataProps.map(\.key), ["env"])
        let g = model.graph
        XCTAssertEqual(g.input.map(\.name), ["observation"])
        XCTAssertEqual(g.input[0].type.tensorType.elemType, ONNXExport.ElementType.double.rawValue)
        XCTAssertEqual(g.output.map(\.name), ["action"])
        XCTAssertEqual(g.node.map(\.opType), ["Cast", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Slice", "Tanh", "Mul", "Add"])
        // Every layer below density 1 is a sparse initializer holding exactly its live connections, in order.
        let layers = policy.network.layers
        XCTAssertEqual(g.sparseInitializer.count, layers.filter { $0.liveConnections < $0.shape.fanIn * $0.shape.fanOut }.count)
        for (l, layer) in layers.enumerated() {
            guard let s = g.sparseInitializer.first(where: { $0.values.name == "layer\(l).weight" }) else {
                XCTAssertNotNil(g.initializer.first { $0.name == "layer\(l).weight" }, "layer \(l) weights")
                continue
            }
            XCTAssertEqual(s.dims, [Int64(layer.shape.fanOut), Int64(layer.shape.fanIn)])
            let indices = s.indices.rawData.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
            let values = s.values.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            XCTAssertEqual(indices, layer.positions.map(Int64.init))
            XCTAssertEqual(values, layer.liveWeights)
        }
    }

    func testONNXArgmaxModelAlsoOutputsTheQValues() throws {
        let model = try Onnx_ModelProto(serializedBytes: ONNXExport.encode(try agent(.dqn).deterministicPolicy, graphName: "q",
                                                                           producerVersion: "0", metadata: []))
        XCTAssertEqual(model.graph.output.map(\.name), ["action", "q_values"])
        XCTAssertEqual(model.graph.output[0].type.tensorType.elemType, ONNXExport.ElementType.int64.rawValue)
        XCTAssertEqual(model.graph.node.last?.opType, "ArgMax")
    }

    /// CSR and CSC hold the same connections as the layer; the C file, compiled, acts as the policy does.
    func testCFileCompilesAndActsAsThePolicy() throws {
        let cases: [(AgentConfig.Algorithm, LayerBackend, AgentConfig.ActivationName)] = [(.sac, .sparse, .relu), (.td3, .masked, .leakyRelu),
                                                                         (.dqn, .sparse, .tanh)]
        for (algorithm, backend, activation) in cases {
            let policy = try agent(algorithm, backend: backend, activation: activation).deterministicPolicy
            for layer in PolicyLayer.layers(of: policy.network) {
                let csc = layer.csc, dense = layer.denseWeights
                let rowPointer = layer.rowPointer, columns = layer.columns
                for r in 0..<layer.fanOut {
                    for k in Int(rowPointer[r])..<Int(rowPointer[r + 1]) {
                        XCTAssertEqual(dense[r * layer.fanIn + Int(columns[k])], layer.values[k])
                    }
                }
                for c in 0..<layer.fanIn {
                    for k in Int(csc.columnPointer[c])..<Int(csc.columnPointer[c + 1]) {
                        XCTAssertEqual(dense[Int(csc.rows[k]) * layer.fanIn + c], csc.values[k])
                    }
                }
                XCTAssertEqual(Int(csc.columnPointer.last!), layer.positions.count)
            }
            var g = Generator(seed: 11)
            let obs = (0..<40).map { _ in (0..<5).map { _ in g.normal() * 2 } }
            let expected: [[Float]] = obs.map { o in
                var a = [Float](repeating: 0, count: policy.output.actionComponents)
                o.withUnsafeBufferPointer { p in a.withUnsafeMutableBufferPointer { policy.act(p, into: $0) } }
                return a
            }
            for layout in CExport.Layout.allCases {
                let got = try compileAndRun(try CExport.source(policy, layout: layout, comment: ["test"]), observations: obs,
                                            actions: policy.output.actionComponents)
                for i in obs.indices {
                    for j in expected[i].indices {
                        XCTAssertEqual(got[i][j], expected[i][j], accuracy: 1e-5, "\(algorithm) \(layout) observation \(i)")
                    }
                }
            }
        }
    }

    /// Convolutional Q networks in C, frames scaled by 1/255: a chain (the Nature CNN's kind) of odd shapes — 3
    /// channels of 11×11, a 4×4/2 "SAME" convolution with its extra zero at the bottom and right, 5 and 7 channels —
    /// and a residual graph (Impala's kind: convolution, 3/2 max-pool with SAME padding, x + conv(relu(conv(relu x))),
    /// relu, two dense layers), in the truly sparse, masked and dense backends and every layout. The C file's raw
    /// outputs are the network's to 1e-5.
    func testCFileComputesConvolutionalQNetworks() throws {
        let convolutions = [ConvGeometry.same(inChannels: 3, size: 11, outChannels: 5, kernel: 4, stride: 2),
                            ConvGeometry.same(inChannels: 5, size: 6, outChannels: 7, kernel: 3)]
        XCTAssertEqual([convolutions[0].padding, convolutions[0].trailingPadding], [1, 2])
        let chainWidths = [convolutions[0].inputCount, convolutions[0].outputCount, convolutions[1].outputCount, 9, 4]
        let c0 = ConvGeometry.same(inChannels: 3, size: 11, outChannels: 4, kernel: 3)
        let pool = PoolGeometry.same(channels: 4, height: 11, width: 11, window: 3, stride: 2)
        let c1 = ConvGeometry.same(inChannels: 4, size: 6, outChannels: 4, kernel: 3)
        XCTAssertEqual([pool.outputHeight, pool.padding, pool.trailingPadding], [6, 1, 1])
        let graph = NetworkGraph(ops: [.layer(0, .identity), .maxPool(pool), .saveSkip, .activation(.relu), .layer(1, .identity),
                                       .activation(.relu), .layer(2, .identity), .addSkip, .activation(.relu),
                                       .layer(3, .relu), .layer(4, .identity)])
        var g = Generator(seed: 21)
        let observations = (0..<12).map { _ in (0..<(3 * 11 * 11)).map { _ in Double(g.next() % 256) } }
        for residual in [false, true] {
            for backend in [LayerBackend.sparse, .masked, .dense] {
                let spec: MLPSpec
                if residual {
                    let layers = [0.5, 0.4, 0.6, 0.3, 0.8].enumerated().map { l, d in
                        LayerSpec(backend: backend, density: backend == .dense ? 1 : d, convolution: l < 3 ? [c0, c1, c1][l] : nil)
                    }
                    spec = MLPSpec(widths: [c0.inputCount, c0.outputCount, c1.outputCount, c1.outputCount, 9, 4], layers: layers, graph: graph)
                } else {
                    let layers = [0.4, 0.6, 0.3, 0.8].enumerated().map { l, d in
                        LayerSpec(backend: backend, density: backend == .dense ? 1 : d, convolution: l < 2 ? convolutions[l] : nil)
                    }
                    spec = MLPSpec(widths: chainWidths, activation: .relu, outputActivation: .identity, layers: layers)
                }
                var init_ = Generator(seed: 3)
                let network = MLP(spec: spec, generator: &init_)
                for (l, layer) in network.layers.enumerated() { layer.bias.setValues(layer.bias.values.map { $0 + 0.01 * Float(l + 1) }) }
                let policy = DeterministicPolicy(inputScale: 1 / 255, network: network, output: .argmax(choices: 4))
                let expected: [[Float]] = observations.map { o in
                    let ws = network.workspace(batch: 1)
                    o.withUnsafeBufferPointer { policy.input($0, into: ws.input.pointer) }
                    network.forward(ws)
                    return Array(UnsafeBufferPointer(start: ws.output.pointer, count: 4))
                }
                let first = expected.map { $0[0] }
                XCTAssertGreaterThan(first.max()! - first.min()!, 1e-3, "the outputs depend on the frames")
                for layout in CExport.Layout.allCases {
                    let got = try compileAndRun(try CExport.source(policy, layout: layout, comment: ["test"]), observations: observations,
                                                actions: 4, rawOutputs: true)
                    for i in observations.indices {
                        for j in 0..<4 {
                            XCTAssertEqual(got[i][j], expected[i][j], accuracy: 1e-5 * max(1, abs(expected[i][j])),
                                           "\(residual ? "residual" : "chain") \(backend) \(layout) observation \(i)")
                        }
                    }
                }
            }
        }
    }

    func testNonFiniteWeightIsAClearError() throws {
        let policy = try agent(.sac).deterministicPolicy
        let layer = policy.network.layers[1]
        var w = layer.weight.values
        w[Int(layer.positions[0])] = .nan
        layer.weight.setValues(w)
        XCTAssertThrowsError(try CExport.source(policy, comment: [])) { error in
            XCTAssertEqual("\(error)", "layer 1 of the policy holds a non-finite weight or bias; it cannot be written as C")
        }
    }

    /// Compiles `source` with a main that prints the actions of `observations` (`%.9g`, one line each), or with
    /// `rawOutputs` the network's outputs (`sparrow_policy_network`).
    func compileAndRun(_ source: String, observations: [[Double]], actions: Int, rawOutputs: Bool = false) throws -> [[Float]] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-c-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = observations.map { "{" + $0.map { "\($0)" }.joined(separator: ", ") + "}" }.joined(separator: ",\n")
        let main = """
            #include <stdio.h>
            #include "policy.c"
            static const double obs[][SPARROW_POLICY_OBSERVATIONS] = {\(rows)};
            int main(void) {
                for (int i = 0; i < \(observations.count); i++) {
                #if \(rawOutputs ? 1 : 0)
                    float z[SPARROW_POLICY_OUTPUTS];
                    sparrow_policy_network(obs[i], z);
                    for (int j = 0; j < SPARROW_POLICY_OUTPUTS; j++) printf("%.9g ", z[j]);
                    printf("\\n");
                #elif SPARROW_POLICY_DISCRETE
                    printf("%d\\n", sparrow_policy(obs[i]));
                #else
                    float a[SPARROW_POLICY_ACTIONS];
                    sparrow_policy(obs[i], a);
                    for (int j = 0; j < SPARROW_POLICY_ACTIONS; j++) printf("%.9g ", a[j]);
                    printf("\\n");
                #endif
                }
                return 0;
            }
            """
        try source.write(to: dir.appendingPathComponent("policy.c"), atomically: true, encoding: .utf8)
        try main.write(to: dir.appendingPathComponent("main.c"), atomically: true, encoding: .utf8)
        let exe = dir.appendingPathComponent("policy").path
        try run("/usr/bin/env", ["cc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", dir.appendingPathComponent("main.c").path,
                                 "-o", exe, "-lm"])
        let out = try run(exe, [])
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, observations.count)
        return lines.map { $0.split(separator: " ").map { Float(String($0))! } }
    }

    @discardableResult
    func run(_ executable: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ExportError("\(executable) \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
