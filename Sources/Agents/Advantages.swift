/// Generalised advantage estimation (Schulman et al. 2016), as TF-Agents' PPO and CleanRL compute it over one
/// rollout, with truncation handled by bootstrapping:
///
///     δ_t = r_t + γ·v′_t − V(s_t)
///     A_t = δ_t + γλ·(1 − end_t)·A_{t+1}        (A after the rollout's last step: 0)
///     R_t = A_t + V(s_t)                         (the TD(λ) return the value network regresses on)
///
/// where v′_t is the value the step bootstraps from — V(s_{t+1}) inside an episode, V of the final observation when
/// the episode was truncated (time limit: the state is not terminal), 0 when it terminated — and end_t says the
/// episode ended at t (terminated or truncated), which cuts the sum there. Keeping v′ separate from the next
/// step's V is what lets a truncated episode bootstrap while the next one starts fresh.
public func generalizedAdvantages(rewards: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                  bootstrapValues: UnsafePointer<Float>, episodeEnds: UnsafePointer<Bool>, count n: Int,
                                  gamma: Float, lambda: Float, advantages: UnsafeMutablePointer<Float>,
                                  returns: UnsafeMutablePointer<Float>) {
    var next: Float = 0
    for t in stride(from: n - 1, through: 0, by: -1) {
        let delta = rewards[t] + gamma * bootstrapValues[t] - values[t]
        next = delta + gamma * lambda * (episodeEnds[t] ? 0 : next)
        advantages[t] = next
        returns[t] = next + values[t]
    }
}
