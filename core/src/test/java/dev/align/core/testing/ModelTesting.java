package dev.align.core.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.DecoderLM.Param;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Batches and gradient snapshots shared by the tests that compare two ways of computing a step. */
public final class ModelTesting {
    private ModelTesting() {}

    /**
     * Three right-padded rows of n, n + 2 and n + 4 random tokens (ids 4–93, inside the fixtures'
     * vocabularies), the first third of each a prompt.
     */
    public static TokenBatch threeRows(long seed, int n) {
        Random rnd = new Random(seed);
        List<long[]> seqs = new ArrayList<>();
        int[] from = new int[3];
        for (int r = 0; r < 3; r++) {
            long[] s = new long[n + 2 * r];
            for (int i = 0; i < s.length; i++) {
                s[i] = 4 + rnd.nextInt(90);
            }
            seqs.add(s);
            from[r] = s.length / 3;
        }
        return TokenBatch.rightPadded(seqs, from, 0);
    }

    /** Every parameter's gradient as floats, in parameter order (null where backward has not reached it). */
    public static List<float[]> grads(DecoderLM model) {
        List<float[]> out = new ArrayList<>();
        try (NDScope scope = new NDScope()) {
            for (Param p : model.parameters()) {
                NDArray g = JniUtils.getGradient((PtNDArray) p.value());
                out.add(g == null ? null : g.toFloatArray());
            }
        }
        return out;
    }
}
