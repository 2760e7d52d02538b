package dev.align.core.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.model.SegmentedBackward;
import dev.align.core.scoring.LogProbs;
import dev.align.core.train.AdamW;
import dev.align.core.train.GradClip;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * The training benchmark behind {@code align bench sft}: the SFT step as the recipe runs it (forward,
 * token-mean cross-entropy over every position, backward, gradient clipping at 1.0, AdamW, zeroing) on
 * random tokens, timed after warm-up, with model FLOPs utilisation against an fp32 matmul timed in the
 * same run and the resident-memory peak against a memory model; then the gradient-free forward to token
 * log-probs on the same batch.
 */
public final class TrainBench {
    private TrainBench() {}

    /**
     * One benchmark result.
     *
     * @param parameters model parameters
     * @param tokensPerS trained tokens per second
     * @param msPerStep mean step time
     * @param msPerStepMin fastest step
     * @param achievedGflops tokens/s × FLOPs per token
     * @param matmulGflops fp32 2048³ matmul rate measured in this run
     * @param mfu achieved / matmul
     * @param peakRssMb peak resident memory of the process, MB
     * @param baseRssMb resident memory before the model was built, MB
     * @param modelMemoryMb weights + gradients + AdamW moments, MB
     * @param activationMb the activation estimate of the memory model, MB
     * @param forwardTokensPerS tokens per second of a gradient-free forward to token log-probs (the
     *     scoring path of {@code align logprobs}, DPO's reference model and PPO's scoring), same batch
     * @param forwardMfu forward tokens/s × one third of the training FLOPs per token / matmul
     */
    public record Result(long parameters, double tokensPerS, double msPerStep, double msPerStepMin,
            double achievedGflops, double matmulGflops, double mfu, double peakRssMb, double baseRssMb,
            double modelMemoryMb, double activationMb, double forwardTokensPerS, double forwardMfu) {

        /** (peak − base) / (weights + gradients + moments + activations). */
        public double memoryRatio() {
            return (peakRssMb - baseRssMb) / (modelMemoryMb + activationMb);
        }
    }

    /** The benchmark config: llama, hidden 512, 8 layers, 8 heads, intermediate 1376, vocab 8000. */
    public static ModelConfig benchConfig(int hidden, int layers, int heads, int kvHeads, int inter, int vocab) {
        ObjectNode j = new ObjectMapper().createObjectNode();
        j.put("model_type", "llama");
        j.putArray("architectures").add("LlamaForCausalLM");
        j.put("vocab_size", vocab);
        j.put("hidden_size", hidden);
        j.put("intermediate_size", inter);
        j.put("num_hidden_layers", layers);
        j.put("num_attention_heads", heads);
        j.put("num_key_value_heads", kvHeads);
        j.put("max_position_embeddings", 4096);
        j.put("rms_norm_eps", 1e-6);
        j.put("tie_word_embeddings", false);
        return ModelConfig.of(j, "benchmark config");
    }

    /** FLOPs per trained token, PaLM convention: 6 × matmul weights (embedding excluded) + 12·L·T·H. */
    public static double flopsPerToken(DecoderLM model, int seq) {
        long n = 0;
        for (DecoderLM.Param p : model.parameters()) {
            if (p.value().getShape().dimension() == 2 && !p.name().equals("embed")) {
                n += p.value().size();
            }
        }
        if (model.config().tieEmbeddings()) {
            n += (long) model.config().vocabSize() * model.config().hidden();
        }
        ModelConfig c = model.config();
        return 6.0 * n + 12.0 * c.layers() * seq * c.hidden();
    }

