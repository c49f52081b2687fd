/// The classic-control tasks Sparrow provides (pure Swift, Gymnasium's dynamics), with Gymnasium's names.
/// "cartpole" without a version means CartPole-v1 (the first case); CartPole-v0 is asked for by its full name.
public enum ClassicControlID: String, CaseIterable, Codable, Sendable {
    case cartPole, acrobot, mountainCar, cartPoleV0

    /// Gymnasium's id.
    public var name: String {
        switch self {
        case .cartPole: return "CartPole-v1"
        case .cartPoleV0: return "CartPole-v0"
        case .acrobot: return "Acrobot-v1"
        case .mountainCar: return "MountainCar-v0"
        }
    }

    /// CartPole in either version (the same dynamics, another time limit).
    public var isCartPole: Bool { self == .cartPole || self == .cartPoleV0 }
}

/// Every environment Sparrow provides: a MuJoCo robot or a classic-control task. Names are looked up
/// case-insensitively, with or without separators and with or without the task's own version suffix:
/// "Hopper-v5", "hopper", "half_cheetah", "CartPole-v1", "cartpole", "mountain-car". Another version of a task
/// ("Hopper-v4") is not accepted: its dynamics differ.
///
/// Atari games are `ALE/<Game>-v5` (Gymnasium's ids; "ALE/breakout" and "ALE/space_invaders" also work). They are
/// not in `all` (which lists the tasks every machine has: 104 games would drown the list, and they need the ALE
/// library built by `make deps`); a name starting "ALE/" that is no game is an error naming the closest games.
public enum TaskID: Hashable, Sendable {
    case locomotion(EnvironmentID)
    case classicControl(ClassicControlID)
    case atari(AtariGame)

    public static var all: [TaskID] {
        EnvironmentID.allCases.map(TaskID.locomotion) + ClassicControlID.allCases.map(TaskID.classicControl)
    }

    /// Classic-control tasks have `Discrete(n)` actions, the MuJoCo robots a box.
    public var hasDiscreteActions: Bool {
        switch self {
        case .locomotion: return false
        case .classicControl, .atari: return true
        }
    }

    /// Gymnasium's id.
    public var name: String {
        switch self {
        case .locomotion(let id): return id.name
        case .classicControl(let id): return id.name
        case .atari(let game): return game.name
        }
    }

    public init(name: String) throws {
        if AtariGame.isAtariName(name) {
            guard let game = AtariGame.find(name) else {
                throw EnvironmentError.unknownAtariGame(name, closest: AtariGame.closeNames(to: name))
            }
            self = .atari(game)
            return
        }
        guard let task = TaskID.all.first(where: { $0.accepts(name) }) else {
            throw EnvironmentError.unknownEnvironment(name)
        }
        self = task
    }

    /// Whether `name` spells this task (see the type's comment).
    func accepts(_ name: String) -> Bool {
        func normalise(_ s: Substring) -> String { s.lowercased().filter { $0.isLetter || $0.isNumber } }
        let key = normalise(Substring(name))
        return key == normalise(Substring(self.name)) || key == normalise(Substring(Self.baseName(self.name)))
    }

    /// A task's name without its version: "CartPole-v1" → "CartPole".
    static func baseName(_ name: String) -> String { String(name.split(separator: "-").first ?? Substring(name)) }
}
