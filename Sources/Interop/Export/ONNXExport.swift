import Agents
import Foundation
import NeuralNet
import SwiftProtobuf

/// A `DeterministicPolicy` as a standard ONNX model (opset 17, IR version 8), for onnxruntime and every other
/// ONNX consumer:
///
///     input  "observation"  float64 [batch, observations]   (Gymnasium's MuJoCo observations as they come)
///     output "action"       float32 [batch, actions]        (squashed: tanh, scale and offset included)
///            or int64 [batch] with "q_values" float32 [batch, choices]   (argmax: DQN)
///
/// The graph does what Sparrow does, in the same precision: PPO's normalisation (Sub, Div, Clip) in float64, a
/// Cast to float32 (DQN's Atari frames then Mul by 1/255), then per layer Gemm(x, W, b, transB = 1) — or, for
/// convolutions, Reshape to NCHW, Conv (OIHW kernel, strides, TF "SAME" pads) and a Flatten before the first fully
/// connected layer — and its activation (Relu, LeakyRelu, Tanh); a graph network (Impala) also has MaxPool (TF
/// "SAME" pads), Relu and the residual Adds between its layers; then the head. A layer with absent connections stores W as a *sparse initializer* (ONNX `SparseTensorProto`: the live
/// values and their linearised positions), so the file stays truly sparse; runtimes densify it when they load it.
public enum ONNXExport {
    public static let opsetVersion: Int64 = 17
    public static let irVersion: Int64 = 8
    public static let inputName = "observation", outputName = "action", qValuesName = "q_values"

    /// The serialised model. `metadata` goes into the model's `metadata_props` (what produced it, from which run).
    public static func encode(_ policy: DeterministicPolicy, graphName: String, producerVersion: String,
                              metadata: [(key: String, value: String)]) throws -> [UInt8] {
        try model(policy, graphName: graphName, producerVersion: producerVersion, metadata: metadata).serializedBytes()
    }

