import SparrowCore
/// An Atari 2600 game of the Arcade Learning Environment, named as Gymnasium names it: ROM id "montezuma_revenge",
/// environment "ALE/MontezumaRevenge-v5" (ale-py's registration: `rom.title().replace("_", "")`).
public struct AtariGame: Hashable, Codable, Sendable, CustomStringConvertible {
    /// ale-py's ROM id, the ROM file's name without ".bin".
    public let romID: String
    /// Gymnasium's CamelCase name, e.g. "Breakout".
    public let gameName: String

    /// Gymnasium's environment id, e.g. "ALE/Breakout-v5".
    public var name: String { "ALE/\(gameName)-v5" }
    public var romFileName: String { romID + ".bin" }
    public var description: String { name }

    /// Every game with an `ALE/<Game>-v5` environment: the ROMs in the ale-py 0.12.1 source distribution
    /// (src/ale/python/roms/*.bin) less combat, joust, maze_craze and warlords, which Gymnasium does not register
    /// (they have no single-player mode). Checked against `gymnasium.registry` when this list was written.
    public static let all: [AtariGame] = table.map { AtariGame(romID: $0.0, gameName: $0.1) }

    /// Looks a game up by Gymnasium's id or a loose spelling: "ALE/Breakout-v5", "ale/breakout", "Breakout-v5",
    /// "ALE/space_invaders"; nil if no game matches.
    public static func find(_ name: String) -> AtariGame? {
        let key = lookupKey(name)
        return all.first { lookupKey($0.gameName) == key }
    }

    /// Whether a name asks for an Atari game at all (it starts with "ALE/"), known or not.
    public static func isAtariName(_ name: String) -> Bool { name.lowercased().hasPrefix("ale/") }

    /// The names closest to a misspelt one (edit distance on the lookup key), best first.
    public static func closeNames(to name: String, limit: Int = 3) -> [String] {
        let key = lookupKey(name)
        let scored = all.map { ($0.name, editDistance(key, lookupKey($0.gameName))) }
        let best = scored.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        let cutoff = max(2, key.count / 3)
        let close = best.filter { $0.1 <= cutoff }.prefix(limit).map(\.0)
        return close.isEmpty ? best.prefix(limit).map(\.0) : Array(close)
    }

    /// Lower-case letters and digits of the game part: "ALE/Space_Invaders-v5" → "spaceinvaders".
    static func lookupKey(_ name: String) -> String {
        var s = Substring(name)
        if s.lowercased().hasPrefix("ale/") { s = s.dropFirst(4) }
        if let dash = s.lastIndex(of: "-"), s[s.index(after: dash)...].lowercased().hasPrefix("v") { s = s[..<dash] }
        return s.lowercased().filter { $0.isLetter || $0.isNumber }
    }

    static func editDistance(_ a: String, _ b: String) -> Int { NearMiss.editDistance(a, b) }

    static let table: [(String, String)] = [
        ("adventure", "Adventure"),
        ("air_raid", "AirRaid"),
        ("alien", "Alien"),
        ("amidar", "Amidar"),
        ("assault", "Assault"),
        ("asterix", "Asterix"),
        ("asteroids", "Asteroids"),
        ("atlantis2", "Atlantis2"),
        ("atlantis", "Atlantis"),
        ("backgammon", "Backgammon"),
        ("bank_heist", "BankHeist"),
        ("basic_math", "BasicMath"),
        ("battle_zone", "BattleZone"),
        ("beam_rider", "BeamRider"),
        ("berzerk", "Berzerk"),
        ("blackjack", "Blackjack"),
        ("bowling", "Bowling"),
        ("boxing", "Boxing"),
        ("breakout", "Breakout"),
        ("carnival", "Carnival"),
        ("casino", "Casino"),
        ("centipede", "Centipede"),
        ("chopper_command", "ChopperCommand"),
        ("crazy_climber", "CrazyClimber"),
        ("crossbow", "Crossbow"),
        ("darkchambers", "Darkchambers"),
        ("defender", "Defender"),
        ("demon_attack", "DemonAttack"),
        ("donkey_kong", "DonkeyKong"),
        ("double_dunk", "DoubleDunk"),
        ("earthworld", "Earthworld"),
        ("elevator_action", "ElevatorAction"),
        ("enduro", "Enduro"),
        ("entombed", "Entombed"),
        ("et", "Et"),
        ("fishing_derby", "FishingDerby"),
        ("flag_capture", "FlagCapture"),
        ("freeway", "Freeway"),
        ("frogger", "Frogger"),
        ("frostbite", "Frostbite"),
        ("galaxian", "Galaxian"),
        ("gopher", "Gopher"),
        ("gravitar", "Gravitar"),
        ("hangman", "Hangman"),
        ("haunted_house", "HauntedHouse"),
        ("hero", "Hero"),
        ("human_cannonball", "HumanCannonball"),
        ("ice_hockey", "IceHockey"),
        ("jamesbond", "Jamesbond"),
        ("journey_escape", "JourneyEscape"),
        ("kaboom", "Kaboom"),
        ("kangaroo", "Kangaroo"),
        ("keystone_kapers", "KeystoneKapers"),
        ("king_kong", "KingKong"),
        ("klax", "Klax"),
        ("koolaid", "Koolaid"),
        ("krull", "Krull"),
        ("kung_fu_master", "KungFuMaster"),
        ("laser_gates", "LaserGates"),
        ("lost_luggage", "LostLuggage"),
        ("mario_bros", "MarioBros"),
        ("miniature_golf", "MiniatureGolf"),
        ("montezuma_revenge", "MontezumaRevenge"),
        ("mr_do", "MrDo"),
        ("ms_pacman", "MsPacman"),
        ("name_this_game", "NameThisGame"),
        ("othello", "Othello"),
        ("pacman", "Pacman"),
        ("phoenix", "Phoenix"),
        ("pitfall2", "Pitfall2"),
        ("pitfall", "Pitfall"),
        ("pong", "Pong"),
        ("pooyan", "Pooyan"),
        ("private_eye", "PrivateEye"),
        ("qbert", "Qbert"),
        ("riverraid", "Riverraid"),
        ("road_runner", "RoadRunner"),
        ("robotank", "Robotank"),
        ("seaquest", "Seaquest"),
        ("sir_lancelot", "SirLancelot"),
        ("skiing", "Skiing"),
        ("solaris", "Solaris"),
        ("space_invaders", "SpaceInvaders"),
        ("space_war", "SpaceWar"),
        ("star_gunner", "StarGunner"),
        ("superman", "Superman"),
        ("surround", "Surround"),
        ("tennis", "Tennis"),
        ("tetris", "Tetris"),
        ("tic_tac_toe_3d", "TicTacToe3D"),
        ("time_pilot", "TimePilot"),
        ("trondead", "Trondead"),
        ("turmoil", "Turmoil"),
        ("tutankham", "Tutankham"),
        ("up_n_down", "UpNDown"),
        ("venture", "Venture"),
        ("video_checkers", "VideoCheckers"),
        ("video_chess", "VideoChess"),
        ("video_cube", "VideoCube"),
        ("video_pinball", "VideoPinball"),
        ("wizard_of_wor", "WizardOfWor"),
        ("word_zapper", "WordZapper"),
        ("yars_revenge", "YarsRevenge"),
        ("zaxxon", "Zaxxon"),
    ]
}
