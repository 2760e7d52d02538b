package dev.align.po.dpo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import dev.align.core.io.AtomicFiles;
import dev.align.datasets.bundled.Bundled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The DPO part of {@code align demo}: DPO of the demo's SFT model on the bundled preference pairs
 * ({@code preferences_train.jsonl}), evaluated on the held-out pairs ({@code preferences_test.jsonl},
 * questions about facts the training pairs never ask about), with settings for a tiny model on two CPU
 * cores ({@link #SETTINGS}, the same as {@code configs/dpo-tiny.yaml}). The win-rate against the SFT model
 * is {@link WinRate}, wired by the demo to the generator and the reward model.
 */
public final class DpoDemo {
    /**
     * The demo's keys (configs/dpo-tiny.yaml holds the same): one epoch over the 1,096 training pairs in
     * batches of 16 (69 steps), the reference log-probs precomputed so training runs the policy alone.
     */
    public static final List<String> SETTINGS = List.of(
            "loss_type=sigmoid",
            "beta=0.1",
            "rpo_alpha=1.0",
            "learning_rate=3e-4",
            "lr_scheduler_type=linear",
            "warmup_ratio=0.1",
            "batch_size=16",
            "eval_batch_size=64",
            "epochs=1",
            "max_length=128",
            "precompute_ref_log_probs=true",
            "logging_steps=10",
            "save_steps=1000",
            "seed=42");

    private DpoDemo() {}

    /**
     * What the DPO step produced.
     *
     * @param modelDir the DPO model (Hugging Face directory)
     * @param heldOut the metrics over the held-out pairs (TRL's names)
     */
    public record Result(Path modelDir, Map<String, Double> heldOut) {
        /** Held-out {@code rewards/accuracies}: share of pairs where the DPO model's implicit reward prefers the chosen. */
        public double heldOutAccuracy() {
            return heldOut.get("rewards/accuracies");
        }
    }

    /**
     * DPOs {@code sftModel} on the bundled preferences.
     *
     * @param workDir the bundled pairs go to {@code workDir/data}, the run to {@code workDir/dpo}
     * @param overrides more {@code key=value} settings (they win over {@link #SETTINGS})
     */
    public static Result run(Path sftModel, Path workDir, List<String> overrides) {
        Path data = workDir.resolve("data");
        Path train = data.resolve("preferences_train.jsonl");
        Path test = data.resolve("preferences_test.jsonl");
        AtomicFiles.writeString(train, new String(Bundled.read("preferences_train.jsonl"), StandardCharsets.UTF_8));
        AtomicFiles.writeString(test, new String(Bundled.read("preferences_test.jsonl"), StandardCharsets.UTF_8));
        Path out = workDir.resolve("dpo");
        List<String> keys = new ArrayList<>(SETTINGS);
        keys.addAll(List.of("model=" + sftModel, "train_file=" + train, "eval_file=" + test, "output_dir=" + out));
        keys.addAll(overrides);
        DpoRecipe.Result r = DpoRecipe.run(DpoRecipe.config(null, keys));
        return new Result(out, r.evalMetrics());
    }

    /** The prompts of the held-out bundled preference pairs, the first {@code n} (all when n ≤ 0). */
    public static List<String> heldOutPrompts(int n) {
        ObjectMapper json = new ObjectMapper();
        List<String> out = new ArrayList<>();
        String text = new String(Bundled.read("preferences_test.jsonl"), StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
            if (line.isBlank() || (n > 0 && out.size() == n)) {
                continue;
            }
            try {
                JsonNode r = json.readTree(line);
                out.add(r.get("prompt").asText());
            } catch (IOException e) {
                throw new AlignException("bundled preferences_test.jsonl: " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** The two lines the demo prints. */
    public static String report(Result dpo, WinRate.Result winRate) {
        return String.format(Locale.ROOT, "DPO vs SFT win-rate on %d held-out prompts (judged by the reward model): %.3f"
                + " (%d wins, %d ties, %d losses)%nDPO held-out rewards/accuracies: %.3f%n", winRate.prompts(),
                winRate.winRate(), winRate.wins(), winRate.ties(), winRate.losses(), dpo.heldOutAccuracy());
    }
}
