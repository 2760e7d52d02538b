package dev.align.cli;

import dev.align.sft.SftRecipe;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;

/**
 * {@code align pretrain [--config FILE.yaml] [--resume] [key=value ...]}: the SFT recipe with the loss on
 * every token, packed rows, over {@code {"text"}} data; {@code model} may be a Hugging Face directory, a
 * directory holding only {@code config.json}, or a config file (random initialisation from {@code seed}),
 * with the tokenizer from {@code tokenizer: DIR}. See docs/sft.md.
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Language-model training on plain text (loss on every token, packed rows), from a model"
            + " or from a config.json alone (random initialisation).",
            "Keys come from the defaults, then --config, then key=value (the command line wins)."})
final class PretrainCommand implements Callable<Integer> {
    @Mixin
    RunOptions run = new RunOptions();

    @Spec
    void spec(CommandSpec spec) {
        spec.usageMessage().footer(SftCommand.footer(SftRecipe.Mode.PRETRAIN, "Pre-training keys"));
    }

    @Override
    public Integer call() {
        return SftCommand.run(SftRecipe.Mode.PRETRAIN, run);
    }
}
