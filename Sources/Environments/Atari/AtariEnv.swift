import SparrowCore

/// The settings of an Atari task. The defaults are the standard DQN pipeline as Gymnasium writes it:
/// `gymnasium.make("ALE/<Game>-v5", frameskip=1)` (sticky actions 0.25, minimal action set, 108 000-frame limit)
/// under `AtariPreprocessing(noop_max=30, frame_skip=4, screen_size=84, grayscale_obs=True,
/// terminal_on_life_loss=False)` and `FrameStackObservation(4)`.
public struct AtariOptions: Equatable, Codable, Sendable {
    /// ALE's `repeat_action_probability` (Machado et al. 2018's sticky actions): each emulator frame repeats the
    /// previous frame's action with this probability.
    public var repeatActionProbability: Double = 0.25
    /// At reset, a uniform number of no-op actions in 1...noopMax (0: none), drawn as Gymnasium draws it.
    public var noopMax: Int = 30
    /// Emulator frames per agent step; the observation max-pools the last two.
    public var frameSkip: Int = 4
    /// All 18 joystick actions instead of the game's minimal set.
    public var fullActionSpace: Bool = false
    /// `terminated` when a life is lost (not only at game over).
    public var terminalOnLifeLoss: Bool = false
    /// ALE's `max_num_frames_per_episode`: the episode is truncated at this many emulator frames (0: no limit).
    /// Gymnasium's v5 and Dopamine use 108 000 frames = 27 000 agent steps at frame skip 4.
    public var maxEpisodeFrames: Int = 108_000
    /// Observations are the last this many 84×84 frames (padded with the reset frame, Gymnasium's "reset" padding).
    public var frameStack: Int = 4

    public init() {}

    /// The side of the square observation frame (Gymnasium's screen_size; fixed).
    public static let screenSize = 84

    func validate() throws {
        guard repeatActionProbability >= 0, repeatActionProbability <= 1 else {
            throw EnvironmentError.invalidOption("repeat action probability \(repeatActionProbability) is not in [0, 1]")
        }
        guard noopMax >= 0 else { throw EnvironmentError.invalidOption("noop max \(noopMax) is negative") }
        guard frameSkip >= 1 else { throw EnvironmentError.invalidOption("frame skip \(frameSkip) must be at least 1") }
        guard maxEpisodeFrames >= 0, maxEpisodeFrames <= Int(Int32.max) else {
            throw EnvironmentError.invalidOption("max episode frames \(maxEpisodeFrames) must be in 0...\(Int32.max)")
        }
        guard frameStack >= 1 else { throw EnvironmentError.invalidOption("frame stack \(frameStack) must be at least 1") }
    }
}

/// What an Atari step reports beyond Gymnasium's five values (ale-py's info: lives, frame numbers).
public struct AtariStepInfo: Equatable, Sendable {
    public var lives: Int
    public var episodeFrameNumber: Int
    public var frameNumber: Int
}

/// An Atari 2600 game through the Arcade Learning Environment, step for step as Gymnasium + ale-py:
/// ale-py's `AtariEnv` (frameskip 1) under Gymnasium's `AtariPreprocessing` and `FrameStackObservation`.
///
/// Frames are kept as bytes (two 210×160 grayscale screens for the max-pool, a stack of 84×84 frames) and handed
/// out as bytes (`FrameEnvironment`); the `Environment` protocol's `[Double]` observation is the same stack, oldest
/// frame first, values 0...255.
///
/// Seeding follows ale-py's `seed_game`: `SeedSequence(seed).generate_state(2)` gives the seed of the env's NumPy
/// generator (which draws the no-op count) and ALE's `random_seed` (sticky actions); the ROM is then reloaded. The
/// same seed and actions give the same episode as `env.reset(seed=...)` in Gymnasium.
public final class AtariEnv: FrameEnvironment {
    public let game: AtariGame
    public let options: AtariOptions
    let ale: ALEInstance
    /// The game's ROM file, reloaded at each seeded reset (as ale-py's load_game).
    let romPath: String
    /// ALE action ids; the agent's action i is `actionSet[i]`.
    public let actionSet: [Int32]
    public let observationSpace: BoxSpace
    public var actions: ActionSpace { .discrete(actionSet.count) }
    public var name: String { game.name }
    /// Seconds of game time per agent step (the 2600 runs at 60 frames/s).
    public var dt: Double { Double(options.frameSkip) / 60 }

    public let screenWidth: Int, screenHeight: Int
    static let side = AtariOptions.screenSize
    public static let frameBytes = AtariOptions.screenSize * AtariOptions.screenSize

    /// `env.unwrapped.np_random` (draws the no-op count).
    public private(set) var numpyGenerator: NumPyPCG64
    /// AtariPreprocessing's `obs_buffer[0]` and `[1]` (grayscale screens; [0] also holds the max-pool result).
    var screen0: [UInt8], screen1: [UInt8]
    /// The stacked 84×84 frames, oldest first.
    var stack: [UInt8]
    /// AtariPreprocessing's `lives` (for terminal on life loss) and `game_over`.
    var wrapperLives = 0
    public private(set) var gameOver = false
    let resize: AreaResize
    var resizeScratch: [Float]
    /// ale-py's info after the last step or reset.
    public private(set) var info = AtariStepInfo(lives: 0, episodeFrameNumber: 0, frameNumber: 0)

