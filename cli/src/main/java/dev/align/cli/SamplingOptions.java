package dev.align.cli;

import dev.align.core.BadInputException;
import dev.align.core.generate.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The sampling flags shared by {@code align generate} and {@code align chat} (Hugging Face's meanings). */
final class SamplingOptions {
    @Option(names = "--temperature", defaultValue = "0",
            description = "sampling temperature; 0 = greedy (default ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens; 0 = off")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus: smallest set reaching probability p; 1 = off")
    double topP;

    @Option(names = "--min-p", defaultValue = "0", description = "drop tokens below min-p × the top probability; 0 = off")
    double minP;

    @Option(names = "--repetition-penalty", defaultValue = "1",
            description = "divide (multiply, if negative) the logits of tokens already present; 1 = off")
    double repetitionPenalty;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "new tokens per prompt at most (default ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--stop", description = "stop a row when its text contains this string (repeatable)")
    List<String> stops = new ArrayList<>();

    /** The parameters; option errors become exit-2 problems naming the flag. */
    SamplingParams params() {
        List<String> problems = new ArrayList<>();
        if (maxNewTokens < 1) {
            problems.add("--max-new-tokens: must be ≥ 1, got " + maxNewTokens);
        }
        for (String s : stops) {
            if (s.isEmpty()) {
                problems.add("--stop: must not be empty");
            }
        }
        SamplingParams p = null;
        try {
            p = new SamplingParams(temperature > 0, temperature, topK, topP, minP, repetitionPenalty, seed);
        } catch (IllegalArgumentException e) {
            problems.add("--" + e.getMessage().replace('_', '-')); // "top_p: ..." → "--top-p: ..."
        }
        if (!problems.isEmpty()) {
            throw new BadInputException(problems);
        }
        if (p.isGreedy() && (topK > 0 || topP < 1 || minP > 0)) {
            System.err.println("warning: --top-k, --top-p and --min-p apply only when sampling (--temperature > 0)");
        }
        return p;
    }
}
