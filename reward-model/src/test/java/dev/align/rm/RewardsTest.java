package dev.align.rm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.io.SafeTensors;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.DataSettings;
import dev.align.datasets.Datasets;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.batch.DataLoader;
import dev.align.datasets.batch.RankingBatch;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batched reward forward: one row per response (K rows for K(K−1)/2 pairs), and each row's reward is
 * what the row alone gives (padding and batch neighbours change nothing).
 */
class RewardsTest {
    @TempDir
    Path tmp;

    /** A causal LM gets a fresh head with σ = 1/sqrt(hidden + 1); a reward model keeps its own. */
    @Test
    void headInitialisation() {
        try (NDManager root = Engines.newManager();
                DecoderLM byDefault = RewardModels.load(Fixtures.reference("llama_gqa"), root, null, 5);
                DecoderLM unit = RewardModels.load(Fixtures.reference("llama_gqa"), root, 1.0, 5);
                DecoderLM kept = RewardModels.load(Fixtures.reference("rm_llama"), root, null, 5)) {
            float[] a = byDefault.parameter(RewardModels.SCORE).value().toFloatArray();
            float[] b = unit.parameter(RewardModels.SCORE).value().toFloatArray();
            for (int i = 0; i < a.length; i++) { // the same normal draws, scaled by σ
                assertEquals(b[i] / Math.sqrt(65), a[i], 1e-6, "score[" + i + "]");
            }
            try (SafeTensors.Reader r = SafeTensors.open(Fixtures.reference("rm_llama/model.safetensors"))) {
                assertArrayEquals(r.read("score.weight", root).toFloatArray(),
                        kept.parameter(RewardModels.SCORE).value().toFloatArray());
            }
        }
    }

    @Test
    void eachResponseOnceAndPaddingChangesNothing() {
        Path file = Synthetic.rankings(tmp.resolve("r.jsonl"), 5, 4);
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(Fixtures.reference("rm_llama"));
                TokenizedDataset ds = Datasets.load(file, DataSettings.defaults().withCache(false, null), tok);
                DecoderLM rm = DecoderLM.load(Fixtures.reference("rm_llama"), root)) {
            DataLoader<RankingBatch> loader = DataLoader.ranking(ds, null,
                    DataLoader.Options.of(5, 0).withShuffle(false), Datasets.padId(tok));
            RankingBatch b = loader.next();
            assertEquals(5, b.groups());
            assertEquals(20, b.batch().rows(), "4 rows per prompt: each response scored once");
            assertEquals(30, b.pairs(), "6 pairs per prompt, formed from the 4 rewards");
            float[] batched;
            try (NDScope s = new NDScope()) {
                batched = Rewards.forward(rm, b.batch(), root).toFloatArray();
            }
            TokenBatch tb = b.batch();
            for (int r = 0; r < tb.rows(); r++) {
                int n = (int) tb.lastTokenIndex()[r] + 1;
                long[] ids = java.util.Arrays.copyOfRange(tb.ids(), r * tb.length(), r * tb.length() + n);
                TokenBatch alone = TokenBatch.rightPadded(List.of(ids), new int[1], 1);
                try (NDScope s = new NDScope()) {
                    assertEquals(Rewards.forward(rm, alone, root).getFloat(), batched[r], 1e-5, "row " + r);
                }
            }
        }
    }
}
