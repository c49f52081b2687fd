import ArgumentParser
import Environments

/// The Atari options on the command line (rollout, bench env), each defaulting to Gymnasium's v5 + DQN pipeline.
struct AtariArguments: ParsableArguments {
    @Option(name: .customLong("repeat-action-probability"), help: "Sticky-action probability (ALE's repeat_action_probability).")
    var repeatActionProbability: Double = AtariOptions().repeatActionProbability

    @Option(name: .customLong("noop-max"), help: "Up to this many no-ops at reset (0: none).")
    var noopMax: Int = AtariOptions().noopMax

    @Option(name: .customLong("max-episode-frames"),
            help: "Truncate an episode at this many emulator frames (0: no limit; Dopamine: 108000 = 27000 steps).")
    var maxEpisodeFrames: Int = AtariOptions().maxEpisodeFrames

    @Option(name: .customLong("frame-stack"), help: "Frames per observation.")
    var frameStack: Int = AtariOptions().frameStack

    @Flag(name: .customLong("full-action-space"), help: "All 18 actions instead of the game's minimal set.")
    var fullActionSpace = false

    @Flag(name: .customLong("terminal-on-life-loss"), help: "End the episode (terminated) when a life is lost.")
    var terminalOnLifeLoss = false

    func options() throws -> AtariOptions {
        var o = AtariOptions()
        o.repeatActionProbability = repeatActionProbability
        o.noopMax = noopMax
        o.maxEpisodeFrames = maxEpisodeFrames
        o.frameStack = frameStack
        o.fullActionSpace = fullActionSpace
        o.terminalOnLifeLoss = terminalOnLifeLoss
        return o
    }
}
