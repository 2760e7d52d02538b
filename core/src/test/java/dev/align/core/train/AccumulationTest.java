package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.DecoderLM.Param;
import dev.align.core.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Gradient accumulation: two micro-batches, each scaled by its share of the labelled tokens, give the
 * gradient of one batch holding both (tiny llama fixture, token-mean cross-entropy), to 1e-5.
 */
class AccumulationTest {

    @Test
    void twoMicroBatchesEqualOneBigBatch() {
        List<long[]> seqs = new ArrayList<>();
        List<Integer> from = new ArrayList<>();
        Rng rng = new Rng(3);
        for (int r = 0; r < 6; r++) { // lengths 5..16: the two halves have different token counts
            long[] s = new long[5 + rng.nextInt(12)];
            for (int i = 0; i < s.length; i++) {
                s[i] = 4 + rng.nextInt(500);
            }
            seqs.add(s);
            from.add(1 + r % 3);
        }
        TokenBatch big = batch(seqs, from, 0, 6);
        TokenBatch micro1 = batch(seqs, from, 0, 2);
        TokenBatch micro2 = batch(seqs, from, 2, 6);
        long total = Accumulation.labelTokens(List.of(micro1, micro2));
        assertEquals(big.labelCount(), total);
        assertNotEquals(micro1.labelCount(), micro2.labelCount(), "the shares must differ for a real test");

        try (NDManager root = Engines.newManager();
                DecoderLM model = DecoderLM.load(Fixtures.reference("llama_gqa"), root)) {
            model.setTrainable(true);
            double bigLoss = TrainTesting.microStep(model, root, big, total, 1f);
            List<float[]> bigGrads = grads(model);
            Grads.zero(model.parameters());

            double l1 = TrainTesting.microStep(model, root, micro1, total, 1f);
            double l2 = TrainTesting.microStep(model, root, micro2, total, 1f);
            List<float[]> accGrads = grads(model);
            assertEquals(bigLoss, l1 + l2, 1e-5, "loss of the step");
            double maxDiff = maxDiff(bigGrads, accGrads);
            assertTrue(maxDiff < 1e-5, "max |grad difference| " + maxDiff);

            // the naive average of per-micro-batch means (each weighted ½) is a different gradient
            Grads.zero(model.parameters());
            TrainTesting.microStep(model, root, micro1, micro1.labelCount(), 0.5f);
            TrainTesting.microStep(model, root, micro2, micro2.labelCount(), 0.5f);
            assertTrue(maxDiff(bigGrads, grads(model)) > 1e-3, "naive averaging should differ");

            // token shares: micro-batch i's own mean times T_i / T gives the same as Σ/T
            Grads.zero(model.parameters());
            TrainTesting.microStep(model, root, micro1, micro1.labelCount(),
                    (float) Accumulation.tokenShare(micro1.labelCount(), total));
            TrainTesting.microStep(model, root, micro2, micro2.labelCount(),
                    (float) Accumulation.tokenShare(micro2.labelCount(), total));
            assertTrue(maxDiff(bigGrads, grads(model)) < 1e-5);
        }
    }

    private static TokenBatch batch(List<long[]> seqs, List<Integer> from, int a, int b) {
        int[] f = new int[b - a];
        for (int i = a; i < b; i++) {
            f[i - a] = from.get(i);
        }
        return TokenBatch.rightPadded(seqs.subList(a, b), f, 1);
    }

    private static List<float[]> grads(DecoderLM model) {
        List<float[]> out = new ArrayList<>();
        for (Param p : model.parameters()) {
            out.add(TrainTesting.grad(p));
        }
        return out;
    }

    private static double maxDiff(List<float[]> a, List<float[]> b) {
        double max = 0;
        double scale = 0;
        for (int i = 0; i < a.size(); i++) {
            for (int j = 0; j < a.get(i).length; j++) {
                max = Math.max(max, Math.abs(a.get(i)[j] - b.get(i)[j]));
                scale = Math.max(scale, Math.abs(a.get(i)[j]));
            }
        }
        assertTrue(scale > 1e-3, "gradients should not be trivially small: " + scale);
        return max;
    }
}
