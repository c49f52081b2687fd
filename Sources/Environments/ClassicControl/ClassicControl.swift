import SparrowCore

/// A classic-control task, seeded, with Gymnasium's defaults (and its `gymnasium.make` time limit).
public func makeClassicControlEnvironment(_ id: ClassicControlID, seed: UInt64) -> any ClassicControlEnvironment {
    switch id {
    case .cartPole, .cartPoleV0: return CartPole(seed: seed, id: id)
    case .acrobot: return Acrobot(seed: seed)
    case .mountainCar: return MountainCar(seed: seed)
    }
}

/// What CartPole, Acrobot and MountainCar share beyond `TrainingEnvironment`: Gymnasium's physical state
/// (`env.unwrapped.state`), a start from a given state (to replay recorded trajectories), and the step counter of
/// the `TimeLimit` wrapper that `gymnasium.make` adds.
///
/// Each task is one final class whose `step(action:observation:)` is Gymnasium's `step` line by line, in the same
/// floating-point order, so trajectories match Gymnasium's to the last bit. Reset states are drawn from our seeded
/// `Generator` (uniform in Gymnasium's ranges), not NumPy's: parity is checked from a recorded start state.
/// Before the first reset the state is the centre of the reset range (as a MuJoCo env starts in its model pose).
public protocol ClassicControlEnvironment: TrainingEnvironment {
    var id: ClassicControlID { get }
    /// Gymnasium's `env.unwrapped.state`, in Gymnasium's order (see `stateNames`).
    var state: [Double] { get }
    /// Names of the state components, in order.
    var stateNames: [String] { get }
    /// Steps since the last reset, counted as Gymnasium's `TimeLimit` does (it keeps counting past the limit).
    var elapsedSteps: Int { get }
    /// `truncated` is true from the step on which `elapsedSteps` reaches this.
    var maxEpisodeSteps: Int { get }
    /// The generator behind reset states; its state is part of a checkpoint.
    var generator: Generator { get }
    /// Starts an episode from `state` (`stateNames.count` finite values) instead of a random one.
    @discardableResult
    func reset(state: [Double]) throws -> (observation: [Double], info: ResetInfo)
}

extension ClassicControlEnvironment {
    public var name: String { id.name }


    /// Checks a state given to `reset(state:)`: the right number of finite values.
    func validate(state: [Double]) throws {
        guard state.count == stateNames.count else {
            throw EnvironmentError.invalidState("\(name) needs \(stateNames.count) values "
                + "(\(stateNames.joined(separator: ", "))), got \(state.count)")
        }
        if let i = state.firstIndex(where: { !$0.isFinite }) {
            throw EnvironmentError.invalidState("\(name) \(stateNames[i]) is \(state[i]); values must be finite")
        }
    }
}

/// The index of a discrete action given as one number: an integer in 0..<choices, or a thrown error naming the
/// value and the valid ones (nothing is stepped).
@inline(__always)
func discreteAction(_ action: UnsafeBufferPointer<Double>, choices: Int) throws -> Int {
    guard action.count == 1 else { throw EnvironmentError.wrongActionSize(expected: 1, actual: action.count) }
    let a = action[0]
    guard a >= 0, a < Double(choices), a.rounded(.towardZero) == a else {
        throw EnvironmentError.invalidDiscreteAction(value: a, choices: choices)
    }
    return Int(a)
}

/// Gymnasium's reset info has no entries for these tasks; the locomotion fields stay at zero.
let classicResetInfo = ResetInfo(xPosition: 0, yPosition: nil)

/// The fields every classic-control checkpoint begins with: the env's name (checked on decode), the physical
/// state, the TimeLimit counter and the reset generator. A task appends what else decides its future.
struct ClassicCheckpoint {
    var state: [Double]
    var elapsedSteps: Int
    var generator: Generator

    func write(name: String, into w: inout ByteWriter) {
        w.write(name)
        w.write(state)
        w.write(elapsedSteps)
        w.write(generator.stateWords)
    }

    static func read(from r: inout ByteReader, name: String, stateCount: Int) throws -> ClassicCheckpoint {
        let found = try r.read(String.self)
        guard found == name else { throw FormatError.corrupt("environment state is for \(found), not \(name)") }
        let state = try r.read([Double].self)
        let steps = try r.read(Int.self)
        let words = try r.read([UInt64].self)
        guard state.count == stateCount, state.allSatisfy(\.isFinite), steps >= 0, words.count == 4 else {
            throw FormatError.corrupt("\(name) environment state")
        }
        return ClassicCheckpoint(state: state, elapsedSteps: steps, generator: Generator(stateWords: words))
    }
}