    /// A game with its options, seeded as `reset(seed:)` would seed it (so a first `reset(seed: nil)` is the
    /// episode of Gymnasium's `reset(seed: seed)`).
    public init(_ game: AtariGame, options: AtariOptions = AtariOptions(), seed: UInt64 = 0) throws {
        try options.validate()
        let lib = try ALELibrary.get()
        let romPath = try lib.romPath(for: game)
        self.game = game
        self.options = options
        ale = try ALEInstance(lib)
        // ale-py's AtariEnv.__init__: settings, then seed_game + load_game.
        try ale.set("repeat_action_probability", Float(options.repeatActionProbability))
        if options.maxEpisodeFrames > 0 { try ale.set("max_num_frames_per_episode", Int32(options.maxEpisodeFrames)) }
        try ale.set("sound_obs", false)
        var generator = NumPyPCG64(seed: 0)
        try ale.set("random_seed", Self.seedGame(seed, generator: &generator))
        try ale.loadROM(romPath)
        numpyGenerator = generator
        self.romPath = romPath
        actionSet = ale.actionSet(legal: options.fullActionSpace)
        screenWidth = ale.screenWidth
        screenHeight = ale.screenHeight
        screen0 = [UInt8](repeating: 0, count: screenWidth * screenHeight)
        screen1 = screen0
        stack = [UInt8](repeating: 0, count: options.frameStack * Self.frameBytes)
        resize = AreaResize(sourceWidth: screenWidth, sourceHeight: screenHeight, width: Self.side, height: Self.side)
        resizeScratch = [Float](repeating: 0, count: 2 * Self.side)
        let n = options.frameStack * Self.frameBytes
        observationSpace = BoxSpace(low: Array(repeating: 0, count: n), high: Array(repeating: 255, count: n))
        if options.noopMax > 0, actionSet.first != 0 {
            // Gymnasium's AtariPreprocessing refuses the same ("the first action meaning must be 'NOOP'").
            throw EnvironmentError.invalidOption("\(game.name)'s first action is not NOOP, so it has no no-op starts: "
                + "use noop max 0 (--noop-max 0)")
        }
    }

    /// ale-py's `seed_game`: the env's NumPy generator and ALE's seed from `SeedSequence(seed).generate_state(2)`.
    static func seedGame(_ seed: UInt64, generator: inout NumPyPCG64) -> Int32 {
        let words = NumPySeedSequence(seed).generateState(words: 2)
        generator = NumPyPCG64(seed: UInt64(words[0]))
        return Int32(bitPattern: words[1])  // np.int32(ale_seed)
    }

    // MARK: - Gymnasium's reset and step

    /// ale-py's `AtariEnv.reset`: reseed and reload the ROM when a seed is given, then `reset_game`.
    func resetGame(seed: UInt64?) throws {
        if let seed {
            try ale.set("random_seed", Self.seedGame(seed, generator: &numpyGenerator))
            try ale.loadROM(romPath)
        }
        ale.resetGame()
    }

