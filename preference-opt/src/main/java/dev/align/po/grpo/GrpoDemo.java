package dev.align.po.grpo;

import dev.align.datasets.bundled.Bundled;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The GRPO step of {@code align demo}: GRPO with the {@code exact_match} reward on the bundled verifiable
 * arithmetic prompts, starting from the SFT model, and the mean held-out reward before and after —
 * GREEDY completions of every {@code verifiable_test.jsonl} prompt scored by the same reward (the share
 * answered right). Settings are those of {@code configs/grpo-tiny.yaml}, aimed at the demo's tiny model on
 * 2 CPU cores.
 */
public final class GrpoDemo {
    /**
     * The tiny-model settings, as {@code key=value} (the same values as {@code configs/grpo-tiny.yaml}, whose
     * comments give TRL's defaults; a test keeps the two equal).
     */
    public static final List<String> TINY = List.of(
            "reward_funcs=[exact_match]",
            "num_generations=8",
            "batch_size=32",
            "max_completion_length=16",
            "temperature=1.0",
            "learning_rate=2e-5",
            "lr_scheduler_type=constant",
            "beta=0.0",
            "loss_type=dapo",
            "max_steps=250",
            "max_grad_norm=1.0",
            "eval_batch_size=64",
            "logging_steps=10",
            "save_steps=1000",
            "save_total_limit=1",
            "seed=42");

    private GrpoDemo() {}

    /**
     * Held-out mean reward before and after.
     *
     * @param before the starting model's greedy mean reward on the eval prompts
     * @param after the trained model's
     * @param run the training run
     */
    public record Result(double before, double after, GrpoRecipe.Result run) {
        /** (after − before) / before; infinite when before is 0 and after is not. */
        public double relativeGain() {
            return (after - before) / before;
        }
    }

    /**
     * Evaluates {@code model} on {@code evalFile} (into {@code outputDir}-base-eval), trains GRPO on
     * {@code trainFile} into {@code outputDir}, and evaluates again.
     *
     * @param overrides further {@code key=value} settings (they win over {@link #TINY})
     */
    public static Result train(Path model, Path trainFile, Path evalFile, Path outputDir, List<String> overrides) {
        List<String> all = new ArrayList<>(TINY);
        all.add("model=" + model);
        all.add("train_file=" + trainFile);
        all.add("eval_file=" + evalFile);
        all.addAll(overrides);
        List<String> base = new ArrayList<>(all);
        base.add("output_dir=" + outputDir.resolveSibling(outputDir.getFileName() + "-base-eval"));
        base.add("eval_only=true");
        double before = GrpoRecipe.run(GrpoRecipe.config(null, base)).reward();
        all.add("output_dir=" + outputDir);
        GrpoRecipe.Result run = GrpoRecipe.run(GrpoRecipe.config(null, all));
        return new Result(before, run.reward(), run);
    }

    /**
     * The demo step: extracts the bundled data into {@code workDir/data} and trains from {@code sftModel} on
     * {@code verifiable_train.jsonl} into {@code workDir/grpo}, evaluating on {@code verifiable_test.jsonl}.
     */
    public static Result trainOnBundled(Path sftModel, Path workDir, List<String> overrides) {
        Path data = Bundled.extractTo(workDir.resolve("data"));
        return train(sftModel, data.resolve("verifiable_train.jsonl"), data.resolve("verifiable_test.jsonl"),
                workDir.resolve("grpo"), overrides);
    }
}
