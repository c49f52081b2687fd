import Agents
import Foundation
import NeuralNet
import SparrowCore

/// How a run's truly sparse layers choose their path (`DensePath`, the `dense-path` knob), set when the run opens:
/// with `timed`, a new run takes this machine's crossovers for its layer shapes at its batch size from the cache
/// (timing the shapes the cache lacks) and writes them to its `dense-path.json`; a resumed run reads that file and
/// never the cache, so it continues with the choices it started with (exact resume) even on another machine.
enum RunDensePath {
    static func choose(config: TrainConfig, directory: RunDirectory, agent: any Agent, resuming: Bool) throws {
        var table: DensePathTable?
        if config.densePath == .timed {
            if resuming {
                table = try recorded(in: directory)
            } else {
                let shapes = agent.namedNetworks.flatMap { $0.network.layers.compactMap { ($0 as? SparseLayer)?.shape } }
                let resolved = DensePathCache().resolve(shapes: shapes, batch: config.agent.batchSize)
                try AtomicFile.write(try resolved.json(), to: directory.densePath)
                table = resolved
            }
        }
        DensePath.use(config.densePath, table: table)
        for (_, network) in agent.namedNetworks {
            for layer in network.layers { (layer as? SparseLayer)?.choosePath() }
        }
    }

    /// The table a timed run recorded in `directory`.
    static func recorded(in directory: RunDirectory) throws -> DensePathTable {
        guard let data = FileManager.default.contents(atPath: directory.densePath) else {
            throw TrainingError("\(directory.densePath) is missing: this run chose its layers' paths (dense-path timed) from it, and resuming without it would change its numbers; restore it, or start a new run")
        }
        do { return try JSONDecoder().decode(DensePathTable.self, from: data) } catch {
            throw TrainingError("\(directory.densePath) is not a dense-path table (\(ErrorText.describe(error))); restore it, or start a new run")
        }
    }

    /// For an agent loaded from a checkpoint to act (`eval`, `replay`, `export`): the choices its run made, from the
    /// `dense-path.json` beside the checkpoint (where a timed run's record is missing, `timed` without a table is the
    /// rule: acting only, that changes nothing but the last bits of the actions).
    static func chooseForLoading(config: TrainConfig, checkpoint: String) {
        let directory = RunDirectory((checkpoint as NSString).deletingLastPathComponent)
        DensePath.use(config.densePath, table: config.densePath == .timed ? try? recorded(in: directory) : nil)
    }
}
