package dev.align.sft;

import ai.djl.ndarray.NDArray;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.LogProbs;

/**
 * The SFT forward pass: the token-mean cross-entropy's share of a batch, the per-token log-probs of the
 * labels it is made of, and how many labelled positions the model's argmax gets right (TRL's
 * {@code mean_token_accuracy}). The language-model head runs in row chunks
 * ({@link LogProbs#headObjective}): no [B, T, V] logits are held.
 */
public final class SftForward {
    private SftForward() {}

    /**
     * @param loss 0-dim −Σ log p(label) / the step's labelled tokens: this batch's share of the token-mean
     *     cross-entropy (differentiable inside a {@code GradientCollector})
     * @param logps [B, T] log p(label) where a label counts, 0 elsewhere (no graph)
     * @param correct 0-dim FLOAT32: labelled positions whose argmax over the vocabulary is the label
     */
    public record Output(NDArray loss, NDArray logps, NDArray correct) {}

    /**
     * Runs the model over a batch. Call inside the step's {@code NDScope}.
     *
     * @param stepTokens the labelled tokens of every batch of the optimizer step (the loss's divisor)
     */
    public static Output run(DecoderLM model, TokenBatch.Tensors4 t, long stepTokens) {
        NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null); // [B,T,H]
        LogProbs.HeadObjective o = LogProbs.tokenMeanNll(model, hidden, t, stepTokens);
        NDArray logps = o.logps().mul(t.weights()); // [B,T]
        NDArray correct = o.hits().mul(t.weights()).sum(); // 0-dim
        return new Output(o.value(), logps, correct);
    }

    /**
     * Running sums over evaluation batches.
     */
    public static final class Sums {
        private double nll;
        private double correct;
        private long tokens;
        private int examples;

        /** Adds one batch's output ({@code labelled} = its labelled positions, {@code rows} its examples). */
        public void add(Output o, long labelled, int rows) {
            nll -= o.logps().sum().getFloat();
            correct += o.correct().getFloat();
            tokens += labelled;
            examples += rows;
        }

        /** Token-mean cross-entropy over every labelled token. */
        public double loss() {
            return nll / tokens;
        }

        /** Share of labelled tokens predicted exactly by the argmax. */
        public double accuracy() {
            return correct / tokens;
        }

        /** Labelled tokens seen. */
        public long tokens() {
            return tokens;
        }

        /** Examples seen. */
        public int examples() {
            return examples;
        }
    }
}
