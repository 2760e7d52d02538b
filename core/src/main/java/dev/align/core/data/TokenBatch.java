package dev.align.core.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.align.core.model.AttentionMask;
import dev.align.core.nd.Tensors;
import java.util.Arrays;
import java.util.List;

/**
 * A batch of token rows ready for the model, in row-major Java arrays of [rows × length]:
 *
 * <ul>
 *   <li>{@code ids}: tokens, right-padded with {@code padId};
 *   <li>{@code positions}: position ids (0, 1, ... per sequence; restarting per packed example);
 *   <li>{@code segments}: which example of the row a token belongs to (1, 2, ... ; 0 = padding), so the
 *       attention mask keeps packed examples apart;
 *   <li>{@code labels}: HF's shifted labels: {@code labels[t]} is the token position t must predict
 *       (the next token), or {@link #IGNORE} where no loss is taken.
 * </ul>
 *
 * @param rows B
 * @param length T
 * @param ids [B·T]
 * @param positions [B·T]
 * @param segments [B·T]
 * @param labels [B·T]
 */
public record TokenBatch(int rows, int length, long[] ids, long[] positions, int[] segments, long[] labels) {
    /** The label of positions that take no loss. */
    public static final long IGNORE = -100;

    /**
     * Right-pads sequences into a batch, one sequence per row. Position t of row b is labelled with
     * token t+1 when {@code lossFrom[b] <= t + 1} (the next token is a loss token).
     *
     * @param seqs the sequences
     * @param lossFrom per sequence, the first index whose token takes loss (its prompt length); tokens
     *     from there to the end are predicted
     * @param padId the padding id
     */
    public static TokenBatch rightPadded(List<long[]> seqs, int[] lossFrom, long padId) {
        int b = seqs.size();
        int t = 0;
        for (long[] s : seqs) {
            t = Math.max(t, s.length);
        }
        long[] ids = new long[b * t];
        long[] pos = new long[b * t];
        int[] seg = new int[b * t];
        long[] labels = new long[b * t];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, IGNORE);
        for (int r = 0; r < b; r++) {
            long[] s = seqs.get(r);
            int base = r * t;
            for (int i = 0; i < t; i++) {
                pos[base + i] = i;
            }
            System.arraycopy(s, 0, ids, base, s.length);
            Arrays.fill(seg, base, base + s.length, 1);
            int from = Math.max(1, lossFrom[r]);
            for (int i = from; i < s.length; i++) {
                labels[base + i - 1] = s[i];
            }
        }
        return new TokenBatch(b, t, ids, pos, seg, labels);
    }

    /** Number of labelled (loss) positions. */
    public int labelCount() {
        int n = 0;
        for (long l : labels) {
            if (l != IGNORE) {
                n++;
            }
        }
        return n;
    }

    /** Number of non-padding tokens. */
    public int tokenCount() {
        int n = 0;
        for (int s : segments) {
            if (s != 0) {
                n++;
            }
        }
        return n;
    }

    /** Per row, the index of the rightmost non-padding token (where a reward head reads). */
    public long[] lastTokenIndex() {
        long[] last = new long[rows];
        for (int r = 0; r < rows; r++) {
            int i = length - 1;
            while (i > 0 && segments[r * length + i] == 0) {
                i--;
            }
            last[r] = i;
        }
        return last;
    }

    /** The batch as engine tensors in {@code m}. */
    public Tensors4 toTensors(NDManager m, int slidingWindow) {
        Shape s = new Shape(rows, length);
        NDArray idsNd = Tensors.longs(m, ids, s);
        NDArray posNd = Tensors.longs(m, positions, s);
        NDArray mask = AttentionMask.causal(m, segments, rows, length, slidingWindow);
        long[] safe = new long[labels.length];
        float[] weight = new float[labels.length];
        for (int i = 0; i < labels.length; i++) {
            boolean on = labels[i] != IGNORE;
            safe[i] = on ? labels[i] : 0;
            weight[i] = on ? 1f : 0f;
        }
        return new Tensors4(idsNd, posNd, mask, Tensors.longs(m, safe, s), Tensors.floats(m, weight, s));
    }

    /**
     * The engine tensors of a batch.
     *
     * @param ids [B, T] INT64
     * @param positions [B, T] INT64
     * @param mask [B, 1, T, T] additive
     * @param labels [B, T] INT64, ignored positions set to 0
     * @param weights [B, T] FLOAT32, 1 where a label counts, else 0
     */
    public record Tensors4(NDArray ids, NDArray positions, NDArray mask, NDArray labels, NDArray weights) {}
}
