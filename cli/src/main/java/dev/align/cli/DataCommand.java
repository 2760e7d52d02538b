package dev.align.cli;

import dev.align.core.BadInputException;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.DataReport;
import dev.align.datasets.DataSettings;
import dev.align.datasets.Datasets;
import dev.align.datasets.bundled.BundledGenerator;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code align data}: work with data files ({@code check}; {@code generate-bundled} for maintainers). */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Check data files before training.",
        subcommands = {DataCommand.Check.class, DataCommand.GenerateBundled.class})
final class DataCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * {@code align data check FILE --model DIR}: reads the whole file as training would (same
     * validation, tokenization and truncation) and prints the record count, the format, token-length
     * percentiles, what max_length would truncate or drop, and every bad record. Exit 0 when clean, 2
     * with errors.
     */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Validate a data file as training would, and print what it holds.",
                "Exit code 0 when every record is good, 2 otherwise."})
    static final class Check implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FILE", description = "data file (.jsonl, .json or .csv)")
        Path file;

        @Option(names = "--model", required = true, paramLabel = "DIR",
                description = "model or tokenizer directory (tokenizer.json, tokenizer_config.json)")
        Path model;

        @Option(names = "--format", defaultValue = "auto", paramLabel = "F",
                description = "auto (detect from the first record), language_modeling, prompt_completion, alpaca,"
                        + " prompt_only, preference, implicit_preference, unpaired_preference or ranking"
                        + " (default: ${DEFAULT-VALUE})")
        String format;

        @Option(names = "--max-length", paramLabel = "N",
                description = "count the sequences max_length N would truncate, and the examples it would drop")
        Integer maxLength;

        @Option(names = "--truncation-mode", defaultValue = "keep_start", paramLabel = "MODE",
                description = "keep_start or keep_end (default: ${DEFAULT-VALUE})")
        String truncationMode;

        @Option(names = "--field", paramLabel = "FIELD=COLUMN",
                description = "read FIELD from COLUMN, e.g. --field prompt=question --field completion=answer")
        Map<String, String> fields;

        @Option(names = "--completion-only-loss", defaultValue = "true", fallbackValue = "true", arity = "0..1",
                description = "loss on completion tokens only (default: ${DEFAULT-VALUE})")
        boolean completionOnlyLoss;

        @Option(names = "--assistant-only-loss", defaultValue = "true", fallbackValue = "true", arity = "0..1",
                description = "for conversations, loss on assistant turns only (default: ${DEFAULT-VALUE})")
        boolean assistantOnlyLoss;

        @Override
        public Integer call() {
            DataSettings s = DataSettings.defaults()
                    .withFormat(format)
                    .withFields(fields == null ? Map.of() : fields)
                    .withMaxLength(maxLength)
                    .withTruncationMode(truncationMode)
                    .withLoss(completionOnlyLoss, assistantOnlyLoss)
                    .withCache(false, null)
                    .validate();
            if (!Files.isRegularFile(file)) {
                throw new BadInputException(file + ": file not found");
            }
            DataReport r;
            try (Tokenizer tok = Tokenizer.load(model)) {
                r = Datasets.check(file, s, tok, null);
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(r.summary());
            if (r.records() == 0) {
                out.println(file + ": no records");
                out.flush();
                return 2;
            }
            if (r.badRecords() == 0) {
                out.println("ok: no bad records");
                out.flush();
                return 0;
            }
            out.println("bad records: " + r.badRecords());
            for (String p : r.problems()) {
                out.println(p);
            }
            out.flush();
            return 2;
        }
    }

    /**
     * {@code align data generate-bundled --out DIR}: regenerates the bundled data (maintainers only;
     * the checked-in copy lives in datasets/src/main/resources/bundled).
     */
    @Command(name = "generate-bundled", hidden = true, mixinStandardHelpOptions = true,
            description = "Regenerate the bundled data files into a directory (maintenance).")
    static final class GenerateBundled implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
        Path out;

        @Option(names = "--seed", paramLabel = "N", description = "seed (default: the checked-in files' seed)")
        Long seed;

        @Override
        public Integer call() {
            List<String> names = BundledGenerator.writeTo(out, seed == null ? BundledGenerator.DEFAULT_SEED : seed);
            PrintWriter w = spec.commandLine().getOut();
            long total = 0;
            for (String n : names) {
                long size = out.resolve(n).toFile().length();
                total += size;
                w.printf("%-26s %9d bytes%n", n, size);
            }
            w.printf("wrote %d files, %d bytes, to %s%n", names.size(), total, out);
            w.flush();
            return 0;
        }
    }
}
