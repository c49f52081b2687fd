import Agents
import ArgumentParser
import Training

/// `sparrow methods`: what `--method` and `--algorithm` can be, read from their declarations
/// (`SparseMethods.registry`, `AlgorithmDeclaration.all`), with the presets of each.
struct Methods: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the sparse-training methods and the algorithms, with their presets.")

    @Flag(help: "One JSON object per line (keys kind, name, summary, presets, …) instead of a list.") var json = false

    func run() throws {
        for d in SparseMethods.registry {
            let presets = Presets.names.filter { Presets.method(ofPreset: $0) == d.method }
            let start: String
            switch d.start {
            case .dense: start = "dense"
            case .sparse: start = "sparse"
            case .denseToBePruned: start = "dense, pruned toward the sparsity"
            }
            if json {
                var o = JSONObject()
                o.add("kind", "method"); o.add("name", d.method.rawValue); o.add("summary", d.summary)
                o.add("starts", start); o.add("keeps_live_count", d.keepsLiveCount); o.add("presets", presets)
                print(o.text)
            } else {
                print("\(d.method.rawValue): \(d.summary)\n    starts \(start); presets: \(presets.isEmpty ? "none" : presets.joined(separator: ", "))")
            }
        }
        if !json { print("") }
        for d in AlgorithmDeclaration.all {
            let presets = Presets.names.filter { Presets.algorithm(ofPreset: $0) == d.algorithm }
            let actions = d.actions == .discrete ? "discrete" : "continuous"
            let loop = d.loop == .onPolicy ? "on-policy" : "off-policy"
            if json {
                var o = JSONObject()
                o.add("kind", "algorithm"); o.add("name", d.algorithm.rawValue); o.add("summary", d.summary)
                o.add("actions", actions); o.add("loop", loop); o.add("networks", d.networks.map(\.name))
                // Every algorithm writes a policy file since version 3 (its `DeterministicPolicy` on disk); the key stays.
                o.add("policy_file", true); o.add("presets", presets)
                print(o.text)
            } else {
                print("\(d.algorithm.rawValue): \(d.summary)\n    \(actions) actions, \(loop); networks \(d.networks.map(\.name).joined(separator: ", ")); presets: \(presets.joined(separator: ", "))")
            }
        }
    }
}
