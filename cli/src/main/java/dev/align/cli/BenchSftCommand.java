package dev.align.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.bench.TrainBench;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.model.SegmentedBackward;
import dev.align.core.train.AdamW;
import dev.align.core.train.GradClip;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code align bench sft}: the SFT training step ({@link TrainBench#sft}: forward, token-mean
 * cross-entropy over every position, backward, clipping, AdamW, zeroing) of a randomly initialised llama
 * on random tokens — by default hidden 512, 8 layers, 8 heads, intermediate 1376, vocabulary 8000,
 * sequence 256, batch 8 (33.5M parameters), the configuration {@code pytorch_bench.py train} runs. Prints
 * tokens/s, ms/step, model FLOPs utilisation against an fp32 2048³ matmul timed in the same run, and the
 * resident-memory peak against the memory model (weights + gradients + AdamW moments + activations), and
 * the gradient-free forward's tokens/s.
 * {@code --profile} adds a libtorch profiler trace of extra steps and a table of self time per op.
 */
@Command(name = "sft", mixinStandardHelpOptions = true,
        description = "SFT training-step tokens/s and MFU (vs a measured fp32 matmul), peak memory vs the memory model;"
                + " then forward-only (gradient-free) tokens/s.")
final class BenchSftCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    BenchModelOptions size = new BenchModelOptions();

    @Option(names = "--seq", defaultValue = "256", description = "tokens per row (default ${DEFAULT-VALUE})")
    int seq;

    @Option(names = "--batch", defaultValue = "8", description = "rows per step (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--steps", defaultValue = "5", description = "timed steps (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--warmup", defaultValue = "1", description = "untimed steps first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--profile", paramLabel = "TRACE.json",
            description = "also profile --profile-steps extra steps with libtorch's profiler: chrome://tracing JSON here,"
                    + " and a table of self time per op")
    Path profile;

    @Option(names = "--profile-steps", defaultValue = "2")
    int profileSteps;

    @Override
    public Integer call() {
        if (batch < 1 || seq < 2 || steps < 1 || warmup < 0 || profileSteps < 1) {
            throw new BadInputException("--batch and --steps must be ≥ 1, --seq ≥ 2, --warmup ≥ 0");
        }
        ModelConfig cfg = size.config();
        TrainBench.Result r = TrainBench.sft(cfg, batch, seq, warmup, steps, seed);
        double model = r.modelMemoryMb();
        System.err.printf(Locale.ROOT, "llama hidden %d, %d layers, %d heads, intermediate %d, vocabulary %d: %.1fM parameters;"
                + " batch %d x %d tokens, %d timed steps after %d%n", size.hidden, size.layers, size.heads, size.inter, size.vocab,
                r.parameters() / 1e6, batch, seq, steps, warmup);
        System.err.printf(Locale.ROOT, "%.1f tokens/s, %.0f ms/step (fastest %.0f)%n", r.tokensPerS(), r.msPerStep(),
                r.msPerStepMin());
        System.err.printf(Locale.ROOT, "%.1f GFLOP/s achieved vs %.1f GFLOP/s fp32 2048^3 matmul: MFU %.2f%n",
                r.achievedGflops(), r.matmulGflops(), r.mfu());
        System.err.printf(Locale.ROOT, "peak RSS %.0f MB (%.0f MB before the model): growth %.0f MB vs memory model %.0f MB"
                + " (weights+gradients+moments %.0f + activations %.0f): %.2fx%n", r.peakRssMb(), r.baseRssMb(),
                r.peakRssMb() - r.baseRssMb(), model + r.activationMb(), model, r.activationMb(), r.memoryRatio());
        System.err.printf(Locale.ROOT, "forward without gradients (to token log-probs, same batch): %.1f tokens/s,"
                + " MFU %.2f%n", r.forwardTokensPerS(), r.forwardMfu());
        ObjectNode j = JSON.createObjectNode();
        j.put("bench", "sft").put("params", r.parameters()).put("batch", batch).put("seq", seq).put("steps", steps)
                .put("tokens_per_s", round(r.tokensPerS())).put("ms_per_step", round(r.msPerStep()))
                .put("ms_per_step_min", round(r.msPerStepMin())).put("achieved_gflops", round(r.achievedGflops()))
                .put("matmul_gflops", round(r.matmulGflops())).put("mfu", round(r.mfu() * 1000) / 1000)
                .put("peak_rss_mb", round(r.peakRssMb())).put("base_rss_mb", round(r.baseRssMb()))
                .put("model_memory_mb", round(model)).put("activation_mb", round(r.activationMb()))
                .put("memory_ratio", round(r.memoryRatio()))
                .put("forward_tokens_per_s", round(r.forwardTokensPerS()))
                .put("forward_mfu", round(r.forwardMfu() * 1000) / 1000).put("torch", Engines.torchVersion());
        System.out.println(j);
        if (profile != null) {
            profile(cfg);
            List<OpTime> ops = selfTimes(profile);
            System.err.println("profile -> " + profile);
            System.err.print(table(ops, profileSteps, 25));
        }
        return 0;
    }

    /**
     * Runs one warm-up step, then {@code --profile-steps} steps under libtorch's profiler: the same step
     * as {@link TrainBench#sft} (same model, tokens and optimizer), written as a chrome trace.
     */
    private void profile(ModelConfig cfg) {
        Random rnd = new Random(seed);
        List<long[]> rows = new ArrayList<>();
        for (int r = 0; r < batch; r++) {
            long[] ids = new long[seq];
            for (int i = 0; i < seq; i++) {
                ids[i] = rnd.nextInt(cfg.vocabSize());
            }
            rows.add(ids);
        }
        TokenBatch tb = TokenBatch.rightPadded(rows, new int[batch], 0);
        long labels = tb.labelCount();
        Engine engine = Engines.init();
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.init(cfg, seed, root);
                AdamW opt = new AdamW(model.parameters(), AdamW.Options.DEFAULTS)) {
            model.setTrainable(true);
            model.setSegmentedBackward(TrainBench.segmented());
            for (int s = 0; s < 1 + profileSteps; s++) {
                if (s == 1) {
                    JniUtils.startProfile(false, true, false);
                }
                try (NDScope scope = new NDScope()) {
                    TokenBatch.Tensors4 t = tb.toTensors(root, 0);
                    try (GradientCollector gc = engine.newGradientCollector()) {
                        SegmentedBackward.backward(gc, TrainBench.sftLoss(model, t, labels));
                    }
                }
                GradClip.clipGlobalNorm(model.parameters(), 1.0);
                opt.step(1e-4);
                opt.zeroGrad();
            }
            JniUtils.stopProfile(profile.toString());
        }
    }

    /**
     * Self time of one op name over a trace.
     *
     * @param name the op (e.g. {@code aten::mm})
     * @param calls how many times it ran
     * @param selfUs its time minus the time of ops it called, µs
     */
    record OpTime(String name, long calls, double selfUs) {}

    /**
     * Self time per op of a chrome trace (a JSON array of events, or {@code {"traceEvents": [...]}}):
     * complete events ({@code "ph": "X"}) nested per thread by time, each op's duration minus its
     * children's; sorted by self time, largest first.
     */
    static List<OpTime> selfTimes(Path trace) {
        JsonNode root;
        try {
            root = JSON.readTree(trace.toFile());
        } catch (IOException e) {
            throw new AlignException(trace + ": cannot read the profiler trace: " + e.getMessage(), e);
        }
        JsonNode events = root.isArray() ? root : root.path("traceEvents");
        Map<String, List<double[]>> byThread = new HashMap<>(); // tid -> {ts, dur, nameIndex}
        List<String> names = new ArrayList<>();
        Map<String, Integer> nameIndex = new HashMap<>();
        for (JsonNode e : events) {
            if (!"X".equals(e.path("ph").asText()) || !e.has("dur")) {
                continue;
            }
            String name = e.path("name").asText();
            int idx = nameIndex.computeIfAbsent(name, n -> {
                names.add(n);
                return names.size() - 1;
            });
            String tid = e.path("pid").asText() + "/" + e.path("tid").asText();
            byThread.computeIfAbsent(tid, k -> new ArrayList<>())
                    .add(new double[] {e.path("ts").asDouble(), e.path("dur").asDouble(), idx});
        }
        double[] self = new double[names.size()];
        long[] calls = new long[names.size()];
        for (List<double[]> evs : byThread.values()) {
            evs.sort(Comparator.<double[]>comparingDouble(x -> x[0]).thenComparing(x -> -x[1]));
            Deque<double[]> stack = new ArrayDeque<>(); // {end, nameIndex}
            for (double[] ev : evs) {
                while (!stack.isEmpty() && stack.peek()[0] <= ev[0]) {
                    stack.pop();
                }
                int idx = (int) ev[2];
                self[idx] += ev[1];
                calls[idx]++;
                if (!stack.isEmpty()) {
                    self[(int) stack.peek()[1]] -= ev[1];
                }
                stack.push(new double[] {ev[0] + ev[1], idx});
            }
        }
        List<OpTime> out = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            out.add(new OpTime(names.get(i), calls[i], self[i]));
        }
        out.sort(Comparator.comparingDouble(OpTime::selfUs).reversed());
        return out;
    }

    /** The top {@code top} ops: self ms per step, share of the total, calls per step. */
    static String table(List<OpTime> ops, int steps, int top) {
        double total = 0;
        for (OpTime o : ops) {
            total += o.selfUs();
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-56s %10s %7s %10s%n", "op (self time)",
                "ms/step", "share", "calls/step"));
        for (OpTime o : ops.subList(0, Math.min(top, ops.size()))) {
            String name = o.name().length() > 56 ? o.name().substring(0, 53) + "..." : o.name();
            sb.append(String.format(Locale.ROOT, "%-56s %10.1f %6.1f%% %10.1f%n", name, o.selfUs() / 1000 / steps,
                    100 * o.selfUs() / total, (double) o.calls() / steps));
        }
        sb.append(String.format(Locale.ROOT, "%-56s %10.1f%n", "all ops", total / 1000 / steps));
        return sb.toString();
    }

    private static double round(double x) {
        return Math.round(x * 100) / 100.0;
    }
}
