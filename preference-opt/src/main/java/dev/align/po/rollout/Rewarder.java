package dev.align.po.rollout;

import ai.djl.ndarray.NDManager;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.RewardScoring;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.Datasets;
import dev.align.datasets.PromptExample;
import dev.align.datasets.TokenizedDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reward of a rollout: Σ_i w_i·f_i(completions) over the configured reward functions, plus
 * w_rm·RM(prompt + completion + eos) when a reward model is configured, minus
 * {@code missing_eos_penalty} for completions that did not end with eos. The reward model runs without
 * gradients, batched ({@link RewardScoring}).
 */
public final class Rewarder implements AutoCloseable {
    /** The reward model's name in the per-source metrics. */
    public static final String REWARD_MODEL = "reward_model";

    private final List<RewardFunctions.Named> functions;
    private final RewardArgs args;
    private final DecoderLM model;
    private final Tokenizer tok;
    private final long padId;
    private final int batchSize;
    private final NDManager root;

    /**
     * The rewards and their parts.
     *
     * @param total [N] the reward of each completion
     * @param parts per source (reward function or {@link #REWARD_MODEL}), its unweighted scores [N]
     */
    public record Scores(float[] total, Map<String, float[]> parts) {
        /** Mean of each part, as metrics {@code rewards/<name>/mean}. */
        public Map<String, Double> partMeans() {
            Map<String, Double> m = new LinkedHashMap<>();
            parts.forEach((k, v) -> m.put("rewards/" + k + "/mean", mean(v)));
            return m;
        }
    }

    private Rewarder(List<RewardFunctions.Named> functions, RewardArgs args, DecoderLM model, Tokenizer tok, int batchSize,
            NDManager root) {
        this.functions = functions;
        this.args = args;
        this.model = model;
        this.tok = tok;
        this.padId = tok == null ? 0 : Datasets.padId(tok);
        this.batchSize = batchSize;
        this.root = root;
    }

    /**
     * The reward: {@code functions} (made first, by {@link RewardFunctions#create}, so that a bad class name
     * fails before anything is loaded) and the reward model of {@code args}, loaded now.
     *
     * @param batchSize sequences per reward-model forward
     */
    public static Rewarder load(List<RewardFunctions.Named> functions, RewardArgs args, int batchSize, NDManager root) {
        if (args.rewardModel() == null || args.rewardModel().isBlank()) {
            return new Rewarder(functions, args, null, null, batchSize, root);
        }
        Path dir = checkRewardModelDir(args.rewardModel(), "reward_model");
        Tokenizer tok = Tokenizer.load(dir);
        try {
            DecoderLM m = DecoderLM.load(dir, root);
            try {
                RewardScoring.requireRewardHead(m, "reward_model: " + dir);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
            return new Rewarder(functions, args, m, tok, batchSize, root);
        } catch (RuntimeException e) {
            tok.close();
            throw e;
        }
    }

    /** Checks that {@code dir} is a full model directory (a LoRA adapter must be merged first). */
    public static Path checkRewardModelDir(String dir, String key) {
        Path p = Path.of(dir);
        if (!Files.isDirectory(p)) {
            throw new BadInputException(key + ": " + p + " is not a directory");
        }
        if (!Files.isRegularFile(p.resolve("config.json"))) {
            if (Files.isRegularFile(p.resolve("adapter_config.json"))) {
                throw new BadInputException(key + ": " + p + " is a LoRA adapter; use a full reward model (train it with"
                        + " merge_lora: true and use its merged/ directory, or run align merge)");
            }
            throw new BadInputException(key + ": " + p + " is not a model directory (no config.json)");
        }
        return p;
    }

    /**
     * Fails, listing every record, unless each prompt of {@code ds} has the extra columns the reward
     * functions need ({@code FILE:LINE: answer: missing field (exact_match needs it)}).
     */
    public static void checkFields(List<RewardFunctions.Named> functions, TokenizedDataset ds) {
        if (ds == null) {
            return;
        }
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < ds.size(); i++) {
            PromptExample p = ds.prompt(i);
            for (RewardFunctions.Named f : functions) {
                for (String field : f.function().requiredFields()) {
                    if (p.extra() == null || p.extra().get(field) == null || p.extra().get(field).isNull()) {
                        problems.add(ds.report().file() + ":" + p.line() + ": " + field + ": missing field (" + f.name()
                                + " needs it)");
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new BadInputException(problems);
        }
    }

    /**
     * Scores a batch.
     *
     * @param endedWithEos per completion, whether it ended with an eos token
     */
    public Scores score(RewardBatch batch, boolean[] endedWithEos) {
        int n = batch.size();
        float[] total = new float[n];
        Map<String, float[]> parts = new LinkedHashMap<>();
        for (RewardFunctions.Named f : functions) {
            float[] s = f.function().score(batch);
            if (s == null || s.length != n) {
                throw new AlignException("reward function " + f.name() + " returned " + (s == null ? "null" : s.length
                        + " rewards") + " for " + n + " completions");
            }
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(s[i])) {
                    throw new AlignException("reward function " + f.name() + " returned " + s[i] + " for completion " + i
                            + ": rewards must be finite");
                }
                total[i] += (float) (f.weight() * s[i]);
            }
            parts.put(f.name(), s);
        }
        if (model != null) {
            float[] s = RewardScoring.score(model, tok, batch.prompts(), batch.completions(), batchSize, padId, root);
            for (int i = 0; i < n; i++) {
                total[i] += (float) (args.rewardModelWeight() * s[i]);
            }
            parts.put(REWARD_MODEL, s);
        }
        if (args.missingEosPenalty() != null) {
            for (int i = 0; i < n; i++) {
                if (!endedWithEos[i]) {
                    total[i] -= args.missingEosPenalty().floatValue();
                }
            }
        }
        return new Scores(total, parts);
    }

    /** Whether a reward model is part of the reward. */
    public boolean hasModel() {
        return model != null;
    }

    static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    @Override
    public void close() {
        if (model != null) {
            model.close();
            tok.close();
        }
    }
}
