/// The Impala network (Espeholt et al. 2018) as rigl/rl's `dqn_agents.py` builds it for DQN (`ImpalaNetwork`,
/// `_Stack`; google-research/rigl@d39fc7d), without batch norm (`ImpalaNetwork.use_batch_norm = False` in every
/// `dqn_atari_*_impala_net.gin`):
///
///     x / 255 → for each stack (32, 64, 64 channels): conv 3×3/1 SAME → max-pool 3×3/2 SAME
///                 → 2 × [ x + conv(relu(conv(relu(x)))) ] (3×3/1 SAME convs)
///             → relu → flatten → dense 256 → relu → dense |A|
///
/// On 84 × 84 frames the stacks give 84 → 42 → 21 → 11, 7744 features into the dense layer. The stack convolutions
/// have no activation of their own (Keras `Conv2D` defaults to linear): the ReLUs are the pre-activations of the
/// residual branches and the one before the flatten. Layer order (what ERK, archives and reports number): per stack
/// its first conv, then block 0's two convs, block 1's two; then the dense layers.
public enum ImpalaNetwork {
    /// Channels of the three stacks, `_scale_width` at width 1.
    public static let channels = [32, 64, 64]
    /// Residual blocks per stack.
    public static let blocks = 2
    /// The dense layer after the torso (`_dense1 = Dense(_scale_width(256))`).
    public static let hidden = 256

    /// The convolutions (in layer order) and the graph of a network on `frames` stacked `size` × `size` frames
    /// with fully connected `hidden` widths after the torso and `outputs` outputs. Layer l < convolutions.count is
    /// convolutions[l]; the dense layers follow.
    public static func architecture(frames: Int, size: Int = 84, channels: [Int] = channels, blocks: Int = blocks,
                                    hidden: [Int], outputs: Int) -> (convolutions: [ConvGeometry], graph: NetworkGraph) {
        var convolutions: [ConvGeometry] = [], ops: [NetworkGraph.Op] = []
        var c = frames, side = size
        for out in channels {
            ops.append(.layer(convolutions.count, .identity))
            convolutions.append(.same(inChannels: c, size: side, outChannels: out, kernel: 3))
            let pool = PoolGeometry.same(channels: out, height: side, width: side, window: 3, stride: 2)
            ops.append(.maxPool(pool))
            c = out; side = pool.outputHeight
            for _ in 0..<blocks {
                ops.append(.saveSkip)
                for _ in 0..<2 {
                    ops.append(.activation(.relu))
                    ops.append(.layer(convolutions.count, .identity))
                    convolutions.append(.same(inChannels: c, size: side, outChannels: c, kernel: 3))
                }
                ops.append(.addSkip)
            }
        }
        ops.append(.activation(.relu))
        for k in hidden.indices { ops.append(.layer(convolutions.count + k, .relu)) }
        ops.append(.layer(convolutions.count + hidden.count, .identity))
        return (convolutions, NetworkGraph(ops: ops))
    }

    /// Features out of the torso: channels.last × the side after three poolings.
    public static func features(size: Int = 84, channels: [Int] = channels) -> Int {
        var side = size
        for _ in channels { side = (side + 1) / 2 }
        return (channels.last ?? 0) * side * side
    }
}
