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
public enum TaskID: Hashable, Sendable {
    case locomotion(EnvironmentID)
    case classicControl(ClassicControlID)

    public static var all: [TaskID] {
        EnvironmentID.allCases.map(TaskID.locomotion) + ClassicControlID.allCases.map(TaskID.classicControl)
    }

    /// Classic-control tasks have `Discrete(n)` actions, the MuJoCo robots a box.
    public var hasDiscreteActions: Bool { if case .classicControl = self { return true } else { return false } }

    /// Gymnasium's id.
    public var name: String {
        switch self {
        case .locomotion(let id): return id.name
        case .classicControl(let id): return id.name
        }
    }

    public init(name: String) throws {
        guard let task = TaskID.all.first(where: { $0.accepts(name) }) else {
            throw EnvironmentError.unknownEnvironment(name)
        }
        self = task
    }

    /// Whether `name` spells this task (see the type's comment).
    func accepts(_ name: String) -> Bool {
        func normalise(_ s: Substring) -> String { s.lowercased().filter { $0.isLetter || $0.isNumber } }
        let key = normalise(Substring(name))
        let full = self.name
        let base = full.split(separator: "-").first ?? Substring(full)  // "CartPole-v1" → "CartPole"
        return key == normalise(Substring(full)) || key == normalise(base)
    }
}
