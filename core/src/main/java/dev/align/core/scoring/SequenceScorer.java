package dev.align.core.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.tokenizer.PromptCompletion;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Batched, gradient-free scoring of prompt/completion sequences: the sum of the completion tokens'
 * log-probs and their count, per sequence. Sequences are batched by length (less padding) and results
 * come back in input order.
 */
public final class SequenceScorer {
    /**
     * One sequence's score.
     *
     * @param logprob sum of log p over the completion tokens (eos included)
     * @param tokens number of completion tokens
     */
    public record Score(double logprob, int tokens) {}

    private SequenceScorer() {}

    /** Scores every sequence with {@code model}, {@code batchSize} sequences per forward. */
    public static List<Score> score(DecoderLM model, List<PromptCompletion> seqs, int batchSize, long padId,
            NDManager manager) {
        Integer[] order = IntStream.range(0, seqs.size()).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(order, Comparator.comparingInt(i -> seqs.get(i).ids().length));
        Score[] out = new Score[seqs.size()];
        for (int start = 0; start < order.length; start += batchSize) {
            int end = Math.min(order.length, start + batchSize);
            List<long[]> ids = new ArrayList<>();
            int[] from = new int[end - start];
            for (int i = start; i < end; i++) {
                PromptCompletion pc = seqs.get(order[i]);
                ids.add(pc.ids());
                from[i - start] = pc.promptLength();
            }
            TokenBatch batch = TokenBatch.rightPadded(ids, from, padId);
            double[] sums;
            try (NDScope scope = new NDScope()) {
                TokenBatch.Tensors4 t = batch.toTensors(manager, model.config().slidingWindow());
                NDArray lp = LogProbs.forBatch(model, t); // [B,T]
                sums = lp.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).sum(new int[] {1}).toDoubleArray(); // [B], summed in fp64
            }
            for (int i = start; i < end; i++) {
                PromptCompletion pc = seqs.get(order[i]);
                out[order[i]] = new Score(sums[i - start], pc.completionLength());
            }
        }
        return List.of(out);
    }
}
