package dev.align.po.rollout;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.generate.Generation;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.datasets.PromptExample;
import java.util.ArrayList;
import java.util.List;

/**
 * Sampling a rollout batch with the generation engine: batched decoding with the KV cache, the
 * configured sampler (temperature, top-k, top-p), seeded. Each completion comes back with its tokens
 * (eos included when generated), its text, and the old policy's per-token log-probs — the model's own
 * (raw, temperature 1) log-probs of the sampled tokens, which the update's recomputed log-probs are
 * compared with.
 */
public final class Rollouts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Rollouts() {}

    /**
     * A sampled rollout batch.
     *
     * @param prompts the prompt of each row (a prompt repeated G times for GRPO)
     * @param generations each row's completion
     * @param batch the token layout for teacher-forced forwards
     * @param oldLogprobs [B·L] the rollout's raw log-probs on the completion tokens, 0 on padding
     * @param endedWithEos per row, whether the completion ended with an eos token
     * @param seconds wall time of the generation
     */
    public record Rollout(List<PromptExample> prompts, List<Generation> generations, RolloutBatch batch,
            float[] oldLogprobs, boolean[] endedWithEos, double seconds) {

        /** Completion tokens generated (eos included). */
        public long completionTokens() {
            long n = 0;
            for (Generation g : generations) {
                n += g.length();
            }
            return n;
        }

        /** What the reward functions see. */
        public RewardBatch rewardBatch() {
            List<String> p = new ArrayList<>(prompts.size());
            List<String> c = new ArrayList<>(prompts.size());
            List<ObjectNode> x = new ArrayList<>(prompts.size());
            int[] lens = new int[prompts.size()];
            for (int i = 0; i < prompts.size(); i++) {
                PromptExample e = prompts.get(i);
                p.add(e.text());
                c.add(generations.get(i).text() == null ? "" : generations.get(i).text());
                x.add(e.extra() != null ? e.extra() : JSON.createObjectNode());
                lens[i] = generations.get(i).length();
            }
            return new RewardBatch(p, c, lens, x);
        }
    }

    /**
     * Samples one completion per row, {@code chunk} rows per generate call (all of them when {@code chunk}
     * is 0); chunk k samples with seed {@code cfg.sampling().seed() + k}.
     */
    public static Rollout sample(Generator generator, List<PromptExample> rows, GenerationConfig cfg, int chunk,
            long padId) {
        long t0 = System.nanoTime();
        List<long[]> ids = new ArrayList<>(rows.size());
        rows.forEach(r -> ids.add(r.ids()));
        int step = chunk <= 0 ? rows.size() : chunk;
        List<Generation> gens = new ArrayList<>(rows.size());
        for (int start = 0, k = 0; start < ids.size(); start += step, k++) {
            GenerationConfig c = cfg.withSampling(cfg.sampling().withSeed(cfg.sampling().seed() + k));
            gens.addAll(generator.generate(ids.subList(start, Math.min(ids.size(), start + step)), c));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<long[]> completions = new ArrayList<>(gens.size());
        List<float[]> raw = new ArrayList<>(gens.size());
        boolean[] eos = new boolean[gens.size()];
        for (int i = 0; i < gens.size(); i++) {
            Generation g = gens.get(i);
            completions.add(g.tokens());
            raw.add(g.rawLogprobs());
            eos[i] = g.finishReason() == Generation.FinishReason.EOS;
        }
        RolloutBatch batch = RolloutBatch.of(ids, completions, padId);
        return new Rollout(List.copyOf(rows), gens, batch, batch.perToken(raw), eos, seconds);
    }
}
