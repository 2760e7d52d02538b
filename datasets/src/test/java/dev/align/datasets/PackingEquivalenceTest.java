package dev.align.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.LogProbs;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.batch.Batches;
import dev.align.datasets.batch.Packing;
import dev.align.datasets.batch.Splits;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Packing changes nothing but the layout: the 32 reference SFT examples, run through the llama_gqa
 * reference model once one per row and once packed several per row (block-diagonal attention from the
 * segments, positions restarting per example), give the same per-example log-probs to 1e-5; and both
 * give the reference SFT loss (TRL's token-mean cross-entropy over the file's completion tokens).
 */
class PackingEquivalenceTest {

    /** Per example: {sum of completion-token log-probs, number of completion tokens}. */
    private static double[][] perExample(DecoderLM model, NDManager m, TokenBatch b, int[][] rows, int n) {
        double[][] out = new double[n][2];
        float[] lp;
        try (NDScope ignored = new NDScope()) {
            TokenBatch.Tensors4 t = b.toTensors(m, model.config().slidingWindow());
            lp = LogProbs.forBatch(model, t).toFloatArray(); // [B·T]
        }
        for (int r = 0; r < rows.length; r++) {
            for (int i = 0; i < b.length(); i++) {
                int at = r * b.length() + i;
                int seg = b.segments()[at];
                if (seg > 0 && b.labels()[at] != TokenBatch.IGNORE) {
                    int ex = rows[r][seg - 1];
                    out[ex][0] += lp[at];
                    out[ex][1] += 1;
                }
            }
        }
        return out;
    }

    @Test
    void packedAndUnpackedLossesAreEqual() {
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(Fixtures.reference("llama_gqa"));
                DecoderLM model = DecoderLM.load(Fixtures.reference("llama_gqa"), root);
                TokenizedDataset ds = Datasets.load(Fixtures.reference("data/sft.jsonl"),
                        DataSettings.defaults().withCache(false, null), tok)) {
            int n = ds.size();
            long pad = Datasets.padId(tok);
            int[][] single = new int[n][];
            for (int i = 0; i < n; i++) {
                single[i] = new int[] {i};
            }
            int[][] packed = Packing.bestFitDecreasing(Splits.all(n), ds::length, 128).toArray(new int[0][]);
            assertTrue(packed.length < n / 2, "packing puts several examples per row: " + packed.length + " rows");
            TokenBatch unpackedBatch = Batches.sft(ds, single, pad);
            TokenBatch packedBatch = Batches.sft(ds, packed, pad);
            assertTrue(packedBatch.length() <= 128);
            double[][] a = perExample(model, root, unpackedBatch, single, n);
            double[][] b = perExample(model, root, packedBatch, packed, n);
            List<JsonNode> expected = Fixtures.jsonl(Fixtures.reference("expected/logprobs_llama_gqa.jsonl"));
            double total = 0;
            int tokens = 0;
            double seqMean = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(a[i][1], b[i][1], "token count of example " + i);
                assertEquals(a[i][0], b[i][0], 1e-5, "log-prob sum of example " + i);
                assertEquals(a[i][0] / a[i][1], b[i][0] / b[i][1], 1e-5, "mean loss of example " + i);
                assertEquals(expected.get(i).get("logprob").asDouble(), b[i][0], 1e-4, "reference log-prob " + i);
                total -= b[i][0];
                tokens += (int) b[i][1];
                seqMean -= b[i][0] / b[i][1] / n;
            }
            JsonNode ref = Fixtures.json(Fixtures.reference("expected/sft_loss_llama_gqa.json"));
            assertEquals(ref.get("n_tokens").asInt(), tokens);
            assertEquals(ref.get("loss").asDouble(), total / tokens, 1e-4);
            assertEquals(ref.get("loss_seq_mean").asDouble(), seqMean, 1e-4);
        }
    }
}
