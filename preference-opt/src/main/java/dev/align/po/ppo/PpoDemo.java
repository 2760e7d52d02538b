package dev.align.po.ppo;

import dev.align.datasets.bundled.Bundled;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The PPO step of {@code align demo}: PPO with the reward model trained by the demo's reward-model step,
 * on the prompts of the bundled Q&amp;A file (read as prompt-only records; the reference completions are not
 * used), and the mean held-out reward-model score before and after — GREEDY completions of every
 * {@code qa_test.jsonl} prompt. Settings are those of {@code configs/ppo-tiny.yaml}, aimed at the demo's
 * tiny model on 2 CPU cores.
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
            "learning_rate=1e-5",
            "lr_scheduler_type=constant",
            "kl_coef=0.05",
            "missing_eos_penalty=1.0",
            "max_steps=30",
            "max_grad_norm=1.0",
            "eval_batch_size=64",
            "logging_steps=5",
            "save_steps=1000",
            "save_total_limit=1",
            "seed=42");

    private PpoDemo() {}

    /**
     * Held-out mean reward before and after.
     *
     * @param before the starting model's greedy mean reward on the eval prompts
     * @param after the trained model's
     * @param run the training run
     */
    public record Result(double before, double after, PpoRecipe.Result run) {}

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
        double before = PpoRecipe.run(PpoRecipe.config(null, base)).reward();
        all.add("output_dir=" + outputDir);
        PpoRecipe.Result run = PpoRecipe.run(PpoRecipe.config(null, all));
        return new Result(before, run.reward(), run);
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
