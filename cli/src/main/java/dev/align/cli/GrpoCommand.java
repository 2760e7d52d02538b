package dev.align.cli;

import dev.align.po.grpo.GrpoRecipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
    @Option(names = "--config", paramLabel = "FILE.yaml", description = "a YAML file of keys (e.g. configs/grpo-tiny.yaml)")
    Path config;

    @Option(names = "--resume", description = "continue from the latest checkpoint in output_dir")
    boolean resume;

    @Parameters(paramLabel = "KEY=VALUE", description = "keys, overriding the config file")
    List<String> overrides = new ArrayList<>();

    @CommandLine.Spec
    void setSpec(CommandLine.Model.CommandSpec spec) {
        spec.usageMessage().footer(RmCommand.keys(GrpoRecipe.defaults()));
    }

    @Override
    public Integer call() {
        List<String> o = new ArrayList<>(overrides);
        if (resume) {
            o.add("resume_from_checkpoint=latest");
        }
        GrpoRecipe.Result r = GrpoRecipe.run(GrpoRecipe.config(config, o));
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
