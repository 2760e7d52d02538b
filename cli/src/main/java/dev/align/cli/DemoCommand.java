package dev.align.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code align demo [--out DIR] [--model DIR]}: the tiny base model through the post-training pipeline on
 * the bundled data, printing what each stage changes (see {@link Demo}).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Post-train the bundled tiny base model on the bundled data and show what changes:",
            "SFT on question/answer pairs, with exact match on held-out questions before and after."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "DIR",
            description = "output directory (default: ${DEFAULT-VALUE}); its stage directories are replaced")
    Path out;

    @Option(names = "--model", paramLabel = "DIR", description = "base model (default: models/tiny-base of the repository)")
    Path model;

    @Override
    public Integer call() {
        new Demo(out, model != null ? model : Demo.defaultModel(), System.out).run();
        return 0;
    }
}
