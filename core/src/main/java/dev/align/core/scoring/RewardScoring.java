package dev.align.core.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.align.core.AlignException;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.AttentionMask;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.nd.Tensors;
import dev.align.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The reward-model forward and batched, gradient-free scoring — the core that the reward-model module's
 * {@code RewardScorer} (and {@code align score}) and the online RL recipes (PPO/GRPO) share.
 *
 * <p>A reward is the score head's output at a row's rightmost non-pad token. Under the training
 * convention a text sequence is {@code prompt + completion + eos} tokenized as one string (eos unless the
 * completion already ends with it). Sequences are sorted by length and scored {@code batchSize} at a time
 * (little padding, one batched forward each, no gradients); results come back in input order.
 */
public final class RewardScoring {
    private RewardScoring() {}

    /** Fails unless {@code model} is a reward model: a sequence-classification head with one label. */
    public static void requireRewardHead(DecoderLM model, String what) {
        if (model.config().head() != ModelConfig.Head.SEQUENCE_CLASSIFICATION || model.config().numLabels() != 1) {
            throw new AlignException(what + ": a reward model (sequence classification, one label) is needed, this is a "
                    + model.config().head() + " model");
        }
    }

    /**
     * Rewards of the rows of {@code batch}, every row computed once in one batched forward.
     *
     * @param model a sequence-classification model with one label
     * @param batch R right-padded rows (segments mark the tokens; 0 = padding)
     * @param m the manager the step's arrays go to (wrap the call in an NDScope)
     * @return [R] FLOAT32; differentiable when called inside a GradientCollector
     */
    public static NDArray forward(DecoderLM model, TokenBatch batch, NDManager m) {
        Shape s = new Shape(batch.rows(), batch.length());
        NDArray ids = Tensors.longs(m, batch.ids(), s); // [R,T]
        NDArray positions = Tensors.longs(m, batch.positions(), s); // [R,T]
        NDArray mask = AttentionMask.causal(m, batch.segments(), batch.rows(), batch.length(),
                model.config().slidingWindow()); // [R,1,T,T]
        NDArray hidden = model.hidden(ids, positions, mask, null); // [R,T,H]
        NDArray last = Tensors.longs(m, batch.lastTokenIndex(), new Shape(batch.rows())); // [R]
        return model.score(hidden, last).reshape(batch.rows()); // [R,1] -> [R]
    }

    /**
     * One reward per sequence of token ids (the model's vocabulary), in input order, with gradients off.
     *
     * @param m the manager the forward's arrays attach to (closed per batch)
     */
    public static float[] scoreIds(DecoderLM model, List<long[]> seqs, int batchSize, long padId, NDManager m) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        int max = model.config().maxPositions();
        for (int i = 0; i < seqs.size(); i++) {
            int n = seqs.get(i).length;
            if (n == 0) {
                throw new AlignException("sequence " + i + " is empty: nothing to score");
            }
            if (max > 0 && n > max) {
                throw new AlignException("sequence " + i + " has " + n + " tokens, more than the reward model's"
                        + " max_position_embeddings " + max);
            }
        }
        Integer[] order = IntStream.range(0, seqs.size()).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt(i -> seqs.get(i).length));
        float[] out = new float[seqs.size()];
        for (int start = 0; start < order.length; start += batchSize) {
            int end = Math.min(order.length, start + batchSize);
            List<long[]> rows = new ArrayList<>(end - start);
            for (int i = start; i < end; i++) {
                rows.add(seqs.get(order[i]));
            }
            TokenBatch batch = TokenBatch.rightPadded(rows, new int[rows.size()], padId);
            float[] r;
            try (NDScope scope = new NDScope()) {
                r = forward(model, batch, m).toFloatArray(); // [rows]
            }
            for (int i = start; i < end; i++) {
                out[order[i]] = r[i - start];
            }
        }
        return out;
    }

    /**
     * The texts a reward model scores for (prompt, completion) pairs: {@code prompt + completion + eos}
     * (no second eos when the completion already ends with it).
     */
    public static List<String> texts(Tokenizer tok, List<String> prompts, List<String> completions) {
        if (prompts.size() != completions.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts for " + completions.size() + " completions");
        }
        String eos = tok.eosToken();
        if (eos == null) {
            throw new AlignException(tok.dir() + ": the tokenizer has no eos_token to append");
        }
        List<String> texts = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            String c = completions.get(i);
            texts.add(prompts.get(i) + c + (c.endsWith(eos) ? "" : eos));
        }
        return texts;
    }

    /** One reward per (prompt, completion) text pair, in order ({@link #texts} tokenized as one string each). */
    public static float[] score(DecoderLM model, Tokenizer tok, List<String> prompts, List<String> completions,
            int batchSize, long padId, NDManager m) {
        return scoreIds(model, Arrays.asList(tok.encodeBatch(texts(tok, prompts, completions), true)), batchSize,
                padId, m);
    }
}
