package dev.align.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.align.core.nd.Tensors;

/**
 * Additive attention masks (0 where a query may attend, -FLT_MAX where it may not), built with tensor
 * ops from per-token segment ids:
 *
 * <ul>
 *   <li>segment 0 is padding and is never attended to;
 *   <li>a query attends to keys of its own segment at or before its own slot (causal), so a row of
 *       several packed examples gets a block-diagonal causal mask;
 *   <li>with a sliding window W (Mistral) a query at slot i sees only slots j with i − j &lt; W.
 * </ul>
 *
 * A fully masked query row (a padding query) gets a uniform softmax instead of NaN; its output is
 * never used.
 *
 * <p>{@link #causal} returns null for the common case it need not build: every row one example from
 * position 0, padding only after it, no window. Null stands for the plain causal mask, which the
 * attention kernels apply themselves (skipping the masked half of the work); real tokens get exactly the
 * same result, since right padding only ever follows them.
 */
public final class AttentionMask {
    private AttentionMask() {}

    /**
     * The causal mask over whole sequences.
     *
     * @param segments [B·T] row-major segment ids (1 for every real token of an unpacked row, 0 for pads)
     * @return [B, 1, T, T], or null for the plain causal mask (see the class comment)
     */
    public static NDArray causal(NDManager m, int[] segments, int b, int t, int window) {
        if (plainCausal(segments, b, t, window)) {
            return null;
        }
        return explicit(m, segments, b, t, window);
    }

    /** {@link #causal} always built as a tensor, [B, 1, T, T]. */
    static NDArray explicit(NDManager m, int[] segments, int b, int t, int window) {
        try (NDArray seg = Tensors.ints(m, segments, new Shape(b, t))) {
            return build(m, seg, seg, 0, window);
        }
    }

    /**
     * The mask for T new tokens at slots [start, start + T) after {@code start} cached slots, from the
     * cache's per-slot key bias (see {@link KvCache#mask}): a query at slot i sees slot j iff j ≤ i, the
     * bias of j is 0 (a real token) and, with a window W, i − j &lt; W. Tensor ops only.
     *
     * @param keyBias [B, S] additive (0 for a real token, −FLT_MAX for padding), S = start + T
     * @return [B, 1, T, S]
     */
    public static NDArray cached(NDArray keyBias, int t, int start, int window) {
        return Tensors.scoped(() -> {
            NDManager m = keyBias.getManager();
            long b = keyBias.getShape().get(0);
            long s = keyBias.getShape().get(1);
            NDArray qi = m.arange(start, start + t, 1, DataType.INT64).reshape(t, 1);
            NDArray kj = m.arange(0, s, 1, DataType.INT64).reshape(1, s);
            NDArray ok = qi.gte(kj); // [T,S]
            if (window > 0) {
                ok = ok.logicalAnd(qi.sub(kj).lt(window));
            }
            NDArray okBias = ok.toType(DataType.FLOAT32, false).sub(1f).mul(Float.MAX_VALUE); // [T,S]
            return keyBias.reshape(b, 1, 1, s).minimum(okBias.reshape(1, 1, t, s)); // [B,1,T,S]
        });
    }

    /** The plain causal mask itself, [1, 1, T, T], for code paths that need it as a tensor. */
    public static NDArray plainCausal(NDManager m, long t) {
        int[] ones = new int[(int) t];
        java.util.Arrays.fill(ones, 1);
        try (NDArray seg = Tensors.ints(m, ones, new Shape(1, t))) {
            return build(m, seg, seg, 0, 0);
        }
    }

    /** Whether every row is one segment starting at slot 0 followed only by padding, with no window in reach. */
    static boolean plainCausal(int[] segments, int b, int t, int window) {
        if (window > 0 && window < t) {
            return false;
        }
        for (int r = 0; r < b; r++) {
            int base = r * t;
            if (segments[base] != 1) {
                return false;
            }
            boolean pad = false;
            for (int i = 1; i < t; i++) {
                int sg = segments[base + i];
                if (pad ? sg != 0 : sg != 1 && sg != 0) {
                    return false;
                }
                pad |= sg == 0;
            }
        }
        return true;
    }

    /**
     * The general mask: query i (at slot {@code qOffset + i}) may see key j iff segQ[i] == segK[j],
     * segK[j] ≠ 0, j ≤ qOffset + i and, with a window, qOffset + i − j &lt; window.
     *
     * @param segQ [B, T] INT32
     * @param segK [B, S] INT32
     * @return [B, 1, T, S] FLOAT32
     */
    public static NDArray build(NDManager m, NDArray segQ, NDArray segK, long qOffset, int window) {
        return Tensors.scoped(() -> buildInScope(m, segQ, segK, qOffset, window));
    }

    private static NDArray buildInScope(NDManager m, NDArray segQ, NDArray segK, long qOffset, int window) {
        long b = segQ.getShape().get(0);
        long t = segQ.getShape().get(1);
        long s = segK.getShape().get(1);
        NDArray q = segQ.reshape(b, 1, t, 1);
        NDArray k = segK.reshape(b, 1, 1, s);
        NDArray allowed = q.eq(k).logicalAnd(k.gt(0)); // [B,1,T,S]
        NDArray qi = m.arange(qOffset, qOffset + t, 1, DataType.INT64).reshape(t, 1);
        NDArray kj = m.arange(0, s, 1, DataType.INT64).reshape(1, s);
        NDArray ok = qi.gte(kj); // [T,S]
        if (window > 0) {
            ok = ok.logicalAnd(qi.sub(kj).lt(window));
        }
        allowed = allowed.logicalAnd(ok);
        // (allowed − 1) · FLT_MAX: 0 where allowed, −FLT_MAX elsewhere
        return allowed.toType(DataType.FLOAT32, false).sub(1f).mul(Float.MAX_VALUE);
    }
}
