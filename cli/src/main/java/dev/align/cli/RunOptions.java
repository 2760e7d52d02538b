package dev.align.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The options every training command takes ({@code sft}, {@code pretrain}, {@code rm}, {@code dpo},
 * {@code ppo}, {@code grpo}): {@code [--config FILE.yaml] [--resume] [key=value ...]}, mixed into each.
 */
final class RunOptions {
    @Option(names = "--config", paramLabel = "FILE.yaml", description = "a YAML file of keys (ready ones in configs/)")
    Path config;

    @Option(names = "--resume", description = "continue from the latest checkpoint in output_dir")
    boolean resume;

    @Parameters(paramLabel = "KEY=VALUE", arity = "0..*", description = "keys, overriding the config file")
    List<String> overrides = new ArrayList<>();

    /** The config file, or null. */
    Path config() {
        return config;
    }

    /** The {@code key=value} overrides, with {@code resume_from_checkpoint=latest} last under --resume. */
    List<String> overrides() {
        List<String> o = new ArrayList<>(overrides);
        if (resume) {
            o.add("resume_from_checkpoint=latest");
        }
        return o;
    }

    /**
     * Prints to stderr what a run that reports steps and named eval metrics did: the steps and output
     * directory, each eval metric, and where they were written.
     */
    static void report(long steps, Path outputDir, Map<String, Double> evalMetrics, String evalFile) {
        StringBuilder sb = new StringBuilder();
        if (steps > 0) {
            sb.append(String.format(Locale.ROOT, "trained %d steps -> %s%n", steps, outputDir));
        }
        for (Map.Entry<String, Double> e : evalMetrics.entrySet()) {
            sb.append(String.format(Locale.ROOT, "eval %-20s %.6f%n", e.getKey(), e.getValue()));
        }
        if (!evalMetrics.isEmpty()) {
            sb.append("eval metrics -> ").append(outputDir.resolve(evalFile)).append('\n');
        }
        System.err.print(sb);
    }
}
