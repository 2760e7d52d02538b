package dev.align.cli;

import dev.align.po.dpo.DpoRecipe;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;

/**
 * {@code align dpo [--config FILE.yaml] [--resume] [key=value ...]}: DPO and its family (sigmoid/cDPO,
 * robust, hinge, ipo, simpo, orpo) on preference data; see docs/dpo.md. The keys and their defaults are
 * listed by {@code --help}, generated from the config records.
 */
@Command(name = "dpo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Direct preference optimisation and its family: sigmoid (DPO; cDPO with label_smoothing),"
            + " robust, hinge, ipo, simpo, orpo.",
            "Keys come from the defaults, then --config, then key=value (the command line wins)."})
final class DpoCommand implements Callable<Integer> {
    @Mixin
    RunOptions run = new RunOptions();

    @Spec
    void spec(CommandSpec spec) {
        Object[] d = DpoRecipe.defaults(); // TrainingArgs, DataSettings, DpoArgs
        spec.usageMessage().footer(
                ConfigHelp.keys("DPO keys", d[2]) + ConfigHelp.keys("Training keys", d[0])
                        + ConfigHelp.keys("Data keys", d[1]));
    }

    @Override
    public Integer call() {
        DpoRecipe.Result r = DpoRecipe.run(DpoRecipe.config(run.config(), run.overrides()));
        RunOptions.report(r.steps(), r.outputDir(), r.evalMetrics(), DpoRecipe.EVAL_METRICS);
        return 0;
    }
}
