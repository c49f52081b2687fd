import Agents
import Environments
import Foundation
import SparrowCore

/// The off-policy loop's own state: what besides the agent, the environment and the replay buffer decides how a
/// run continues.
struct LoopState {
    var step = 0
    var episodes = 0
    /// Return of the episode in progress.
    var episodeReturn = 0.0
    /// Returns of the training episodes that ended since the last metrics row.
    var intervalReturns: [Double] = []
    var evaluations: [Evaluation] = []
    /// Draws the random start actions and the replay-batch indices (the agent has its own for policy noise).
    var generator: Generator
    /// The observation the next action is chosen for.
    var observation: [Double]
    /// Wall-clock seconds spent training before this process started.
    var elapsedBefore = 0.0

    func encode(into w: inout ByteWriter, elapsed: Double) {
        w.write(step); w.write(episodes); w.write(episodeReturn); w.write(intervalReturns)
        w.write(evaluations.count)
        for e in evaluations { w.write(e.step); w.write(e.meanReturn); w.write(e.stdReturn); w.write(e.episodes) }
        w.write(generator.stateWords)
        w.write(observation)
        w.write(elapsedBefore + elapsed)
    }

    static func decode(from r: inout ByteReader) throws -> LoopState {
        let step = try r.read(Int.self), episodes = try r.read(Int.self), episodeReturn = try r.read(Double.self)
        let intervalReturns = try r.read([Double].self)
        let n = try r.read(Int.self)
        guard n >= 0 && n <= r.remaining else { throw FormatError.corrupt("evaluation count") }
        let evaluations = try (0..<n).map { _ in
            Evaluation(step: try r.read(Int.self), meanReturn: try r.read(Double.self), stdReturn: try r.read(Double.self),
                       episodes: try r.read(Int.self))
        }
        let words = try r.read([UInt64].self)
        guard words.count == 4 else { throw FormatError.corrupt("generator state") }
        return LoopState(step: step, episodes: episodes, episodeReturn: episodeReturn, intervalReturns: intervalReturns,
                         evaluations: evaluations, generator: Generator(stateWords: words),
                         observation: try r.read([Double].self), elapsedBefore: try r.read(Double.self))
    }
}
