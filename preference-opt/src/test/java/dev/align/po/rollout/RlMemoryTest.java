package dev.align.po.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.align.core.Engines;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.core.generate.SamplingParams;
import dev.align.core.model.DecoderLM;
import dev.align.core.nd.Tensors;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.core.train.AdamW;
import dev.align.core.train.GradClip;
import dev.align.datasets.PromptExample;
import dev.align.po.ppo.KlPenalizedRewards;
import dev.align.po.rl.Gae;
import dev.align.po.rl.GroupAdvantages;
import dev.align.po.rl.GrpoLoss;
import dev.align.po.rl.KlEstimator;
import dev.align.po.rl.PpoLosses;
import dev.align.po.testing.RlFixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The online RL step leaks nothing: rollouts with the generation engine, reward-model scoring, the
 * reference's and the critic's gradient-free forwards, group advantages, KL-penalised rewards and GAE, the
 * GRPO and PPO losses with backward, clipping and AdamW — 60 steps keep the number of live NDArrays
 * constant after warm-up.
 */
@Tag("memory") // runs in its own JVM with a pinned heap (see the parent pom)
class RlMemoryTest {
    @Test
    void stepsKeepLiveArraysConstant() {
        try (NDManager root = Engines.newManager(); Tokenizer tok = Tokenizer.load(RlFixtures.policy());
                DecoderLM policy = DecoderLM.load(RlFixtures.policy(), root);
                DecoderLM ref = DecoderLM.load(RlFixtures.policy(), root);
                DecoderLM critic = DecoderLM.load(RlFixtures.rewardModel(), root);
                Rewarder rewarder = Rewarder.load(List.of(), new RewardArgs(List.of(), null,
                        RlFixtures.rewardModel().toString(), 1, null, 1, null, null, null), 8, root);
                AdamW opt = new AdamW(policy.parameters(), AdamW.Options.withWeightDecay(0));
                AdamW copt = new AdamW(critic.parameters(), AdamW.Options.withWeightDecay(0))) {
            policy.setTrainable(true);
            critic.setTrainable(true);
            List<PromptExample> rows = new ArrayList<>();
            for (String p : List.of("bedu", "bika bedo", "buka bido boka")) {
                for (int g = 0; g < 4; g++) {
                    rows.add(new PromptExample(1, tok.encode(p), p, null));
                }
            }
            GenerationConfig gen = GenerationConfig.forModel(RlFixtures.policy(), tok).withMaxNewTokens(6);
            Generator generator = new Generator(policy, tok);
            GrpoLoss grpo = new GrpoLoss(0.2, 0.2, 0.04, GrpoLoss.Aggregation.DAPO, 6);
            long afterWarmup = 0;
            for (int step = 1; step <= 60; step++) {
                Rollouts.Rollout ro = Rollouts.sample(generator, rows, gen.withSampling(SamplingParams.sample(1.0, step)),
                        0, 1);
                RolloutBatch b = ro.batch();
                float[] scores = rewarder.score(ro.rewardBatch(), ro.endedWithEos()).total();
                float[] refLp = b.forwardAll(5, root, 0, in -> RolloutBatch.logProbs(ref, in));
                float[] values = b.forwardAll(5, root, 0, in -> RolloutBatch.values(critic, in));
                int[] all = b.all();
                try (NDScope scope = new NDScope()) {
                    NDArray r = Tensors.floats(root, scores, new Shape(scores.length));
                    NDArray adv = GroupAdvantages.compute(r, 4, true).advantages();
                    NDArray mask = b.tensor(b.mask(), all, root);
                    NDArray old = b.tensor(ro.oldLogprobs(), all, root);
                    NDArray refT = b.tensor(refLp, all, root);
                    KlPenalizedRewards.Result kr = KlPenalizedRewards.compute(old, refT, mask, r, 0.05, KlEstimator.K1);
                    Gae.Result gae = Gae.compute(kr.rewards(), b.tensor(values, all, root).mul(mask), 1, 0.95);
                    try (GradientCollector gc = Engines.init().newGradientCollector()) {
                        RolloutBatch.Inputs in = b.inputs(all, root, 0);
                        NDArray logp = RolloutBatch.logProbs(policy, in);
                        NDArray l = grpo.compute(logp, old, refT, adv, mask).loss();
                        PpoLosses.Policy pol = PpoLosses.policy(logp, old, gae.advantages(), mask, 0.2);
                        PpoLosses.Value val = PpoLosses.value(RolloutBatch.values(critic, in), b.tensor(values, all, root),
                                gae.returns(), mask, 0.2);
                        gc.backward(l.add(pol.loss()).add(val.loss()));
                    }
                }
                GradClip.clipGlobalNorm(policy.parameters(), 1.0);
                opt.step(1e-4);
                copt.step(1e-4);
                opt.zeroGrad();
                copt.zeroGrad();
                if (step == 10) {
                    afterWarmup = live(root);
                }
            }
            assertEquals(afterWarmup, live(root), "live NDArrays after 10 and after 60 steps");
        }
    }

    private static long live(NDManager root) {
        return root.getParentManager().getManagedArrays().size();
    }
}
