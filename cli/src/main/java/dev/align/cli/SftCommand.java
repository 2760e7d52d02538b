package dev.align.cli;

import dev.align.sft.SftRecipe;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;

/**
 * {@code align sft [--config FILE.yaml] [--resume] [key=value ...]}: supervised fine-tuning, full or
 * LoRA, on prompt/completion, conversational, Alpaca or plain-text data (docs/sft.md). The keys and their
 * defaults are listed by {@code --help}, generated from the config records.
 */
@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Supervised fine-tuning (full or LoRA): cross-entropy on the completion tokens.",
            "Keys come from the defaults, then --config, then key=value (the command line wins)."})
final class SftCommand implements Callable<Integer> {
    @Mixin
    RunOptions run = new RunOptions();

    @Spec
    void spec(CommandSpec spec) {
        spec.usageMessage().footer(footer(SftRecipe.Mode.SFT, "SFT keys"));
    }

    @Override
    public Integer call() {
        return run(SftRecipe.Mode.SFT, run);
    }

    /** The help footer: the method's keys, then the shared training and data keys, with defaults. */
    static String footer(SftRecipe.Mode mode, String title) {
        Object[] d = SftRecipe.defaults(mode); // TrainingArgs, DataSettings, SftArgs
        return ConfigHelp.keys(title, d[2]) + ConfigHelp.keys("Training keys", d[0]) + ConfigHelp.keys("Data keys", d[1]);
    }

    /** Runs the recipe and prints what it did to stderr. */
    static int run(SftRecipe.Mode mode, RunOptions options) {
        SftRecipe.Result r = SftRecipe.run(mode, SftRecipe.config(mode, options.config(), options.overrides()));
        RunOptions.report(r.steps(), r.outputDir(), r.evalMetrics(), SftRecipe.EVAL_METRICS);
        return 0;
    }
}
