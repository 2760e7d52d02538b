package dev.align.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.generate.Generation;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.core.generate.SamplingParams;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code align bench generate}: greedy decoding speed of a randomly initialised llama (the SFT
 * benchmark's configuration by default: hidden 512, 8 layers, 8 heads, intermediate 1376, vocabulary
 * 8000), eos disabled, timed over whole {@code generate} calls (prefill included) as
 * {@code pytorch_bench.py generate} times HF's {@code model.generate}. Also prints the memory-bandwidth
 * bound: every decoding step reads every weight once, so tokens/s ≤ batch × copy bandwidth ÷ weight
 * bytes, with the copy bandwidth measured in the same run.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Greedy decoding tokens/s (KV cache, eos disabled) and the memory-bandwidth bound.")
final class BenchGenerateCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--batch", defaultValue = "1", description = "rows decoded together (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--prompt", defaultValue = "32", description = "prompt tokens per row (default ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = "--new", defaultValue = "64", description = "new tokens per row (default ${DEFAULT-VALUE})")
    int newTokens;

    @Option(names = "--runs", defaultValue = "5", description = "timed runs; the median is reported (default ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--warmup", defaultValue = "1", description = "untimed runs first (default ${DEFAULT-VALUE})")
    int warmup;

    @Mixin
    BenchModelOptions size = new BenchModelOptions();

    @Option(names = "--no-packed-weights", negatable = true, defaultValue = "true",
            description = "decode on packed weights (default; llama-family models then run each decoding step as one TorchScript call); --no-packed-weights: the plain weights, one DJL call per operator")
    boolean packedWeights;

    @Option(names = "--profile", description = "write a libtorch profiler trace (chrome://tracing JSON) of one extra run here")
    Path profile;

    @Override
    public Integer call() {
        if (batch < 1 || prompt < 1 || newTokens < 1 || runs < 1 || warmup < 0) {
            throw new BadInputException("--batch, --prompt, --new and --runs must be ≥ 1, --warmup ≥ 0");
        }
        ModelConfig cfg = size.config();
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.init(cfg, 0, root)) {
            Random rnd = new Random(0);
            List<long[]> prompts = new ArrayList<>();
            for (int r = 0; r < batch; r++) {
                long[] p = new long[prompt];
                for (int i = 0; i < prompt; i++) {
                    p[i] = 3 + rnd.nextInt(size.vocab - 3);
                }
                prompts.add(p);
            }
            Generator gen = new Generator(model, null).setPackWeights(packedWeights);
            GenerationConfig gc = GenerationConfig.of(newTokens, SamplingParams.greedy());
            for (int i = 0; i < warmup; i++) {
                gen.generate(prompts, gc);
            }
            double[] tps = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                List<Generation> out = gen.generate(prompts, gc);
                double s = (System.nanoTime() - t0) / 1e9;
                if (out.get(0).length() != newTokens) {
                    throw new IllegalStateException("generated " + out.get(0).length() + " tokens, expected " + newTokens);
                }
                tps[i] = batch * newTokens / s;
                System.err.printf("run %d: %.1f tokens/s (%.3f s)%n", i + 1, tps[i], s);
            }
            if (profile != null) {
                JniUtils.startProfile(false, true, false);
                gen.generate(prompts, gc);
                JniUtils.stopProfile(profile.toString());
                System.err.println("profile -> " + profile);
            }
            double median = median(tps);
            long weightBytes = weightBytesPerStep(model);
            double bandwidth = copyBandwidth(root);
            double bound = batch * bandwidth / weightBytes;
            System.err.printf("median %.1f tokens/s; weights read per step %.1f MB; copy bandwidth %.2f GB/s; "
                    + "bound %.1f tokens/s (%.0f%% of it)%n", median, weightBytes / 1e6, bandwidth / 1e9, bound,
                    100 * median / bound);
            ObjectNode j = JSON.createObjectNode();
            j.put("bench", "generate").put("batch", batch).put("prompt", prompt).put("new_tokens", newTokens)
                    .put("tokens_per_s", round(median)).put("runs", runs)
                    .put("weight_bytes_per_step", weightBytes).put("copy_gb_per_s", round(bandwidth / 1e9))
                    .put("bound_tokens_per_s", round(bound)).put("params", model.parameterCount())
                    .put("packed_weights", packedWeights).put("torch", Engines.torchVersion());
            j.putPOJO("tokens_per_s_runs", Arrays.stream(tps).map(BenchGenerateCommand::round).toArray());
            System.out.println(j);
        }
        return 0;
    }

    /**
     * Bytes of parameters a decoding step reads: all of them, except that an untied input embedding
     * only has B rows read (counted as nothing).
     */
    static long weightBytesPerStep(DecoderLM model) {
        long n = 0;
        for (DecoderLM.Param p : model.parameters()) {
            boolean lookupOnly = p.name().equals("pos_embed")
                    || (p.name().equals("embed") && !model.config().tieEmbeddings());
            if (!lookupOnly) {
                n += p.value().size() * 4;
            }
        }
        return n;
    }

    /**
     * Memory copy bandwidth in bytes/s, STREAM's convention (bytes read + bytes written): the median of
     * ten in-place copies of a 256 MiB FLOAT32 tensor into another.
     */
    static double copyBandwidth(NDManager m) {
        long n = 64L << 20; // floats
        try (NDArray src = m.ones(new Shape(n), DataType.FLOAT32); NDArray dst = m.zeros(new Shape(n), DataType.FLOAT32)) {
            double[] bw = new double[10];
            copy(src, dst, n); // touch both
            for (int i = 0; i < bw.length; i++) {
                long t0 = System.nanoTime();
                copy(src, dst, n);
                bw[i] = 2.0 * 4 * n / ((System.nanoTime() - t0) / 1e9);
            }
            return median(bw);
        }
    }

    private static void copy(NDArray src, NDArray dst, long n) {
        JniUtils.indexSet((PtNDArray) dst, (PtNDArray) src, new long[] {0}, new long[] {n}, new long[] {1});
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double round(double x) {
        return Math.round(x * 100) / 100.0;
    }
}