    /// AtariPreprocessing.reset (no-op starts) then FrameStackObservation.reset; the stack into `observation`.
    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) throws -> ResetInfo {
        try resetFrames(seed: seed)
        writeObservation(observation)
        return ResetInfo(xPosition: 0, yPosition: nil)
    }

    /// `reset` without the `[Double]` copy: the frames are in `observationBytes`.
    public func resetFrames(seed: UInt64?) throws {
        try resetGame(seed: seed)
        let noops = options.noopMax > 0 ? numpyGenerator.integers(1, options.noopMax + 1) : 0
        for _ in 0..<noops {
            _ = ale.act(actionSet[0])
            // Gymnasium resets the inner env with the same seed when a game ends during the no-ops.
            if ale.gameOver(withTruncation: false) || ale.gameTruncated { try resetGame(seed: seed) }
        }
        wrapperLives = ale.lives
        gameOver = false
        screen0.withUnsafeMutableBufferPointer { ale.grayscale(into: $0.baseAddress!) }
        for i in screen1.indices { screen1[i] = 0 }
        // FrameStackObservation "reset" padding: every slot holds the reset frame.
        pushFrame()
        let f = Self.frameBytes
        stack.withUnsafeMutableBufferPointer { s in
            for k in 0..<(options.frameStack - 1) {
                UnsafeMutableRawPointer(s.baseAddress! + k * f)
                    .copyMemory(from: s.baseAddress! + (options.frameStack - 1) * f, byteCount: f)
            }
        }
        updateInfo()
    }

    public func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws -> StepOutcome {
        let outcome = try stepFrames(action: try discreteAction(action, choices: actionSet.count))
        writeObservation(observation)
        return outcome
    }

    /// AtariPreprocessing.step then FrameStackObservation.step, for an action index in 0..<actionSet.count; the
    /// frames are in `observationBytes`.
    public func stepFrames(action index: Int) throws -> StepOutcome {
        guard index >= 0, index < actionSet.count else {
            throw EnvironmentError.invalidDiscreteAction(value: Double(index), choices: actionSet.count)
        }
        let a = actionSet[index]
        var total = 0.0
        var terminated = false, truncated = false
        for t in 0..<options.frameSkip {
            // ale-py's AtariEnv.step with frameskip=1: one act, then its flags.
            total += Double(ale.act(a))
            terminated = ale.gameOver(withTruncation: false)
            truncated = ale.gameTruncated
            gameOver = terminated
            if options.terminalOnLifeLoss {
                let lives = ale.lives
                terminated = terminated || lives < wrapperLives
                gameOver = terminated
                wrapperLives = lives
            }
            if terminated || truncated { break }
            if t == options.frameSkip - 2 {
                screen1.withUnsafeMutableBufferPointer { ale.grayscale(into: $0.baseAddress!) }
            } else if t == options.frameSkip - 1 {
                screen0.withUnsafeMutableBufferPointer { ale.grayscale(into: $0.baseAddress!) }
            }
        }
        pushFrame()
        updateInfo()
        // StepInfo's fields are the robots'; an Atari step's own info (lives, frame numbers) is `info`.
        return StepOutcome(reward: total, terminated: terminated, truncated: truncated, info: StepInfo())
    }

    /// AtariPreprocessing._get_obs (max-pool into screen 0 in place when frame_skip > 1, INTER_AREA resize), appended
    /// to the stack as its newest frame.
    func pushFrame() {
        let f = Self.frameBytes, k = options.frameStack
        stack.withUnsafeMutableBufferPointer { s in
            if k > 1 {
                UnsafeMutableRawPointer(s.baseAddress!).copyMemory(from: s.baseAddress! + f, byteCount: (k - 1) * f)
            }
            if options.frameSkip > 1 {
                for i in screen0.indices where screen1[i] > screen0[i] { screen0[i] = screen1[i] }
            }
            let newest = UnsafeMutableBufferPointer(rebasing: s[(k - 1) * f..<k * f])
            screen0.withUnsafeBufferPointer { src in
                resizeScratch.withUnsafeMutableBufferPointer { resize.resize(src, into: newest, scratch: $0) }
            }
        }
    }

    func updateInfo() {
        info = AtariStepInfo(lives: ale.lives, episodeFrameNumber: ale.episodeFrameNumber, frameNumber: ale.frameNumber)
    }

    func writeObservation(_ observation: UnsafeMutableBufferPointer<Double>) {
        precondition(observation.count == stack.count, "observation buffer of \(observation.count), need \(stack.count)")
        for i in stack.indices { observation[i] = Double(stack[i]) }
    }

    /// The stacked observation as bytes: `frameStack` frames of 84×84, oldest first (Gymnasium's array layout).
    public var observationBytes: [UInt8] { stack }
    public var frameSize: Int { Self.frameBytes }
    public var frameStack: Int { options.frameStack }
    public func withObservationBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try stack.withUnsafeBufferPointer(body)
    }
    /// The newest 84×84 frame.
    public var newestFrame: ArraySlice<UInt8> { stack[(options.frameStack - 1) * Self.frameBytes ..< stack.count] }
    /// The current screen in RGB (height × width × 3), for viewing and recording.
    public func screenRGB() -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: screenWidth * screenHeight * 3)
        rgb.withUnsafeMutableBufferPointer { ale.rgb(into: $0.baseAddress!) }
        return rgb
    }

    // MARK: - Environment conveniences (reset(seed:) and step(_:) come from TrainingEnvironment's extension)

    // MARK: - Checkpoints

    /// The emulator (ALE's own serialisation, with its random generator), the NumPy generator, the wrapper's
    /// buffers and the frame stack.
    public func encodeState(into w: inout ByteWriter) {
        w.write(game.name)
        // cloneState only fails on allocation failure; an empty state is then refused on decode.
        w.write((try? ale.cloneState(includeRNG: true)) ?? [])
        w.write(numpyGenerator.stateWords)
        w.write(screen0); w.write(screen1); w.write(stack)
        w.write(wrapperLives)
        w.write(gameOver)
    }

    public func decodeState(from r: inout ByteReader) throws {
        let found = try r.read(String.self)
        guard found == game.name else { throw FormatError.corrupt("environment state is for \(found), not \(game.name)") }
        let aleState = try r.read([UInt8].self)
        guard let g = NumPyPCG64(stateWords: try r.read([UInt64].self)) else { throw FormatError.corrupt("\(name) generator") }
        let s0 = try r.read([UInt8].self), s1 = try r.read([UInt8].self), st = try r.read([UInt8].self)
        let lives = try r.read(Int.self)
        let over = try r.read(Bool.self)
        guard !aleState.isEmpty, s0.count == screen0.count, s1.count == screen1.count, st.count == stack.count else { throw FormatError.corrupt("\(name) environment state") }
        try ale.restoreState(aleState)
        numpyGenerator = g
        screen0 = s0; screen1 = s1; stack = st
        wrapperLives = lives; gameOver = over
        updateInfo()
    }
}
