import SparrowCore

/// Aggregate statistics as rliable computes them (Agarwal et al., "Deep RL at the Edge of the Statistical
/// Precipice"): the interquartile mean over all runs × tasks and percentile confidence intervals from a stratified
/// bootstrap (runs resampled with replacement within each task). See shared/reference/algorithms.md §(c).
public enum Statistics {
    /// `scipy.stats.trim_mean(x, proportion)`: cuts ⌊proportion·n⌋ values from each end of the sorted sample and
    /// averages the rest. rliable's IQM is `trim_mean(scores, 0.25)` over the flattened runs × tasks matrix.
    public static func trimmedMean(_ values: [Double], proportion: Double) -> Double {
        precondition(!values.isEmpty, "trimmed mean of no values")
        let sorted = values.sorted()
        let cut = Int(proportion * Double(sorted.count))
        precondition(cut < sorted.count - cut, "proportion \(proportion) too big for \(sorted.count) values")
        let kept = sorted[cut..<(sorted.count - cut)]
        return kept.reduce(0, +) / Double(kept.count)
    }

    /// Interquartile mean: the mean of the middle 50% (`trim_mean(x, 0.25)`).
    public static func iqm(_ values: [Double]) -> Double { trimmedMean(values, proportion: 0.25) }

    public static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    /// Population standard deviation (NumPy's default, ddof = 0), as the papers' "± std over seeds".
    public static func standardDeviation(_ values: [Double]) -> Double {
        let m = mean(values)
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)).squareRoot()
    }

    /// `numpy.percentile(values, q)` with linear interpolation (q in 0…100).
    public static func percentile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return percentile(sorted: sorted, q)
    }

    static func percentile(sorted: [Double], _ q: Double) -> Double {
        let position = q / 100 * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// A point estimate with its confidence interval.
    public struct Interval: Equatable, Sendable {
        public var estimate: Double
        public var lower: Double
        public var upper: Double
        public init(estimate: Double, lower: Double, upper: Double) { self.estimate = estimate; self.lower = lower; self.upper = upper }
    }

    /// rliable's `get_interval_estimates(..., method='percentile')` for one method: `scoresByTask[t]` holds the
    /// runs of task t (tasks may have different numbers of runs). Each of `reps` replicates resamples every task's
    /// runs with replacement (stratified bootstrap), pools them and applies `aggregate`; the interval is the
    /// (α/2, 1−α/2) percentiles of the replicates. Seeded, so reports are reproducible.
    public static func stratifiedBootstrap(_ scoresByTask: [[Double]], reps: Int = 50_000, confidence: Double = 0.95,
                                           seed: UInt64 = 0, aggregate: ([Double]) -> Double = iqm) -> Interval {
        let tasks = scoresByTask.filter { !$0.isEmpty }
        precondition(!tasks.isEmpty, "bootstrap of no scores")
        let point = aggregate(tasks.flatMap { $0 })
        var generator = Generator(seed: seed)
        var estimates = [Double](repeating: 0, count: reps)
        var sample = [Double](repeating: 0, count: tasks.reduce(0) { $0 + $1.count })
        for r in 0..<reps {
            var k = 0
            for task in tasks {
                for _ in 0..<task.count {
                    sample[k] = task[generator.nextInt(below: task.count)]
                    k += 1
                }
            }
            estimates[r] = aggregate(sample)
        }
        estimates.sort()
        let alpha = 1 - confidence
        return Interval(estimate: point, lower: percentile(sorted: estimates, 100 * alpha / 2),
                        upper: percentile(sorted: estimates, 100 * (1 - alpha / 2)))
    }
}
