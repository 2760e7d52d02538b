package dev.align.po.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.core.generate.SamplingParams;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.LogProbs;
import dev.align.core.scoring.RewardScoring;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.PromptExample;
import dev.align.po.rl.GrpoLoss;
import dev.align.po.rl.PpoLosses;
import dev.align.po.testing.RlFixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rollout layout against independent computations: log-probs recomputed by a teacher-forced forward
 * equal the generation engine's raw log-probs (so the first PPO/GRPO ratio is 1 up to float rounding),
 * equal an unpadded single-row forward, and the critic's values equal the reward forward of each prefix.
 */
class RolloutBatchTest {

    static List<PromptExample> prompts(Tokenizer tok, String... texts) {
        List<PromptExample> out = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            out.add(new PromptExample(i + 1, tok.encode(texts[i]), texts[i], null));
        }
        return out;
    }

    @Test
    void recomputedLogProbsEqualTheRolloutsAndTheFirstRatioIsOne() {
        try (NDManager root = Engines.newManager(); Tokenizer tok = Tokenizer.load(RlFixtures.policy());
                DecoderLM model = DecoderLM.load(RlFixtures.policy(), root)) {
            List<PromptExample> rows = prompts(tok, "bedu", "bika bedo boka bude", "bedu", "buka bido");
            GenerationConfig cfg = GenerationConfig.forModel(RlFixtures.policy(), tok).withMaxNewTokens(7)
                    .withSampling(SamplingParams.sample(1.0, 11).withTopK(40));
            Rollouts.Rollout ro = Rollouts.sample(new Generator(model, tok), rows, cfg, 0, 1);
            RolloutBatch b = ro.batch();
            assertEquals(5, b.promptLength()); // <s> + 4 words: the longest prompt, left-padding the others
            float[] mask = b.mask();
            try (NDScope scope = new NDScope()) {
                RolloutBatch.Inputs in = b.inputs(b.all(), root, 0);
                float[] re = RolloutBatch.logProbs(model, in).toFloatArray(); // [B·L]
                double worst = 0;
                for (int i = 0; i < re.length; i++) {
                    if (mask[i] != 0) {
                        worst = Math.max(worst, Math.abs(re[i] - ro.oldLogprobs()[i]));
                    }
                }
                assertTrue(worst < 2e-5, "teacher-forced vs cached log-probs differ by " + worst);
                NDArray logp = RolloutBatch.logProbs(model, in);
                NDArray old = b.tensor(ro.oldLogprobs(), b.all(), root);
                PpoLosses.Policy pol = PpoLosses.policy(logp, old, in.mask(), in.mask(), 0.2);
                assertEquals(1.0, pol.ratioMean().getFloat(), 1e-4);
                assertEquals(0.0, pol.clipFraction().getFloat(), 0);
                GrpoLoss.Output o = new GrpoLoss(0.2, 0.2, 0, GrpoLoss.Aggregation.DAPO, 7).compute(logp, old, null,
                        root.ones(new ai.djl.ndarray.types.Shape(4)), in.mask());
                assertEquals(0.0, o.clipRegion().getFloat(), 0);
                assertEquals(-1.0, o.loss().getFloat(), 1e-4); // −mean ρ·A with ρ = 1, A = 1
            }
            // each row alone, unpadded, through the plain SFT path
            int l = b.completionLength();
            for (int r = 0; r < rows.size(); r++) {
                long[] p = rows.get(r).ids();
                long[] c = ro.generations().get(r).tokens();
                long[] full = new long[p.length + c.length];
                System.arraycopy(p, 0, full, 0, p.length);
                System.arraycopy(c, 0, full, p.length, c.length);
                TokenBatch one = TokenBatch.rightPadded(List.of(full), new int[] {p.length}, 1);
                try (NDScope scope = new NDScope()) {
                    float[] lp = LogProbs.forBatch(model, one.toTensors(root, 0)).toFloatArray(); // [1,T]
                    float[] mine = RolloutBatch.logProbs(model, b.inputs(new int[] {r}, root, 0)).toFloatArray();
                    for (int j = 0; j < c.length; j++) {
                        assertEquals(lp[p.length - 1 + j], mine[j], 1e-5, "row " + r + " token " + j);
                    }
                    assertEquals(l, mine.length);
                }
            }
        }
    }

    @Test
    void criticValuesAreTheRewardHeadOnEachPrefix() {
        try (NDManager root = Engines.newManager(); DecoderLM critic = DecoderLM.load(RlFixtures.rewardModel(), root)) {
            List<long[]> ps = List.of(new long[] {2, 40, 41}, new long[] {2, 50});
            List<long[]> cs = List.of(new long[] {60, 61}, new long[] {70, 71, 3});
            RolloutBatch b = RolloutBatch.of(ps, cs, 1);
            float[] v;
            try (NDScope scope = new NDScope()) {
                v = RolloutBatch.values(critic, b.inputs(b.all(), root, 0)).toFloatArray(); // [2·3]
            }
            int l = b.completionLength();
            for (int r = 0; r < 2; r++) {
                for (int j = 0; j < cs.get(r).length; j++) {
                    long[] prefix = new long[ps.get(r).length + j]; // the state before completion token j
                    System.arraycopy(ps.get(r), 0, prefix, 0, ps.get(r).length);
                    System.arraycopy(cs.get(r), 0, prefix, ps.get(r).length, j);
                    float want = RewardScoring.scoreIds(critic, List.of(prefix), 1, 1, root)[0];
                    assertEquals(want, v[r * l + j], 1e-5, "row " + r + " state " + j);
                }
            }
        }
    }
}
