import NeuralNet
import SparrowCore

/// A trained network's whole optimizer step, after `backward` ran on `workspace`: Adam's step, then
/// `sparseTrainingStep`. Networks whose Adam steps run side by side (SAC's and TD3's twin critics) call the two
/// halves apart: the sparse-training steps draw from the agent's generator, so they run one after another in
/// network order.
func optimizerStep(_ net: MLP, name: String, adam: Adam, updater: (any SparsityUpdater)?, step: Int, workspace: Workspace,
                   analyses: NetworkAnalyses, generator: inout Generator, profiler: StepProfiler?) {
    adam.step(net)
    sparseTrainingStep(net, name: name, updater: updater, step: step, workspace: workspace, analyses: analyses,
                       generator: &generator, profiler: profiler)
}

/// A network's step after its optimizer step, on `workspace`, which holds the batch it just trained on (forward
/// activations and backward gradients): the analyses' measurements (gradient SNR, dormant neurons; they read the
/// gradients of the topology that produced them, so they come first), the method's topology change (its
/// `SparsityUpdater`, which decides whether anything happens at `step`; gradient growth reads the gradients too),
/// then ReDo's recycling. The time counts as `.topologyUpdate`. Every agent calls this for every trained network,
/// under the name its `networks` list gives it.
func sparseTrainingStep(_ net: MLP, name: String, updater: (any SparsityUpdater)?, step: Int, workspace: Workspace,
                        analyses: NetworkAnalyses, generator: inout Generator, profiler: StepProfiler?) {
    let outer = profiler?.enter(.topologyUpdate)
    defer { if let outer { profiler?.enter(outer) } }
    analyses.measure(net, name: name, step: step, workspace: workspace)
    updater?.update(net, step: step, workspace: workspace, generator: &generator)
    analyses.recycle(net, name: name, step: step, workspace: workspace, generator: &generator)
}

/// The updaters' own state in a checkpoint, in the agent's network order, each as one length-prefixed record:
/// only updaters that carry state write one, so the checkpoints of stateless methods (every method before
/// updaters existed) hold nothing here and read back as before.
func encodeUpdaterStates(_ updaters: [(any SparsityUpdater)?], into w: inout ByteWriter) {
    for case let u? in updaters where u.carriesState {
        var record = ByteWriter()
        u.encodeState(into: &record)
        w.write(bytes: record.bytes)
    }
}

func decodeUpdaterStates(_ updaters: [(any SparsityUpdater)?], from r: inout ByteReader) throws {
    for case let u? in updaters where u.carriesState {
        var record = ByteReader(try r.readBytes())
        try u.decodeState(from: &record)
        guard record.isAtEnd else { throw FormatError.corrupt("sparse-training state has trailing bytes") }
    }
}
