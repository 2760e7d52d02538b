package dev.align.po.ppo;

import dev.align.datasets.bundled.Bundled;
import dev.align.po.rollout.Rewarder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The PPO step of {@code align demo}: PPO with the reward model trained by the demo's reward-model step,
 * on the prompts of the bundled Q&amp;A file (read as prompt-only records; the reference completions are not
 * used), and the mean held-out reward-model score before and after — GREEDY completions of every
 * {@code qa_test.jsonl} prompt. Settings are those of {@code configs/ppo-tiny.yaml}, aimed at the demo's
 * tiny model on 2 CPU cores: a short, gentle run, plus a rule that penalises answers of at most two words —
 * a tiny reward model scores such answers (never seen in its training data) high, and longer or faster
 * runs learn to give them (reward hacking; docs/rl.md).
 */
public final class PpoDemo {
    /**
     * The tiny-model settings, as {@code key=value} (the same values as {@code configs/ppo-tiny.yaml}, whose
     * comments give TRL's defaults; a test keeps the two equal).
     */
    public static final List<String> TINY = List.of(
            "dataset_format=prompt_only",
            "batch_size=16",
            "gradient_accumulation_steps=1",
            "num_mini_batches=2",
            "num_ppo_epochs=2",
            "response_length=20",
            "temperature=0.7",
            "learning_rate=2e-5",
            "lr_scheduler_type=constant",
            "kl_coef=0.05",
            "missing_eos_penalty=1.0",
            "reward_funcs=[regex]",
            "regex_pattern=^\\s*(\\S+\\s*){0,2}$",
            "reward_weights=[-5.0]",
            "max_steps=40",
            "max_grad_norm=1.0",
            "eval_batch_size=64",
            "logging_steps=5",
            "save_steps=1000",
            "save_total_limit=1",
            "seed=42");

    private PpoDemo() {}

    /**
     * The held-out mean reward-model score before and after (the reward model's part of the reward, without
     * the rule).
     *
     * @param before the starting model's greedy mean score on the eval prompts
     * @param after the trained model's
     * @param run the training run
     */
    public record Result(double before, double after, PpoRecipe.Result run) {}

    /** The reward model's mean score in an evaluation ({@code reward} when there is no reward model). */
    static double modelScore(Map<String, Double> eval) {
        return eval.getOrDefault("rewards/" + Rewarder.REWARD_MODEL + "/mean",
                eval.getOrDefault("reward", Double.NaN));
    }

    /**
     * Evaluates {@code model} on {@code evalFile} (into {@code outputDir}-base-eval), trains PPO with
     * {@code rewardModel} on {@code trainFile} into {@code outputDir}, and evaluates again.
     *
     * @param overrides further {@code key=value} settings (they win over {@link #TINY})
     */
    public static Result train(Path model, Path rewardModel, Path trainFile, Path evalFile, Path outputDir,
            List<String> overrides) {
        List<String> all = new ArrayList<>(TINY);
        all.add("model=" + model);
        all.add("reward_model=" + rewardModel);
        all.add("train_file=" + trainFile);
        all.add("eval_file=" + evalFile);
        all.addAll(overrides);
        List<String> base = new ArrayList<>(all);
        base.add("output_dir=" + outputDir.resolveSibling(outputDir.getFileName() + "-base-eval"));
        base.add("eval_only=true");
        double before = modelScore(PpoRecipe.run(PpoRecipe.config(null, base)).evalMetrics());
        all.add("output_dir=" + outputDir);
        PpoRecipe.Result run = PpoRecipe.run(PpoRecipe.config(null, all));
        return new Result(before, modelScore(run.evalMetrics()), run);
    }

    /**
     * The demo step: extracts the bundled data into {@code workDir/data} and trains from {@code sftModel} with
     * {@code rewardModel} (the demo's {@code workDir/rm}) on the prompts of {@code qa_train.jsonl} into
     * {@code workDir/ppo}, evaluating on the prompts of {@code qa_test.jsonl}.
     */
    public static Result trainOnBundled(Path sftModel, Path rewardModel, Path workDir, List<String> overrides) {
        Path data = Bundled.extractTo(workDir.resolve("data"));
        return train(sftModel, rewardModel, data.resolve("qa_train.jsonl"), data.resolve("qa_test.jsonl"),
                workDir.resolve("ppo"), overrides);
    }
}
