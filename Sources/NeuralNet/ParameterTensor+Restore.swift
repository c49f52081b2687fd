extension ParameterTensor {
    /// Restores a tensor's values, Adam moments and step count (checkpoints of agent-owned tensors such as SAC's
    /// log-temperature). Counts must match the tensor's.
    public func restore(values: [Float], firstMoment: [Float], secondMoment: [Float], step: Int) {
        precondition(values.count == count && firstMoment.count == count && secondMoment.count == count)
        replace(values: values, firstMoment: firstMoment, secondMoment: secondMoment, mask: mask)
        restoreState(step: step, momentPolicy: momentPolicy)
    }
}