    public static func model(_ policy: DeterministicPolicy, graphName: String, producerVersion: String,
                             metadata: [(key: String, value: String)]) -> Onnx_ModelProto {
        var g = GraphBuilder()
        let obs = policy.observationSize
        g.graph.name = graphName
        g.graph.input = [valueInfo(inputName, type: .double, shape: [nil, obs])]

        var x = inputName
        if let n = policy.normalization {
            g.initializer("obs_mean", doubles: n.mean, dims: [obs])
            g.initializer("obs_std", doubles: n.std, dims: [obs])
            g.initializer("obs_clip_min", doubles: [-n.clip], dims: [])
            g.initializer("obs_clip_max", doubles: [n.clip], dims: [])
            x = g.node("Sub", [x, "obs_mean"], "obs_centered")
            x = g.node("Div", [x, "obs_std"], "obs_scaled")
            x = g.node("Clip", [x, "obs_clip_min", "obs_clip_max"], "obs_normalized")
        }
        x = g.node("Cast", [x], "x0", attributes: [intAttribute("to", Int64(ElementType.float.rawValue))])
        if policy.inputScale != 1 {  // the Nature CNN's frames: bytes 0…255 to [0, 1]
            g.initializer("input_scale", floats: [policy.inputScale], dims: [])
            x = g.node("Mul", [x, "input_scale"], "x0.scaled")
        }

        let layers = PolicyLayer.layers(of: policy.network)
        // A chain is one op per layer; a graph network (Impala) adds activations, max-pools and skip connections.
        let ops: [NetworkGraph.Op] = policy.network.spec.graph?.ops ?? layers.indices.map { .layer($0, layers[$0].activation) }
        var spatial = false  // whether x is an NCHW tensor (after a convolution or pooling) or [batch, features]
        var skips: [String] = []
        /// Sparrow's flat features are NCHW flattened ((c·H + h)·W + w): reshape before the first spatial op, flatten
        /// before a fully connected layer that follows one (it reads the same order).
        func toNCHW(_ channels: Int, _ height: Int, _ width: Int, _ name: String) {
            guard !spatial else { return }
            g.initializer("\(name).input_shape", int64s: [0, Int64(channels), Int64(height), Int64(width)], dims: [4])
            x = g.node("Reshape", [x, "\(name).input_shape"], "\(name).nchw")
            spatial = true
        }
        func activate(_ f: Activation, _ name: String) {
            switch f {
            case .identity: break
            case .relu: x = g.node("Relu", [x], "\(name).relu")
            case .leakyReLU(let slope): x = g.node("LeakyRelu", [x], "\(name).leaky_relu", attributes: [floatAttribute("alpha", slope)])
            case .tanh: x = g.node("Tanh", [x], "\(name).tanh")
            }
        }
        for (i, op) in ops.enumerated() {
            switch op {
            case .layer(let l, let f):
                let layer = layers[l]
                let w = "layer\(l).weight", b = "layer\(l).bias"
                // A convolution's kernel is OIHW, the order Sparrow flattens it in; its positions index the same order.
                let dims = layer.convolution.map { [$0.outChannels, $0.inChannels, $0.kernelHeight, $0.kernelWidth] }
                    ?? [layer.fanOut, layer.fanIn]
                if layer.isSparse {
                    g.sparseInitializer(w, values: layer.values, positions: layer.positions, dims: dims)
                } else {
                    g.initializer(w, floats: layer.values, dims: dims)
                }
                g.initializer(b, floats: layer.biases, dims: [layer.fanOut])
                if let c = layer.convolution {
                    toNCHW(c.inChannels, c.height, c.width, "layer\(l)")
                    let p = Int64(c.padding), t = Int64(c.trailingPadding)
                    x = g.node("Conv", [x, w, b], "layer\(l).conv", attributes: [
                        intsAttribute("kernel_shape", [Int64(c.kernelHeight), Int64(c.kernelWidth)]),
                        intsAttribute("strides", [Int64(c.stride), Int64(c.stride)]),
                        intsAttribute("pads", [p, p, t, t])])
                } else {
                    if spatial {
                        x = g.node("Flatten", [x], "layer\(l).flat", attributes: [intAttribute("axis", 1)])
                        spatial = false
                    }
                    x = g.node("Gemm", [x, w, b], "layer\(l).linear", attributes: [intAttribute("transB", 1)])
                }
                activate(f, "layer\(l)")
            case .activation(let f):
                activate(f, "op\(i)")
            case .maxPool(let p):
                toNCHW(p.channels, p.height, p.width, "op\(i)")
                // ONNX MaxPool's pads never win (onnxruntime skips them), as TF's SAME pooling.
                let before = Int64(p.padding), after = Int64(p.trailingPadding)
                x = g.node("MaxPool", [x], "op\(i).max_pool", attributes: [
                    intsAttribute("kernel_shape", [Int64(p.window), Int64(p.window)]),
                    intsAttribute("strides", [Int64(p.stride), Int64(p.stride)]),
                    intsAttribute("pads", [before, before, after, after])])
            case .saveSkip:
                skips.append(x)
            case .addSkip:
                x = g.node("Add", [x, skips.removeLast()], "op\(i).add")
            }
        }
        if spatial { x = g.node("Flatten", [x], "output.flat", attributes: [intAttribute("axis", 1)]) }

        switch policy.output {
        case .squashed(let scale, let offset):
            let A = scale.count
            if A < policy.network.outputWidth {  // SAC: the means are the first A of 2A outputs
                g.initializer("head_starts", int64s: [0], dims: [1])
                g.initializer("head_ends", int64s: [Int64(A)], dims: [1])
                g.initializer("head_axes", int64s: [1], dims: [1])
                x = g.node("Slice", [x, "head_starts", "head_ends", "head_axes"], "head.mean")
            }
            g.initializer("action_scale", floats: scale, dims: [A])
            g.initializer("action_offset", floats: offset, dims: [A])
            x = g.node("Tanh", [x], "head.tanh")
            x = g.node("Mul", [x, "action_scale"], "head.scaled")
            _ = g.node("Add", [x, "action_offset"], outputName)
            g.graph.output = [valueInfo(outputName, type: .float, shape: [nil, A])]
        case .argmax(let n):
            _ = g.node("Identity", [x], qValuesName)
            _ = g.node("ArgMax", [x], outputName, attributes: [intAttribute("axis", 1), intAttribute("keepdims", 0)])
            g.graph.output = [valueInfo(outputName, type: .int64, shape: [nil]),
                              valueInfo(qValuesName, type: .float, shape: [nil, n])]
        }

        var m = Onnx_ModelProto()
        m.irVersion = irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = opsetVersion
        m.opsetImport = [opset]
        m.producerName = "sparrow"
        m.producerVersion = producerVersion
        m.graph = g.graph
        m.metadataProps = metadata.map { var e = Onnx_StringStringEntryProto(); e.key = $0.key; e.value = $0.value; return e }
        return m
    }

