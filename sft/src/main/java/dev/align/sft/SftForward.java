package dev.align.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.LogProbs;

/**
 * The SFT forward pass: per-token log-probs of the labels (what the loss is made of) and how many
 * labelled positions the model's argmax gets right (TRL's {@code mean_token_accuracy}).
 */
public final class SftForward {
    private SftForward() {}

    /**
     * @param logps [B, T] log p(label) where a label counts, 0 elsewhere (differentiable)
     * @param correct 0-dim FLOAT32: labelled positions whose argmax over the vocabulary is the label
     */
    public record Output(NDArray logps, NDArray correct) {}

    /**
     * Runs the model over a batch. Inside a {@code GradientCollector} the log-probs carry the graph; the
     * accuracy count never does (argmax is not differentiable). Call inside the step's {@code NDScope}.
     */
    public static Output run(DecoderLM model, TokenBatch.Tensors4 t) {
        NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null); // [B,T,H]
        NDArray logits = model.logits(hidden); // [B,T,V]
        NDArray logps = LogProbs.tokenLogProbs(logits, t.labels()).mul(t.weights()); // [B,T]
        NDArray hit = logits.argMax(2).eq(t.labels()).toType(DataType.FLOAT32, false); // [B,T]
        NDArray correct = hit.mul(t.weights()).sum(); // 0-dim
        return new Output(logps, correct);
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
