import MuJoCo
import SparrowCore

extension LocomotionEnv {
    /// Everything that decides this environment's future: the simulation snapshot (mid-episode included), the
    /// step counter, the last observation and the reset-noise generator. Restoring it into an env of the same task
    /// and options continues bit-identically.
    public func encodeState(into w: inout ByteWriter) {
        w.write(id.name)
        w.write(bytes: simulation.snapshot())
        w.write(elapsedSteps)
        w.write(generator.stateWords)
        w.write(lastFiniteObservation)
    }

    public func decodeState(from r: inout ByteReader) throws {
        let name = try r.read(String.self)
        guard name == id.name else { throw FormatError.corrupt("environment state is for \(name), not \(id.name)") }
        do { try simulation.restore(snapshot: try r.readBytes()) } catch let e as FormatError { throw e } catch {
            throw FormatError.corrupt("\(error)")
        }
        let steps = try r.read(Int.self)
        let words = try r.read([UInt64].self)
        let last = try r.read([Double].self)
        guard words.count == 4, last.count == observationSpace.dimension, steps >= 0 else {
            throw FormatError.corrupt("environment counters")
        }
        restoreCounters(elapsedSteps: steps, generator: Generator(stateWords: words), lastObservation: last)
    }
}