    /// ONNX element types used here (TensorProto.DataType numbers).
    enum ElementType: Int32 { case float = 1, int64 = 7, double = 11 }

    static func valueInfo(_ name: String, type: ElementType, shape: [Int?]) -> Onnx_ValueInfoProto {
        var t = Onnx_TypeProto.Tensor()
        t.elemType = type.rawValue
        var s = Onnx_TensorShapeProto()
        s.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "batch" }
            return dim
        }
        t.shape = s
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.type.tensorType = t
        return v
    }

    static func intAttribute(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .int; a.i = value
        return a
    }

    static func intsAttribute(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .ints; a.ints = values
        return a
    }

    static func floatAttribute(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .float; a.f = value
        return a
    }

    /// Nodes and initializers in the order they are added (nodes are added in topological order).
    struct GraphBuilder {
        var graph = Onnx_GraphProto()

        /// Adds a node computing `output` from `inputs`; returns `output`.
        mutating func node(_ op: String, _ inputs: [String], _ output: String, attributes: [Onnx_AttributeProto] = []) -> String {
            var n = Onnx_NodeProto()
            n.opType = op; n.name = output; n.input = inputs; n.output = [output]; n.attribute = attributes
            graph.node.append(n)
            return output
        }

        mutating func initializer(_ name: String, floats: [Float], dims: [Int]) {
            graph.initializer.append(tensor(name, type: .float, raw: littleEndianBytes(floats.map(\.bitPattern)), dims: dims))
        }

        mutating func initializer(_ name: String, doubles: [Double], dims: [Int]) {
            graph.initializer.append(tensor(name, type: .double, raw: littleEndianBytes(doubles.map(\.bitPattern)), dims: dims))
        }

        mutating func initializer(_ name: String, int64s: [Int64], dims: [Int]) {
            graph.initializer.append(tensor(name, type: .int64, raw: littleEndianBytes(int64s), dims: dims))
        }

        /// A sparse initializer: `values` at the linearised, ascending `positions` of a `dims` tensor.
        mutating func sparseInitializer(_ name: String, values: [Float], positions: [Int32], dims: [Int]) {
            var s = Onnx_SparseTensorProto()
            s.values = tensor(name, type: .float, raw: littleEndianBytes(values.map(\.bitPattern)), dims: [values.count])
            s.indices = tensor(name + ".indices", type: .int64, raw: littleEndianBytes(positions.map(Int64.init)),
                               dims: [positions.count])
            s.dims = dims.map(Int64.init)
            graph.sparseInitializer.append(s)
        }

        func tensor(_ name: String, type: ElementType, raw: Data, dims: [Int]) -> Onnx_TensorProto {
            var t = Onnx_TensorProto()
            t.name = name; t.dataType = type.rawValue; t.dims = dims.map(Int64.init); t.rawData = raw
            return t
        }
    }

    /// ONNX `raw_data` is little-endian.
    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> Data {
        var d = Data(capacity: values.count * MemoryLayout<T>.size)
        for v in values { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }
}
