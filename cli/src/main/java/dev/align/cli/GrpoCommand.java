package dev.align.cli;

import dev.align.po.grpo.GrpoRecipe;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code align grpo}: Group Relative Policy Optimization with reward functions and/or a reward model
 * (docs/rl.md), or with {@code eval_only=true} the greedy mean reward of a model on eval_file. Keys come
 * from {@code --config FILE.yaml} and {@code key=value} arguments (the command line wins); {@code --help}
 * lists every key with its default.
 */
@Command(name = "grpo", mixinStandardHelpOptions = true,
        description = {"Train a policy with GRPO: G sampled completions per prompt, group-relative",
            "advantages, a clipped objective (eval_only=true: greedy mean reward on eval_file).",
            "Writes the model, metrics and checkpoints to output_dir."})
final class GrpoCommand implements Callable<Integer> {
    @Mixin
    RunOptions run = new RunOptions();

    @CommandLine.Spec
    void setSpec(CommandLine.Model.CommandSpec spec) {
        spec.usageMessage().footer(ConfigHelp.recordKeys(GrpoRecipe.defaults()));
    }

    @Override
    public Integer call() {
        GrpoRecipe.Result r = GrpoRecipe.run(GrpoRecipe.config(run.config(), run.overrides()));
        printEval(r.evalMetrics());
        System.err.println((r.steps() > 0 ? "trained " + r.steps() + " steps -> " : "evaluated -> ") + r.outputDir());
        return 0;
    }

    /** One line: the greedy mean reward on eval_file, its std, the mean length, the prompts. */
    static void printEval(Map<String, Double> m) {
        if (!m.isEmpty()) {
            System.out.printf(Locale.ROOT, "eval (greedy): reward %.4f  reward_std %.4f  mean_length %.1f  (%d prompts)%n",
                    m.get("reward"), m.get("reward_std"), m.get("completions/mean_length"), m.get("prompts").longValue());
        }
    }
}
