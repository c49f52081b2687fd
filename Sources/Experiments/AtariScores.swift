import Environments

/// The random and human reference scores of the Atari-57 games, for the human-normalised score
/// (score − random) / (human − random): 0 is a uniformly random policy, 1 a professional human game tester. Graesser
/// et al. (ICML 2022) and rliable report Atari results on this scale, so a sparse DQN's numbers read the same as theirs.
public enum AtariScores {
    /// One game's two reference scores (undiscounted episode returns).
    public struct Entry: Equatable, Sendable {
        /// `AtariGame.gameName`, e.g. "MsPacman" (environment "ALE/MsPacman-v5").
        public var game: String
        public var random: Double
        public var human: Double

        init(_ game: String, random: Double, human: Double) { self.game = game; self.random = random; self.human = human }

        /// (score − random) / (human − random).
        public func normalize(_ score: Double) -> Double { (score - random) / (human - random) }
    }

    /// Copied number for number from DeepMind's DQN Zoo, `dqn_zoo/atari_data.py` (`_ATARI_DATA`, github.com/
    /// google-deepmind/dqn_zoo at commit 359945dcb6f6a04f16e380b210c4f22b57681905), its ROM ids written as
    /// `AtariGame.gameName`. These are the random and human scores of Mnih et al. 2015 (Nature DQN) and of the
    /// Agent57 appendix (Badia et al. 2020), measured with up to 30 no-op starts and episodes capped at 108,000 frames
    /// (30 minutes). The human column is the one rliable and MuZero use; Dopamine's random table (e.g.
    /// google-research/reincarnating_rl's atari_scores.py) agrees on every game but VideoPinball, where it lists 0.0
    /// against DQN Zoo's 16256.9 — so a VideoPinball HNS here is smaller than one computed with Dopamine's table
    /// (DQN Zoo notes that a random agent can beat the human score there under other evaluation methods).
    public static let table: [Entry] = [
        Entry("Alien",            random:    227.8, human:   7127.7),
        Entry("Amidar",           random:      5.8, human:   1719.5),
        Entry("Assault",          random:    222.4, human:    742.0),
        Entry("Asterix",          random:    210.0, human:   8503.3),
        Entry("Asteroids",        random:    719.1, human:  47388.7),
        Entry("Atlantis",         random:  12850.0, human:  29028.1),
        Entry("BankHeist",        random:     14.2, human:    753.1),
        Entry("BattleZone",       random:   2360.0, human:  37187.5),
        Entry("BeamRider",        random:    363.9, human:  16926.5),
        Entry("Berzerk",          random:    123.7, human:   2630.4),
        Entry("Bowling",          random:     23.1, human:    160.7),
        Entry("Boxing",           random:      0.1, human:     12.1),
        Entry("Breakout",         random:      1.7, human:     30.5),
        Entry("Centipede",        random:   2090.9, human:  12017.0),
        Entry("ChopperCommand",   random:    811.0, human:   7387.8),
        Entry("CrazyClimber",     random:  10780.5, human:  35829.4),
        Entry("Defender",         random:   2874.5, human:  18688.9),
        Entry("DemonAttack",      random:    152.1, human:   1971.0),
        Entry("DoubleDunk",       random:    -18.6, human:    -16.4),
        Entry("Enduro",           random:      0.0, human:    860.5),
        Entry("FishingDerby",     random:    -91.7, human:    -38.7),
        Entry("Freeway",          random:      0.0, human:     29.6),
        Entry("Frostbite",        random:     65.2, human:   4334.7),
        Entry("Gopher",           random:    257.6, human:   2412.5),
        Entry("Gravitar",         random:    173.0, human:   3351.4),
        Entry("Hero",             random:   1027.0, human:  30826.4),
        Entry("IceHockey",        random:    -11.2, human:      0.9),
        Entry("Jamesbond",        random:     29.0, human:    302.8),
        Entry("Kangaroo",         random:     52.0, human:   3035.0),
        Entry("Krull",            random:   1598.0, human:   2665.5),
        Entry("KungFuMaster",     random:    258.5, human:  22736.3),
        Entry("MontezumaRevenge", random:      0.0, human:   4753.3),
        Entry("MsPacman",         random:    307.3, human:   6951.6),
        Entry("NameThisGame",     random:   2292.3, human:   8049.0),
        Entry("Phoenix",          random:    761.4, human:   7242.6),
        Entry("Pitfall",          random:   -229.4, human:   6463.7),
        Entry("Pong",             random:    -20.7, human:     14.6),
        Entry("PrivateEye",       random:     24.9, human:  69571.3),
        Entry("Qbert",            random:    163.9, human:  13455.0),
        Entry("Riverraid",        random:   1338.5, human:  17118.0),
        Entry("RoadRunner",       random:     11.5, human:   7845.0),
        Entry("Robotank",         random:      2.2, human:     11.9),
        Entry("Seaquest",         random:     68.4, human:  42054.7),
        Entry("Skiing",           random: -17098.1, human:  -4336.9),
        Entry("Solaris",          random:   1236.3, human:  12326.7),
        Entry("SpaceInvaders",    random:    148.0, human:   1668.7),
        Entry("StarGunner",       random:    664.0, human:  10250.0),
        Entry("Surround",         random:    -10.0, human:      6.5),
        Entry("Tennis",           random:    -23.8, human:     -8.3),
        Entry("TimePilot",        random:   3568.0, human:   5229.2),
        Entry("Tutankham",        random:     11.4, human:    167.6),
        Entry("UpNDown",          random:    533.4, human:  11693.2),
        Entry("Venture",          random:      0.0, human:   1187.5),
        Entry("VideoPinball",     random:  16256.9, human:  17667.9),
        Entry("WizardOfWor",      random:    563.5, human:   4756.5),
        Entry("YarsRevenge",      random:   3092.9, human:  54576.9),
        Entry("Zaxxon",           random:     32.5, human:   9173.3),
    ]

    static let byGame: [String: Entry] = Dictionary(uniqueKeysWithValues: table.map { ($0.game, $0) })

    /// The reference scores of an Atari environment ("ALE/Pong-v5"); nil for a non-Atari env or a game outside the table.
    public static func entry(env: String) -> Entry? {
        // Only "ALE/…" names: AtariGame.find alone would also take "Pong-v5" or "pong".
        guard AtariGame.isAtariName(env), let game = AtariGame.find(env) else { return nil }
        return byGame[game.gameName]
    }

    /// The human-normalised score of a return on an Atari environment ("ALE/Pong-v5"); nil for a non-Atari env or
    /// a game outside the table.
    public static func humanNormalized(_ score: Double, env: String) -> Double? { entry(env: env)?.normalize(score) }
}
