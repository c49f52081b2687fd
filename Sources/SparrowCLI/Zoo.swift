import Environments
import Foundation

/// The pretrained policies in assets/: `assets/<robot>-tows-sac-0.9.policy` for the robots and
/// `assets/<game>-rigl-dqn-0.9.policy` for Atari games (<game> is ale-py's ROM id: breakout, space_invaders);
/// assets/README.md says how each was trained. `sparrow replay hopper`, `sparrow eval ant` and `sparrow replay
/// breakout` find them by the robot's or the game's name.
///
/// Where assets/ is: $SPARROW_ZOO if set (a folder of policies), else the package root of this executable (the
/// nearest folder above the binary that holds Package.swift and assets/: `make build`, `swift run` and any
/// --scratch-path inside the checkout), else ./assets in the current directory.
enum Zoo {
    /// Every zoo policy is this preset at this sparsity.
    static let suffix = "-tows-sac-0.9.policy"

    /// "hopper", "walker2d", "halfcheetah", "ant", "humanoid": the file-name stem of a robot's zoo policy.
    static func stem(_ id: EnvironmentID) -> String {
        String(id.name.split(separator: "-").first ?? Substring(id.name)).lowercased()
    }

    static func fileName(_ id: EnvironmentID) -> String { stem(id) + suffix }

    /// The folder the zoo policies are read from (it need not exist).
    static func folder() -> String {
        if let dir = ProcessInfo.processInfo.environment["SPARROW_ZOO"], !dir.isEmpty { return dir }
        let fm = FileManager.default
        let exe = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = ((exe as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent
        while dir != "/" && !dir.isEmpty {
            let assets = (dir as NSString).appendingPathComponent("assets")
            if fm.fileExists(atPath: (dir as NSString).appendingPathComponent("Package.swift")), fm.fileExists(atPath: assets) {
                return assets
            }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return (fm.currentDirectoryPath as NSString).appendingPathComponent("assets")
    }

    /// The robots that have a policy in the zoo, in `EnvironmentID` order.
    static func available(in folder: String = folder()) -> [EnvironmentID] {
        EnvironmentID.allCases.filter {
            FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(fileName($0)))
        }
    }

    /// Every game's zoo policy is this preset at this sparsity.
    static let gameSuffix = "-rigl-dqn-0.9.policy"

    static func fileName(_ game: AtariGame) -> String { game.romID + gameSuffix }

    /// The games that have a policy in the zoo, in `AtariGame.all` order.
    static func availableGames(in folder: String = folder()) -> [AtariGame] {
        AtariGame.all.filter { FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(fileName($0))) }
    }

    /// What a positional POLICY argument means: the path itself when something exists there, else the zoo policy
    /// of the robot or Atari game it names ("breakout", "ALE/Breakout-v5"). nil: neither a path nor such a name
    /// (the caller reports the missing path). A robot or game without a zoo policy is an error that lists those
    /// that have one.
    static func resolve(_ argument: String) throws -> String? {
        guard !FileManager.default.fileExists(atPath: argument) else { return nil }
        if AtariGame.isAtariName(argument), AtariGame.find(argument) == nil {
            let close = AtariGame.closeNames(to: argument)
            throw CLIError("no checkpoint or policy file at \(argument), and no Atari game of that name"
                           + (close.isEmpty ? "" : "; did you mean \(close.joined(separator: " or "))?"))
        }
        if let game = AtariGame.find(argument) {
            let dir = folder(), path = (dir as NSString).appendingPathComponent(fileName(game))
            guard FileManager.default.fileExists(atPath: path) else {
                let have = availableGames(in: dir).map(\.romID)
                throw CLIError("no pretrained policy for \(game.name) in \(dir) (\(fileName(game))); games with one: "
                               + (have.isEmpty ? "none" : have.joined(separator: ", ")))
            }
            return path
        }
        guard let id = try? EnvironmentID(name: argument) else { return nil }
        let dir = folder()
        let path = (dir as NSString).appendingPathComponent(fileName(id))
        guard FileManager.default.fileExists(atPath: path) else {
            let have = available(in: dir).map(stem)
            throw CLIError("no pretrained policy for \(id.name) in \(dir) (\(fileName(id))); robots with one: "
                           + (have.isEmpty ? "none" : have.joined(separator: ", ")))
        }
        return path
    }
}
