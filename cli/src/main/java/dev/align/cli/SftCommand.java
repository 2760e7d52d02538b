package dev.align.cli;

import dev.align.sft.SftRecipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code align sft [--config FILE.yaml] [--resume] [key=value ...]}: supervised fine-tuning, full or
 * LoRA, on prompt/completion, conversational, Alpaca or plain-text data (docs/sft.md). The keys and their
 * defaults are listed by {@code --help}, generated from the config records.
 */
@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Supervised fine-tuning (full or LoRA): cross-entropy on the completion tokens.",
            "Keys come from the defaults, then --config, then key=value (the command line wins)."})
final class SftCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE.yaml", description = "YAML file of keys (e.g. configs/sft-tiny.yaml)")
    Path config;

    @Option(names = "--resume", description = "continue from the latest checkpoint in output_dir")
    boolean resume;

    @Parameters(paramLabel = "KEY=VALUE", arity = "0..*", description = "config overrides, e.g. learning_rate=1e-4 lora_r=8")
    List<String> overrides = new ArrayList<>();

    @Spec
    void spec(CommandSpec spec) {
        spec.usageMessage().footer(footer(SftRecipe.Mode.SFT, "SFT keys"));
    }

    @Override
    public Integer call() {
        return run(SftRecipe.Mode.SFT, config, resume, overrides);
    }

    /** The help footer: the method's keys, then the shared training and data keys, with defaults. */
    static String footer(SftRecipe.Mode mode, String title) {
        Object[] d = SftRecipe.defaults(mode); // TrainingArgs, DataSettings, SftArgs
        return ConfigHelp.keys(title, d[2]) + ConfigHelp.keys("Training keys", d[0]) + ConfigHelp.keys("Data keys", d[1]);
    }

    /** Runs the recipe and prints what it did to stderr. */
    static int run(SftRecipe.Mode mode, Path config, boolean resume, List<String> overrides) {
        List<String> o = new ArrayList<>(overrides);
        if (resume) {
            o.add("resume_from_checkpoint=latest");
        }
        SftRecipe.Result r = SftRecipe.run(mode, SftRecipe.config(mode, config, o));
        StringBuilder sb = new StringBuilder();
        if (r.steps() > 0) {
            sb.append(String.format(Locale.ROOT, "trained %d steps -> %s%n", r.steps(), r.outputDir()));
        }
        for (Map.Entry<String, Double> e : r.evalMetrics().entrySet()) {
            sb.append(String.format(Locale.ROOT, "eval %-20s %.6f%n", e.getKey(), e.getValue()));
        }
        if (!r.evalMetrics().isEmpty()) {
            sb.append("eval metrics -> ").append(r.outputDir().resolve(SftRecipe.EVAL_METRICS)).append('\n');
        }
        System.err.print(sb);
        return 0;
    }
}
