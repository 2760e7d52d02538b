package dev.align.cli;

import dev.align.rm.RmRecipe;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code align rm}: trains a reward model on rankings or preference pairs (docs/reward-model.md), or with
 * {@code eval_only=true} evaluates one. Keys come from {@code --config FILE.yaml} and {@code key=value}
 * arguments (the command line wins); {@code --help} lists every key with its default.
 */
@Command(name = "rm", mixinStandardHelpOptions = true,
        description = {"Train a reward model on rankings or preference pairs (eval_only=true:",
            "evaluate one). Writes the model (HF *ForSequenceClassification, or with LoRA",
            "a PEFT adapter with its score head), metrics and checkpoints to output_dir."})
final class RmCommand implements Callable<Integer> {
    @Mixin
    RunOptions run = new RunOptions();

    @CommandLine.Spec
    void setSpec(CommandLine.Model.CommandSpec spec) {
        spec.usageMessage().footer(ConfigHelp.recordKeys(RmRecipe.defaults()));
    }

    @Override
    public Integer call() {
        RmRecipe.Result r = RmRecipe.run(RmRecipe.config(run.config(), run.overrides()));
        if (!r.evalMetrics().isEmpty()) {
            Map<String, Double> m = r.evalMetrics();
            System.out.printf(Locale.ROOT, "eval: loss %.4f  accuracy %.4f  margin %.4f  mean_reward %.4f  (%d pairs)%n",
                    m.get("loss"), m.get("accuracy"), m.get("margin"), m.get("mean_reward"), m.get("pairs").longValue());
        }
        System.err.println((r.steps() > 0 ? "trained " + r.steps() + " steps -> " : "evaluated -> ") + r.outputDir());
        return 0;
    }
}
