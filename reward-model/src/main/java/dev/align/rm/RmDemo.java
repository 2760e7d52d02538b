package dev.align.rm;

import dev.align.datasets.bundled.Bundled;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The reward-model step of {@code align demo}: train a reward model from the (SFT) model on the bundled
 * rankings and report held-out pairwise accuracy. Settings are those of {@code configs/rm-tiny.yaml},
 * aimed at the demo's tiny model on 2 CPU cores (well under a minute).
 */
public final class RmDemo {
    /**
     * The tiny-model settings, as {@code key=value} (the same values as {@code configs/rm-tiny.yaml}, whose
     * comments give TRL's defaults; a test keeps the two equal).
     */
    public static final List<String> TINY = List.of(
            "learning_rate=1e-3",
            "lr_scheduler_type=linear",
            "warmup_ratio=0.1",
            "epochs=0.5",
            "batch_size=8",
            "eval_batch_size=64",
            "max_grad_norm=1.0",
            "center_rewards_coefficient=0.01",
            "logging_steps=10",
            "save_steps=1000",
            "save_total_limit=1",
            "seed=42");

    private RmDemo() {}

    /**
     * Trains a reward model from {@code model} on {@code trainFile}, evaluates it on {@code evalFile}, and
     * writes it to {@code outputDir}.
     *
     * @param overrides further {@code key=value} settings (they win over {@link #TINY})
     */
    public static RmRecipe.Result train(Path model, Path trainFile, Path evalFile, Path outputDir, List<String> overrides) {
        List<String> all = new ArrayList<>(TINY);
        all.add("model=" + model);
        all.add("train_file=" + trainFile);
        all.add("eval_file=" + evalFile);
        all.add("output_dir=" + outputDir);
        all.addAll(overrides);
        return RmRecipe.run(RmRecipe.config(null, all));
    }

    /**
     * The demo step: extracts the bundled data into {@code workDir/data}, trains on
     * {@code rankings_train.jsonl} from {@code sftModel} into {@code workDir/rm}, and evaluates on
     * {@code rankings_test.jsonl}; {@link RmRecipe.Result#accuracy()} is the held-out pairwise accuracy.
     */
    public static RmRecipe.Result trainOnBundled(Path sftModel, Path workDir, List<String> overrides) {
        Path data = Bundled.extractTo(workDir.resolve("data"));
        return train(sftModel, data.resolve("rankings_train.jsonl"), data.resolve("rankings_test.jsonl"),
                workDir.resolve("rm"), overrides);
    }
}
