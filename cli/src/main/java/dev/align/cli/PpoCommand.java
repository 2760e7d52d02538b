package dev.align.cli;

import dev.align.po.ppo.PpoRecipe;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code align ppo}: PPO with a reward model, a critic initialised from it, a KL penalty to the reference
 * and GAE (docs/rl.md), or with {@code eval_only=true} the greedy mean reward of a model on eval_file.
 * Keys come from {@code --config FILE.yaml} and {@code key=value} arguments (the command line wins);
 * {@code --help} lists every key with its default.
 */
@Command(name = "ppo", mixinStandardHelpOptions = true,
        description = {"Train a policy with PPO against a reward model (and/or reward functions), with a",
            "critic initialised from the reward model and a KL penalty to the reference",
            "(eval_only=true: greedy mean reward on eval_file). Writes the policy, the critic",
            "(value_model/), metrics and checkpoints to output_dir."})
final class PpoCommand implements Callable<Integer> {
    @Mixin
    RunOptions run = new RunOptions();

    @CommandLine.Spec
    void setSpec(CommandLine.Model.CommandSpec spec) {
        spec.usageMessage().footer(ConfigHelp.recordKeys(PpoRecipe.defaults()));
    }

    @Override
    public Integer call() {
        PpoRecipe.Result r = PpoRecipe.run(PpoRecipe.config(run.config(), run.overrides()));
        GrpoCommand.printEval(r.evalMetrics());
        System.err.println((r.steps() > 0 ? "trained " + r.steps() + " steps -> " : "evaluated -> ") + r.outputDir());
        return 0;
    }
}
