package dev.align.po.rollout;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.model.AttentionMask;
import dev.align.core.model.DecoderLM;
import dev.align.core.nd.Tensors;
import dev.align.core.scoring.LogProbs;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The token layout of a rollout batch for teacher-forced forwards (policy, reference, critic): B rows of
 * prompt + completion, the prompts LEFT-padded to the longest prompt (P tokens) and the completions
 * right-padded to the longest completion (L tokens), T = P + L:
 *
 * <pre>
 *   row:   [pad … pad | prompt tokens][completion tokens | pad … pad]
 *   slot:   0 … P−1                    P … P+L−1
 * </pre>
 *
 * so completion token j of every row sits at slot P + j and is predicted at slot P − 1 + j: per-token
 * quantities of all rows line up as [B, L] tensors, column j = completion token j (TRL's layout).
 * Position ids count each row's real tokens (0 at its first prompt token), segments mark real tokens
 * (1) and padding (0), so the attention mask never looks at padding and a row's numbers are those it
 * would get alone.
 *
 * <p>Per-token arrays handed in and out are row-major Java {@code float[B·L]}; {@link #inputs} builds the
 * engine tensors of any subset of rows (a micro-batch), keeping T so that columns keep their meaning.
 */
public final class RolloutBatch {
    private final int rows;
    private final int promptLen;
    private final int completionLen;
    private final long[] ids;
    private final long[] positions;
    private final int[] segments;
    private final long[] targets;
    private final float[] mask;
    private final int[] completionLengths;
    private final int[] rowTokens;

    private RolloutBatch(int rows, int promptLen, int completionLen, long[] ids, long[] positions, int[] segments,
            long[] targets, float[] mask, int[] completionLengths, int[] rowTokens) {
        this.rows = rows;
        this.promptLen = promptLen;
        this.completionLen = completionLen;
        this.ids = ids;
        this.positions = positions;
        this.segments = segments;
        this.targets = targets;
        this.mask = mask;
        this.completionLengths = completionLengths;
        this.rowTokens = rowTokens;
    }

    /**
     * The layout of {@code prompts[i] + completions[i]}.
     *
     * @param prompts non-empty prompt token ids per row
     * @param completions non-empty completion token ids per row (eos included when generated)
     * @param padId the id written in padding slots (never attended to, never a target)
     */
    public static RolloutBatch of(List<long[]> prompts, List<long[]> completions, long padId) {
        int b = prompts.size();
        if (completions.size() != b || b == 0) {
            throw new IllegalArgumentException(b + " prompts for " + completions.size() + " completions");
        }
        int p = 0;
        int l = 0;
        for (int r = 0; r < b; r++) {
            p = Math.max(p, prompts.get(r).length);
            l = Math.max(l, completions.get(r).length);
            if (prompts.get(r).length == 0 || completions.get(r).length == 0) {
                throw new IllegalArgumentException("row " + r + ": empty prompt or completion");
            }
        }
        int t = p + l;
        long[] ids = new long[b * t];
        long[] pos = new long[b * t];
        int[] seg = new int[b * t];
        long[] tgt = new long[b * l];
        float[] mask = new float[b * l];
        int[] lens = new int[b];
        int[] real = new int[b];
        Arrays.fill(ids, padId);
        Arrays.fill(tgt, padId);
        for (int r = 0; r < b; r++) {
            long[] pr = prompts.get(r);
            long[] c = completions.get(r);
            int start = r * t + p - pr.length; // first real slot of the row
            System.arraycopy(pr, 0, ids, start, pr.length);
            System.arraycopy(c, 0, ids, r * t + p, c.length);
            int n = pr.length + c.length;
            Arrays.fill(seg, start, start + n, 1);
            for (int i = 0; i < n; i++) {
                pos[start + i] = i;
            }
            System.arraycopy(c, 0, tgt, r * l, c.length);
            Arrays.fill(mask, r * l, r * l + c.length, 1f);
            lens[r] = c.length;
            real[r] = n;
        }
        return new RolloutBatch(b, p, l, ids, pos, seg, tgt, mask, lens, real);
    }

    /** B. */
    public int rows() {
        return rows;
    }

    /** P, the longest prompt. */
    public int promptLength() {
        return promptLen;
    }

    /** L, the longest completion. */
    public int completionLength() {
        return completionLen;
    }

    /** Each row's completion length in tokens. */
    public int[] completionLengths() {
        return completionLengths.clone();
    }

    /** [B·L] 1 on completion tokens, 0 on padding. */
    public float[] mask() {
        return mask.clone();
    }

    /** Real tokens (prompt + completion) of the given rows. */
    public long tokens(int[] sel) {
        long n = 0;
        for (int r : sel) {
            n += rowTokens[r];
        }
        return n;
    }

    /** All row indices 0..B−1. */
    public int[] all() {
        int[] a = new int[rows];
        for (int i = 0; i < rows; i++) {
            a[i] = i;
        }
        return a;
    }

    /** The rows {@code sel} of a per-token array [B·L], as a [b·L] array. */
    public float[] select(float[] perToken, int[] sel) {
        float[] out = new float[sel.length * completionLen];
        for (int i = 0; i < sel.length; i++) {
            System.arraycopy(perToken, sel[i] * completionLen, out, i * completionLen, completionLen);
        }
        return out;
    }

    /** The rows {@code sel} of a per-token array [B·L] as an engine tensor [b, L]. */
    public NDArray tensor(float[] perToken, int[] sel, NDManager m) {
        return Tensors.floats(m, select(perToken, sel), new Shape(sel.length, completionLen));
    }

    /** Per-row values [b·L] laid out on the completion tokens: row r's {@code perRow[r][j]} at column j, 0 after. */
    public float[] perToken(List<float[]> perRow) {
        float[] out = new float[rows * completionLen];
        for (int r = 0; r < rows; r++) {
            float[] v = perRow.get(r);
            System.arraycopy(v, 0, out, r * completionLen, Math.min(v.length, completionLen));
        }
        return out;
    }

    /**
     * The engine tensors of rows {@code sel}.
     *
     * @param ids [b, T] INT64
     * @param positions [b, T] INT64
     * @param attention [b, 1, T, T] additive mask
     * @param targets [b, L] INT64 completion tokens (the pad id on padding)
     * @param mask [b, L] FLOAT32 1 on completion tokens
     * @param promptLen P
     * @param completionLen L
     */
    public record Inputs(NDArray ids, NDArray positions, NDArray attention, NDArray targets, NDArray mask, int promptLen,
            int completionLen) {}

    /** The tensors of rows {@code sel} (a micro-batch), in {@code m}. */
    public Inputs inputs(int[] sel, NDManager m, int slidingWindow) {
        int t = promptLen + completionLen;
        int b = sel.length;
        long[] id = new long[b * t];
        long[] ps = new long[b * t];
        int[] sg = new int[b * t];
        long[] tg = new long[b * completionLen];
        for (int i = 0; i < b; i++) {
            System.arraycopy(ids, sel[i] * t, id, i * t, t);
            System.arraycopy(positions, sel[i] * t, ps, i * t, t);
            System.arraycopy(segments, sel[i] * t, sg, i * t, t);
            System.arraycopy(targets, sel[i] * completionLen, tg, i * completionLen, completionLen);
        }
        Shape s = new Shape(b, t);
        return new Inputs(Tensors.longs(m, id, s), Tensors.longs(m, ps, s), AttentionMask.causal(m, sg, b, t, slidingWindow),
                Tensors.longs(m, tg, new Shape(b, completionLen)), tensor(mask, sel, m), promptLen, completionLen);
    }

    /**
     * Runs {@code f} (a gradient-free forward giving [b, L]) over every row, {@code chunk} rows at a time
     * (all at once when 0), each chunk in its own NDScope; returns the results as [B·L]. Call outside any
     * GradientCollector.
     */
    public float[] forwardAll(int chunk, NDManager m, int slidingWindow, Function<Inputs, NDArray> f) {
        float[] out = new float[rows * completionLen];
        int step = chunk <= 0 ? rows : chunk;
        for (int start = 0; start < rows; start += step) {
            int end = Math.min(rows, start + step);
            int[] sel = new int[end - start];
            for (int i = 0; i < sel.length; i++) {
                sel[i] = start + i;
            }
            try (NDScope scope = new NDScope()) {
                float[] v = Tensors.toFloats(f.apply(inputs(sel, m, slidingWindow))); // [b,L]
                System.arraycopy(v, 0, out, start * completionLen, v.length);
            }
        }
        return out;
    }

    /** Hidden states at the slots that predict the completion tokens, slots P−1 … P+L−2: [b, L, H]. */
    private static NDArray completionHidden(DecoderLM model, Inputs in) {
        NDArray hidden = model.hidden(in.ids(), in.positions(), in.attention(), null); // [b,T,H]
        return hidden.get(new NDIndex().addAllDim().addSliceDim(in.promptLen() - 1,
                in.promptLen() - 1 + in.completionLen())); // [b,L,H]
    }

    /**
     * log π(completion token j | prompt, tokens &lt; j) of a causal LM, column j = completion token j;
     * differentiable inside a GradientCollector. Padding columns hold the log-prob of the pad id (mask
     * them).
     *
     * @return [b, L]
     */
    public static NDArray logProbs(DecoderLM model, Inputs in) {
        NDArray logits = model.logits(completionHidden(model, in)); // [b,L,V]
        return LogProbs.tokenLogProbs(logits, in.targets()); // [b,L]
    }

    /**
     * The critic's value of each state before completion token j — its score head applied at every slot
     * that predicts a completion token (TRL's {@code full_value[:, context_length − 1 : −1]}).
     *
     * @param critic a sequence-classification model with one label
     * @return [b, L]
     */
    public static NDArray values(DecoderLM critic, Inputs in) {
        NDArray h = completionHidden(critic, in); // [b,L,H]
        NDArray w = critic.parameter("score").value(); // [1,H]
        NDArray v = JniUtils.linear((PtNDArray) h, (PtNDArray) w, null); // [b,L,1]
        return v.reshape(h.getShape().get(0), in.completionLen()); // [b,L]
    }
}
