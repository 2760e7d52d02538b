package dev.align.po.rollout;

import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.core.generate.SamplingParams;
import dev.align.core.model.DecoderLM;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.PromptExample;
import dev.align.datasets.TokenizedDataset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Held-out evaluation of a policy: a GREEDY completion of every prompt of the eval file (deterministic,
 * so before/after comparisons are not sampling noise), scored by the run's reward.
 *
 * <p>Metrics: {@code reward} (mean), {@code reward_std} (population std over prompts),
 * {@code completions/mean_length} (tokens), {@code rewards/<source>/mean}, {@code prompts}.
 */
public final class Evaluation {
    private Evaluation() {}

    /**
     * Evaluates {@code model} on every prompt of {@code ds}, {@code batchSize} prompts per generate call.
     *
     * @param base eos ids, pad id and the maximum completion length; sampling is replaced by greedy
     */
    public static Map<String, Double> greedy(DecoderLM model, Tokenizer tok, TokenizedDataset ds, GenerationConfig base,
            Rewarder rewarder, int batchSize, long padId) {
        List<PromptExample> all = new ArrayList<>(ds.size());
        for (int i = 0; i < ds.size(); i++) {
            all.add(ds.prompt(i));
        }
        Rollouts.Rollout r = Rollouts.sample(new Generator(model, tok), all, base.withSampling(SamplingParams.greedy()),
                batchSize, padId);
        Rewarder.Scores s = rewarder.score(r.rewardBatch(), r.endedWithEos());
        double mean = Rewarder.mean(s.total());
        double var = 0;
        for (float x : s.total()) {
            var += (x - mean) * (x - mean);
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("reward", mean);
        m.put("reward_std", Math.sqrt(var / s.total().length));
        m.put("completions/mean_length", (double) r.completionTokens() / all.size());
        m.putAll(s.partMeans());
        m.put("prompts", (double) all.size());
        return m;
    }
}
