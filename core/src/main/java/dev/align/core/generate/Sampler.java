package dev.align.core.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.nd.Tensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * Chooses one token per row from logits [B, V]: runs the {@link LogitsProcessors} pipeline of its
 * {@link SamplingParams}, then takes the argmax (greedy) or samples by inverse CDF — the cumulative
 * probabilities are summed on the engine in fp64 and compared with a uniform number per row drawn from a
 * {@link SplittableRandom} seeded with {@code params.seed()} (B numbers per step whether or not a row is
 * still running, so a row's draws depend only on the seed, the step and its index). Only the chosen
 * tokens and their two log-probs cross to Java: one host read per step.
 *
 * <p>It also keeps, for the repetition penalty, which tokens each row holds ([B, V] BOOLEAN, updated in
 * place with the chosen tokens). One sampler serves one batch.
 */
public final class Sampler implements AutoCloseable {
    /**
     * The tokens chosen in one step and their log-probs.
     *
     * @param tokens [B]
     * @param logprobs [B] log-prob under the distribution the token was drawn from: the processed
     *     logits (penalty, temperature, top-k, top-p, min-p as configured; greedy: after the penalty)
     * @param rawLogprobs [B] log-prob under the model's own distribution: log-softmax of the raw
     *     logits, temperature 1, no processors (what PPO/GRPO compare against)
     */
    public record Choice(long[] tokens, float[] logprobs, float[] rawLogprobs) {}

    private final SamplingParams params;
    private final NDManager manager;
    private final int batch;
    private final int vocab;
    private final NDArray seen;
    private final NDArray rows;
    private final NDArray trueValues;
    private final List<UnaryOperator<NDArray>> pipeline;
    private final SplittableRandom rng;

    /** A sampler for {@code batch} rows over a vocabulary of {@code vocab}, its state in a child of {@code parent}. */
    public Sampler(SamplingParams params, int batch, int vocab, NDManager parent) {
        this.params = params;
        this.batch = batch;
        this.vocab = vocab;
        this.manager = parent.newSubManager();
        this.rng = new SplittableRandom(params.seed());
        if (params.repetitionPenalty() != 1.0) {
            seen = manager.zeros(new Shape(batch, vocab), DataType.BOOLEAN);
            rows = manager.arange(0, batch, 1, DataType.INT64);
            trueValues = manager.ones(new Shape(batch), DataType.BOOLEAN);
        } else {
            seen = null;
            rows = null;
            trueValues = null;
        }
        this.pipeline = LogitsProcessors.pipeline(params, seen);
    }

    /** Marks the tokens of each row's prompt (no padding) as seen, for the repetition penalty. */
    public void observe(List<long[]> prompts) {
        if (seen == null) {
            return;
        }
        int n = 0;
        for (long[] p : prompts) {
            n += p.length;
        }
        long[] r = new long[n];
        long[] c = new long[n];
        int i = 0;
        for (int row = 0; row < prompts.size(); row++) {
            for (long id : prompts.get(row)) {
                r[i] = row;
                c[i++] = id;
            }
        }
        try (NDArray ri = Tensors.longs(manager, r, new Shape(n));
                NDArray ci = Tensors.longs(manager, c, new Shape(n));
                NDArray on = manager.ones(new Shape(n), DataType.BOOLEAN)) {
            JniUtils.indexAdvPut((PtNDArray) seen, new NDIndex("{}, {}", ri, ci), (PtNDArray) on);
        }
    }

    /** The processed scores [B, V] the choice is made from (the raw logits when no processor is on). */
    public NDArray process(NDArray logits) {
        return LogitsProcessors.apply(pipeline, logits);
    }

    /**
     * Chooses a token per row, returns it with its log-probs, and records it as seen.
     *
     * @param logits [B, V] FLOAT32, the raw logits of the next token
     */
    public Choice choose(NDArray logits) {
        NDArray rawLogp = logits.logSoftmax(1); // [B,V]
        NDArray scores = process(logits); // [B,V]
        NDArray tok; // [B,1] INT64
        if (params.isGreedy()) {
            tok = scores.argMax(1).reshape(batch, 1);
        } else {
            NDArray cum = scores.softmax(1).toType(DataType.FLOAT64, false).cumSum(1); // [B,V]
            NDArray total = cum.get(":, " + (vocab - 1) + ":"); // [B,1]
            NDArray target = uniforms().mul(total); // [B,1] in [0, total)
            // the first token whose cumulative probability exceeds the target
            tok = cum.lte(target).toType(DataType.INT64, false).sum(new int[] {1}, true).minimum(vocab - 1);
        }
        NDArray rawLp = rawLogp.gather(tok, 1); // [B,1]
        NDArray lp = pipeline.isEmpty() ? rawLp : scores.logSoftmax(1).gather(tok, 1); // [B,1]
        NDArray packed = NDArrays.concat(new NDList(tok.toType(DataType.FLOAT64, false),
                lp.toType(DataType.FLOAT64, false), rawLp.toType(DataType.FLOAT64, false)), 1); // [B,3]
        double[] d = packed.toDoubleArray();
        if (seen != null) {
            JniUtils.indexAdvPut((PtNDArray) seen, new NDIndex("{}, {}", rows, tok.reshape(batch)),
                    (PtNDArray) trueValues);
        }
        long[] tokens = new long[batch];
        float[] lps = new float[batch];
        float[] raw = new float[batch];
        for (int r = 0; r < batch; r++) {
            tokens[r] = (long) d[3 * r];
            lps[r] = (float) d[3 * r + 1];
            raw[r] = (float) d[3 * r + 2];
        }
        return new Choice(tokens, lps, raw);
    }

    /** [B, 1] FLOAT64 uniform numbers in [0, 1), one per row. */
    private NDArray uniforms() {
        ByteBuffer b = ByteBuffer.allocateDirect(batch * 8).order(ByteOrder.nativeOrder());
        for (int r = 0; r < batch; r++) {
            b.putDouble(rng.nextDouble());
        }
        b.flip();
        return Tensors.owned(manager, b, new Shape(batch, 1), DataType.FLOAT64);
    }

    /** The parameters. */
    public SamplingParams params() {
        return params;
    }

    @Override
    public void close() {
        manager.close();
    }
}
