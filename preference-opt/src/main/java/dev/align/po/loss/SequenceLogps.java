package dev.align.po.loss;

import ai.djl.ndarray.NDArray;

/**
 * One model's sequence log-probabilities for a batch of P preference pairs: sums of log p over each
 * completion's tokens (eos included), and the completions' token counts.
 *
 * @param chosen [P] sum of log-probs of the chosen completions
 * @param rejected [P] sum of log-probs of the rejected completions
 * @param chosenTokens [P] FLOAT32 token counts of the chosen completions
 * @param rejectedTokens [P] FLOAT32 token counts of the rejected completions
 */
public record SequenceLogps(NDArray chosen, NDArray rejected, NDArray chosenTokens, NDArray rejectedTokens) {

    /** Length-averaged chosen log-probs [P]. */
    public NDArray chosenMean() {
        return chosen.div(chosenTokens);
    }

    /** Length-averaged rejected log-probs [P]. */
    public NDArray rejectedMean() {
        return rejected.div(rejectedTokens);
    }
}
