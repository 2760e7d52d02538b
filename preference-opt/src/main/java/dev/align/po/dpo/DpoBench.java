package dev.align.po.dpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.align.core.Engines;
import dev.align.core.bench.TrainBench;
import dev.align.core.data.TokenBatch;
import dev.align.core.data.TokenRows;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.train.AdamW;
import dev.align.core.train.GradClip;
import dev.align.po.loss.PreferenceLoss;
import dev.align.po.loss.PreferenceLosses;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * The benchmark behind {@code align bench dpo}: the DPO training step as the recipe runs it with
 * precomputed reference log-probs (the policy alone: reference sums looked up, one forward of the
 * chosen and rejected rows, the objective, backward, clipping at 1.0, AdamW, zeroing, the step's
 * metrics) on random token pairs, next to {@link TrainBench#sft} (the SFT step) on the same model
 * configuration and the same [rows, seq] batch shape, measured in the same process. The two are timed
 * in alternating rounds, and the medians compared, so that load from other processes hits both alike.
 */
public final class DpoBench {
    private DpoBench() {}

    /**
     * One DPO measurement.
     *
     * @param tokensPerS tokens processed per second (rows × seq per step, prompts included, as for SFT)
     * @param msPerStep mean step time
     * @param msPerStepMin fastest step
     */
    public record Round(double tokensPerS, double msPerStep, double msPerStepMin) {}

    /**
     * The comparison.
     *
     * @param sft the SFT round with the median tokens/s
     * @param dpo the DPO round with the median tokens/s
     * @param sftRounds SFT tokens/s of every round
     * @param dpoRounds DPO tokens/s of every round
     */
    public record Result(TrainBench.Result sft, Round dpo, List<Double> sftRounds, List<Double> dpoRounds) {
        /** DPO tokens/s over SFT tokens/s (medians). */
        public double ratio() {
            return dpo.tokensPerS() / sft.tokensPerS();
        }
    }

    /**
     * Alternates {@code rounds} SFT and DPO measurements.
     *
     * @param rows rows per step: SFT examples, or 2 × pairs for DPO (chosen and rejected rows)
     * @param seq tokens per row
     * @param prompt prompt tokens of each DPO row (shared by a pair's two rows); the rest is completion
     */
    public static Result run(ModelConfig cfg, int rows, int seq, int prompt, String lossType, int warmup, int steps,
            int rounds, long seed) {
        List<TrainBench.Result> sft = new ArrayList<>();
        List<Round> dpo = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            sft.add(TrainBench.sft(cfg, rows, seq, warmup, steps, seed));
            dpo.add(dpo(cfg, rows, seq, prompt, lossType, warmup, steps, seed));
        }
        List<TrainBench.Result> s = new ArrayList<>(sft);
        s.sort(Comparator.comparingDouble(TrainBench.Result::tokensPerS));
        List<Round> d = new ArrayList<>(dpo);
        d.sort(Comparator.comparingDouble(Round::tokensPerS));
        return new Result(s.get(s.size() / 2), d.get(d.size() / 2),
                sft.stream().map(TrainBench.Result::tokensPerS).toList(), dpo.stream().map(Round::tokensPerS).toList());
    }

    /** The DPO step alone, {@code warmup} untimed steps then {@code steps} timed ones. */
    public static Round dpo(ModelConfig cfg, int rows, int seq, int prompt, String lossType, int warmup, int steps,
            long seed) {
        if (rows < 2 || rows % 2 != 0 || prompt < 1 || prompt >= seq) {
            throw new IllegalArgumentException("rows must be even (≥ 2) and 1 ≤ prompt < seq");
        }
        Engine engine = Engines.init();
        int pairs = rows / 2;
        Random rnd = new Random(seed);
        List<List<TokenRows.Piece>> chosen = new ArrayList<>();
        List<List<TokenRows.Piece>> rejected = new ArrayList<>();
        for (int p = 0; p < pairs; p++) {
            long[] c = randomIds(rnd, seq, cfg.vocabSize());
            long[] r = randomIds(rnd, seq, cfg.vocabSize());
            System.arraycopy(c, 0, r, 0, prompt); // the pair's shared prompt
            chosen.add(List.of(TokenRows.Piece.fromPromptLength(c, prompt)));
            rejected.add(List.of(TokenRows.Piece.fromPromptLength(r, prompt)));
        }
        List<List<TokenRows.Piece>> all = new ArrayList<>(chosen);
        all.addAll(rejected);
        TokenBatch tb = TokenRows.build(all, 0);
        int[] idx = new int[pairs];
        float[] refC = new float[pairs];
        float[] refR = new float[pairs];
        for (int p = 0; p < pairs; p++) {
            idx[p] = p;
            refC[p] = (float) (-(seq - prompt) * Math.log(cfg.vocabSize()) + rnd.nextGaussian());
            refR[p] = (float) (-(seq - prompt) * Math.log(cfg.vocabSize()) + rnd.nextGaussian());
        }
        Reference ref = new Reference.Precomputed(refC, refR);
        PreferenceLoss loss = PreferenceLosses.create(lossType, 0.1, 0.0, 0.5);
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.init(cfg, seed, root)) {
            model.setTrainable(true);
            try (AdamW opt = new AdamW(model.parameters(), AdamW.Options.DEFAULTS)) {
                double total = 0;
                double min = Double.MAX_VALUE;
                for (int s = 0; s < warmup + steps; s++) {
                    long t0 = System.nanoTime();
                    PairStats stats = new PairStats();
                    try (NDScope scope = new NDScope()) {
                        TokenBatch.Tensors4 t = tb.toTensors(root, 0);
                        Reference.Sums sums = loss.referenceFree() ? null : ref.logps(t, idx, root);
                        DpoRecipe.microStep(engine, model, loss, t, sums, 1.0, stats);
                    }
                    GradClip.clipGlobalNorm(model.parameters(), 1.0);
                    opt.step(1e-6);
                    opt.zeroGrad();
                    stats.metrics(loss, root);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (s >= warmup) {
                        total += ms;
                        min = Math.min(min, ms);
                    }
                }
                double msPerStep = total / steps;
                return new Round(rows * (double) seq / (msPerStep / 1000), msPerStep, min);
            }
        }
    }

    private static long[] randomIds(Random rnd, int n, int vocab) {
        long[] ids = new long[n];
        Arrays.setAll(ids, i -> rnd.nextInt(vocab));
        return ids;
    }
}
