package dev.align.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.BadInputException;
import dev.align.core.io.AtomicFiles;
import dev.align.core.model.ModelConfig;
import dev.align.po.dpo.DpoBench;
import dev.align.po.loss.PreferenceLosses;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code align bench dpo}: tokens/s of the DPO training step with precomputed reference log-probs next to
 * the SFT step's, on the SFT benchmark's configuration (llama, hidden 512, 8 layers, 8 heads, intermediate
 * 1376, vocabulary 8000; 8 rows of 256 tokens: 4 pairs for DPO), measured in alternating rounds in one
 * process (see {@link DpoBench} and docs/performance.md, section DPO).
 */
@Command(name = "dpo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "DPO step tokens/s (precomputed reference log-probs) next to SFT step tokens/s, same model and batch shape.")
final class BenchDpoCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--rows", defaultValue = "8", description = "rows per step: SFT examples, DPO 2 × pairs (default ${DEFAULT-VALUE})")
    int rows;

    @Option(names = "--seq", defaultValue = "256", description = "tokens per row (default ${DEFAULT-VALUE})")
    int seq;

    @Option(names = "--prompt", defaultValue = "64", description = "prompt tokens of each DPO row (default ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = "--loss-type", defaultValue = "sigmoid", description = "DPO objective (default ${DEFAULT-VALUE})")
    String lossType;

    @Option(names = "--warmup", defaultValue = "1", description = "untimed steps per measurement (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--steps", defaultValue = "3", description = "timed steps per measurement (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--rounds", defaultValue = "3", description = "alternating SFT/DPO rounds; medians reported (default ${DEFAULT-VALUE})")
    int rounds;

    @Mixin
    BenchModelOptions size = new BenchModelOptions();

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--json", description = "also write the result as JSON here")
    Path json;

    @Override
    public Integer call() {
        if (rows < 2 || rows % 2 != 0 || seq < 2 || prompt < 1 || prompt >= seq || steps < 1 || warmup < 0 || rounds < 1) {
            throw new BadInputException("--rows must be even (≥ 2), 1 ≤ --prompt < --seq, --steps and --rounds ≥ 1, --warmup ≥ 0");
        }
        if (!PreferenceLosses.TYPES.contains(lossType)) {
            throw new BadInputException("--loss-type: one of " + String.join(", ", PreferenceLosses.TYPES));
        }
        ModelConfig cfg = size.config();
        DpoBench.Result r = DpoBench.run(cfg, rows, seq, prompt, lossType, warmup, steps, rounds, seed);
        System.out.printf(Locale.ROOT, "model: llama hidden %d, %d layers, %d heads, inter %d, vocab %d (%,d parameters); "
                + "%d rows x %d tokens%n", size.hidden, size.layers, size.heads, size.inter, size.vocab, r.sft().parameters(),
                rows, seq);
        System.out.printf(Locale.ROOT, "sft step:  %8.1f tokens/s  %8.1f ms/step (min %.1f)  rounds %s%n",
                r.sft().tokensPerS(), r.sft().msPerStep(), r.sft().msPerStepMin(), fmt(r.sftRounds()));
        System.out.printf(Locale.ROOT, "dpo step:  %8.1f tokens/s  %8.1f ms/step (min %.1f)  rounds %s  (%s, %d pairs, "
                + "precomputed reference)%n", r.dpo().tokensPerS(), r.dpo().msPerStep(), r.dpo().msPerStepMin(),
                fmt(r.dpoRounds()), lossType, rows / 2);
        System.out.printf(Locale.ROOT, "dpo / sft: %.3f%n", r.ratio());
        if (json != null) {
            ObjectNode n = JSON.createObjectNode();
            n.put("rows", rows).put("seq", seq).put("prompt", prompt).put("loss_type", lossType);
            n.put("parameters", r.sft().parameters());
            n.put("sft_tokens_per_s", r.sft().tokensPerS()).put("dpo_tokens_per_s", r.dpo().tokensPerS());
            n.put("sft_ms_per_step", r.sft().msPerStep()).put("dpo_ms_per_step", r.dpo().msPerStep());
            n.put("ratio", r.ratio());
            n.set("sft_rounds", JSON.valueToTree(r.sftRounds()));
            n.set("dpo_rounds", JSON.valueToTree(r.dpoRounds()));
            AtomicFiles.writeString(json, n.toPrettyString() + "\n");
        }
        return 0;
    }

    private static String fmt(java.util.List<Double> v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.size(); i++) {
            sb.append(i > 0 ? ", " : "").append(String.format(Locale.ROOT, "%.1f", v.get(i)));
        }
        return sb.append(']').toString();
    }
}
