package dev.align.cli;

import dev.align.core.BadInputException;
import dev.align.core.bench.TrainBench;
import dev.align.core.model.ModelConfig;
import picocli.CommandLine.Option;

/**
 * The benchmark model's size, shared by {@code align bench sft|dpo|generate}: a llama of hidden 512,
 * 8 layers, 8 heads, intermediate 1376, vocabulary 8000 by default ({@link TrainBench#benchConfig}).
 */
final class BenchModelOptions {
    @Option(names = "--hidden", defaultValue = "512")
    int hidden;

    @Option(names = "--layers", defaultValue = "8")
    int layers;

    @Option(names = "--heads", defaultValue = "8")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "0", description = "key/value heads (0: as many as heads)")
    int kvHeads;

    @Option(names = "--inter", defaultValue = "1376")
    int inter;

    @Option(names = "--vocab", defaultValue = "8000")
    int vocab;

    /** The model config these options describe; a bad combination is a {@link BadInputException}. */
    ModelConfig config() {
        try {
            return TrainBench.benchConfig(hidden, layers, heads, kvHeads > 0 ? kvHeads : heads, inter, vocab);
        } catch (RuntimeException e) {
            throw new BadInputException("bench config: " + e.getMessage());
        }
    }
}