    /** fp32 n³ matmul rate in GFLOP/s (best of {@code reps} after one warm-up). */
    public static double matmulGflops(int n, int reps) {
        Engines.init();
        try (NDManager m = Engines.newManager()) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            a.matMul(b).close();
            double best = 0;
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    c.getFloat(0, 0); // sync
                }
                best = Math.max(best, 2.0 * n * n * n / ((System.nanoTime() - t0) / 1e9) / 1e9);
            }
            return best;
        }
    }

    /**
     * Activation memory of one step in the memory model (floats saved for backward, fp32): per token and
     * layer 12·H + 3·I (norm inputs and outputs, q/k/v and their rotated copies, attention output, gate,
     * up and activation), plus logits and their log-softmax, B·T·V each.
     */
    public static double activationBytes(ModelConfig c, int batch, int seq) {
        double perTokenLayer = 12.0 * c.hidden() + 3.0 * c.intermediate();
        return 4.0 * ((double) batch * seq * (c.layers() * perTokenLayer + 2.0 * c.vocabSize()));
    }

    /**
     * Whether the benchmark's training step runs segmented ({@link DecoderLM#setSegmentedBackward}), as
     * the recipes do: yes unless {@code -Dalign.bench.segmented=false} (for comparing with the plain
     * autograd step).
     */
    public static boolean segmented() {
        return !"false".equals(System.getProperty("align.bench.segmented"));
    }

    /**
     * The timed step's loss: token-mean cross-entropy over every labelled position, as {@code align sft}
     * computes it (the head applied in row chunks, {@link LogProbs#tokenMeanNll}). Differentiable.
     *
     * @param labels the labelled tokens of the batch
     */
    public static NDArray sftLoss(DecoderLM model, TokenBatch.Tensors4 t, long labels) {
        NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null); // [B,T,H]
        return LogProbs.tokenMeanNll(model, hidden, t, labels).value();
    }

    /** Runs the SFT step benchmark. */
    public static Result sft(ModelConfig cfg, int batch, int seq, int warmup, int steps, long seed) {
        Engines.init();
        double base = rssMb("VmRSS");
        double matmul = matmulGflops(2048, 5);
        Random rnd = new Random(seed);
        long[] ids = new long[batch * seq];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(cfg.vocabSize());
        }
        long[][] rows = new long[batch][];
        for (int r = 0; r < batch; r++) {
            rows[r] = Arrays.copyOfRange(ids, r * seq, (r + 1) * seq);
        }
        TokenBatch tb = TokenBatch.rightPadded(Arrays.asList(rows), new int[batch], 0);
        long labels = tb.labelCount();
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.init(cfg, seed, root)) {
            model.setTrainable(true);
            model.setSegmentedBackward(segmented());
            String impl = System.getProperty("align.bench.attention");
            if (impl != null) { // for comparing the attention kernels: sdpa (default) or eager
                model.setAttention(DecoderLM.AttentionImpl.valueOf(impl.toUpperCase(java.util.Locale.ROOT)));
            }
            try (AdamW opt = new AdamW(model.parameters(), AdamW.Options.DEFAULTS)) {
                double flops = flopsPerToken(model, seq);
                double total = 0;
                double min = Double.MAX_VALUE;
                for (int s = 0; s < warmup + steps; s++) {
                    long t0 = System.nanoTime();
                    try (NDScope scope = new NDScope()) {
                        TokenBatch.Tensors4 t = tb.toTensors(root, 0);
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            SegmentedBackward.backward(gc, sftLoss(model, t, labels));
                        }
                    }
                    GradClip.clipGlobalNorm(model.parameters(), 1.0);
                    opt.step(1e-4);
                    opt.zeroGrad();
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (s >= warmup) {
                        total += ms;
                        min = Math.min(min, ms);
                    }
                }
                double msPerStep = total / steps;
                double tokS = batch * (double) seq / (msPerStep / 1000);
                double achieved = tokS * flops / 1e9;
                long p = model.parameterCount();
                double peak = rssMb("VmHWM"); // the training step's peak, read before the forward timing
                double fwdS = 0;
                for (int s = 0; s < warmup + steps; s++) { // gradient-free forward, as scoring runs it
                    long t0 = System.nanoTime();
                    try (NDScope scope = new NDScope()) {
                        LogProbs.forBatch(model, tb.toTensors(root, 0)).sum().getFloat();
                    }
                    if (s >= warmup) {
                        fwdS += (System.nanoTime() - t0) / 1e9;
                    }
                }
                double fwdTokS = batch * (double) seq * steps / fwdS;
                return new Result(p, tokS, msPerStep, min, achieved, matmul, achieved / matmul,
                        peak, base, 16.0 * p / 1e6, activationBytes(cfg, batch, seq) / 1e6,
                        fwdTokS, fwdTokS * flops / 3 / 1e9 / matmul);
            }
        }
    }

    /** A field of /proc/self/status in MB (VmRSS now, VmHWM peak); 0 where unavailable. */
    public static double rssMb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

}
