package dev.align.po.grpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.config.Configs;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.core.generate.SamplingParams;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.model.SegmentedBackward;
import dev.align.core.nd.Tensors;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.core.train.Accumulation;
import dev.align.core.train.AdamW;
import dev.align.core.train.Checkpointer;
import dev.align.core.train.GradClip;
import dev.align.core.train.LrSchedule;
import dev.align.core.train.Metrics;
import dev.align.core.train.NanGuard;
import dev.align.core.train.Provenance;
import dev.align.core.train.Rng;
import dev.align.core.train.TrainingArgs;
import dev.align.core.train.TrainingState;
import dev.align.datasets.DataSettings;
import dev.align.datasets.Datasets;
import dev.align.datasets.PromptExample;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.batch.DataLoader;
import dev.align.datasets.batch.LoaderState;
import dev.align.datasets.batch.Splits;
import dev.align.po.rl.GroupAdvantages;
import dev.align.po.rl.GrpoLoss;
import dev.align.po.rollout.Evaluation;
import dev.align.po.rollout.Policy;
import dev.align.po.rollout.RewardArgs;
import dev.align.po.rollout.RewardFunctions;
import dev.align.po.rollout.Rewarder;
import dev.align.po.rollout.RolloutBatch;
import dev.align.po.rollout.Rollouts;
import dev.align.po.rollout.RunFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Group Relative Policy Optimization ({@code align grpo}; Shao et al. 2024, "DeepSeekMath"; TRL's
 * GRPOTrainer): no value model — each prompt gets G sampled completions, and a completion's advantage is
 * its reward relative to its group's, (R − mean)/(std + 1e-4).
 *
 * <p>One step of the loop is one rollout: {@code generation_batch_size / G} prompts, G completions each,
 * sampled with the generation engine (seeded from the run's saved random stream); rewards from the reward
 * functions and/or a reward model; group advantages; reference log-probs (only when β &gt; 0) in one
 * gradient-free pass; then {@code num_iterations} passes of clipped policy updates over the shuffled
 * rollout, {@code gradient_accumulation_steps} micro-batches of {@code batch_size} completions per
 * optimizer step. The update recomputes the policy's log-probs with a teacher-forced forward and compares
 * them with the rollout's raw log-probs (so the first ratio is 1 up to float rounding). The loss is
 * {@link GrpoLoss}. With the defaults (steps_per_generation = gradient_accumulation_steps,
 * num_iterations = 1) a rollout is one optimizer step, as in TRL; {@code save_steps}, {@code max_steps},
 * {@code logging_steps} and {@code eval_steps} count rollouts.
 *
 * <p>Resume is exact: the prompt order comes from the data loader's saved state, rollout seeds and the
 * shuffles from the run's saved stream ({@code fork("rollout", step)}, {@code fork("shuffle", step)}),
 * libtorch is seeded per step.
 */
public final class GrpoRecipe {
    /** The recipe's name in provenance. */
    public static final String NAME = "grpo";

    private GrpoRecipe() {}

    /**
     * What a run did.
     *
     * @param outputDir the output directory
     * @param steps rollout steps done (0 for eval_only)
     * @param evalMetrics the final greedy evaluation on eval_file ({@link Evaluation}), empty without one
     */
    public record Result(Path outputDir, long steps, Map<String, Double> evalMetrics) {
        /** The mean held-out reward (NaN without an eval file). */
        public double reward() {
            return evalMetrics.getOrDefault("reward", Double.NaN);
        }
    }

    /** The defaults of every key: TRL's TrainingArguments with GRPOConfig's learning rate 1e-6, data, rewards, GRPO. */
    public static Object[] defaults() {
        return new Object[] {TrainingArgs.defaults().withLearningRate(1e-6), DataSettings.defaults(), RewardArgs.defaults(),
            GrpoArgs.defaults()};
    }

    /** Resolves a run config: defaults ← YAML file (optional) ← {@code key=value} overrides. */
    public static Configs.Resolved config(Path file, List<String> overrides) {
        return Configs.loadAll(file, overrides, defaults());
    }

    /** Runs training (or evaluation only, with {@code eval_only}) as configured. */
    public static Result run(Configs.Resolved cfg) {
        TrainingArgs a = cfg.get(TrainingArgs.class).validate();
        DataSettings d = cfg.get(DataSettings.class).validate();
        RewardArgs r = cfg.get(RewardArgs.class).validate();
        GrpoArgs g = cfg.get(GrpoArgs.class).validate(a);
        Path out = Path.of(a.outputDir());
        Path modelDir = Policy.checkModelDir(a.model());
        Path ckpt = a.evalOnly() ? null : Checkpointer.resumeFrom(a, out);
        List<RewardFunctions.Named> funcs = RewardFunctions.create(r, g.maxCompletionLength());
        List<Path> files = new ArrayList<>();
        // ---- setup: tokenizer, all data validated, then the models
        try (Tokenizer tok = Tokenizer.load(modelDir);
                TokenizedDataset train = a.evalOnly() ? null : RunFiles.prompts(a.trainFile(), d, tok, "train_file",
                        "align grpo", files);
                TokenizedDataset eval = a.evalFile() == null ? null : RunFiles.prompts(a.evalFile(), d, tok, "eval_file",
                        "align grpo", files);
                NDManager root = Engines.newManager()) {
            Rewarder.checkFields(funcs, train);
            Rewarder.checkFields(funcs, eval);
            int maxPositions = ModelConfig.load(modelDir).maxPositions();
            RunFiles.checkLengths(train, "train_file", g.maxCompletionLength(), maxPositions);
            RunFiles.checkLengths(eval, "eval_file", g.maxCompletionLength(), maxPositions);
            long padId = Datasets.padId(tok);
            GenerationConfig gen = GenerationConfig.forModel(modelDir, tok).withMaxNewTokens(g.maxCompletionLength())
                    .withPadTokenId(padId);
            Provenance.startRun(out, cfg, NAME, ckpt == null, files);
            try (Rewarder rewarder = Rewarder.load(funcs, r, g.localRolloutForwardBatchSize(), root)) {
                if (a.evalOnly()) {
                    try (DecoderLM model = DecoderLM.load(modelDir, root)) {
                        model.setAttention(a.attention());
                        Map<String, Double> m = Evaluation.greedy(model, tok, eval, gen, rewarder, a.evalBatchSize(), padId);
                        Metrics.writeEvalFile(out, m);
                        return new Result(out, 0, m);
                    }
                }
                try (Policy policy = Policy.load(a, modelDir, ckpt, g.beta() != 0, root)) {
                    policy.setAttention(a.attention());
                    policy.model().setSegmentedBackward(true); // the step's backward is SegmentedBackward.backward
                    Trained t = train(a, g, policy, tok, train, eval, gen, rewarder, ckpt, padId, out, root);
                    // ---- final save
                    policy.save(out, tok, a.mergeLora());
                    if (eval != null) {
                        Metrics.writeEvalFile(out, t.eval());
                    }
                    return new Result(out, t.steps(), t.eval());
                }
            }
        }
    }

    /** What the loop did: its last step and the final evaluation (empty without eval data). */
    private record Trained(long steps, Map<String, Double> eval) {}

    /** The training loop, then the final evaluation. */
    private static Trained train(TrainingArgs a, GrpoArgs g, Policy policy, Tokenizer tok, TokenizedDataset data,
            TokenizedDataset eval, GenerationConfig gen, Rewarder rewarder, Path ckpt, long padId, Path out,
            NDManager root) {
        Engine engine = Engines.init();
        DecoderLM model = policy.model();
        int window = model.config().slidingWindow();
        int groups = g.numGenerations();
        int perRollout = g.generationBatchSize(a);
        int promptsPerRollout = perRollout / groups;
        int accum = a.gradientAccumulationSteps();
        int updatesPerRollout = g.numIterations() * g.stepsPerGeneration(a) / accum;
        DataLoader<int[][]> loader = new DataLoader<>(Splits.all(data.size()), data::length,
                DataLoader.Options.of(promptsPerRollout, a.seed()).withGroupByLength(false).withDropLast(true), rows -> rows);
        if (loader.batchesPerEpoch() == 0) {
            throw new BadInputException("train_file: " + data.report().file() + " has " + data.size()
                    + " prompts, fewer than one rollout of " + promptsPerRollout + " (generation_batch_size "
                    + perRollout + " / num_generations " + groups + ")");
        }
        long stepsPerEpoch = loader.batchesPerEpoch();
        long total = a.maxSteps() > 0 ? a.maxSteps() : Math.max(1, (long) Math.ceil(a.epochs() * stepsPerEpoch));
        long totalUpdates = total * updatesPerRollout;
        GrpoLoss objective = new GrpoLoss(g.epsilon(), g.upperEpsilon(), g.beta(), g.aggregation(), g.maxCompletionLength());
        SamplingParams sampling = new SamplingParams(true, g.temperature(), g.topK(), g.topP(),
                g.minP() == null ? 0 : g.minP(), g.repetitionPenalty(), 0L);
        Generator generator = new Generator(model, tok);
        try (AdamW optimizer = new AdamW(policy.trainable(), new AdamW.Options(a.adamBeta1(), a.adamBeta2(),
                a.adamEpsilon(), a.weightDecay()))) {
            TrainingState state = ckpt != null ? Checkpointer.resume(ckpt, model, optimizer) : TrainingState.start(a.seed());
            if (ckpt != null && state.dataLoader() != null && state.dataLoader().isObject()) {
                loader.restore(LoaderState.fromJson(state.dataLoader(), ckpt.toString()));
            }
            LrSchedule schedule = LrSchedule.of(a.lrSchedulerType(), a.learningRate(), a.warmupFor(totalUpdates),
                    totalUpdates);
            Checkpointer checkpointer = new Checkpointer(out, a.saveSteps(), a.saveTotalLimit());
            NanGuard guard = new NanGuard(out);
            guard.restore(state.nanSkipped());
            Rng rng = state.rng();
            long torchSeed = state.torchSeed();
            long tokensSeen = state.tokensSeen();
            // ---- train: one rollout per step
            try (Metrics metrics = new Metrics(out, total, a.loggingSteps(), a.progress(), state.globalStep())) {
                for (long step = state.globalStep() + 1; step <= total; step++) {
                    torchSeed = rng.seedTorch(step);
                    long t0 = System.nanoTime();
                    // -- rollout: G completions of each prompt, sampled with a seed from the saved stream
                    List<PromptExample> rows = new ArrayList<>(perRollout);
                    for (int[] p : loader.nextPlan()) {
                        PromptExample e = data.prompt(p[0]);
                        for (int k = 0; k < groups; k++) {
                            rows.add(e);
                        }
                    }
                    long seed = rng.fork("rollout", step).seed();
                    Rollouts.Rollout ro = Rollouts.sample(generator, rows, gen.withSampling(sampling.withSeed(seed)),
                            g.localRolloutForwardBatchSize(), padId);
                    long t1 = System.nanoTime();
                    RolloutBatch batch = ro.batch();
                    Rewarder.Scores scores = rewarder.score(ro.rewardBatch(), ro.endedWithEos());
                    Advantages adv = advantages(scores.total(), groups, g.scale(), root);
                    float[] mask = batch.mask(); // [N·L]
                    int[] lossTokens = batch.completionLengths(); // per row: tokens that take loss
                    if (g.maskTruncatedCompletions()) {
                        maskRows(mask, lossTokens, ro.endedWithEos(), batch.completionLength());
                    }
                    float[] ref = g.beta() != 0
                            ? batch.forwardAll(g.localRolloutForwardBatchSize(), root, window, policy::referenceLogProbs)
                            : null;
                    long t2 = System.nanoTime();
                    // -- update: num_iterations passes over the shuffled rollout
                    int[] order = rng.fork("shuffle", step).permutation(perRollout);
                    UpdateStats u = new UpdateStats();
                    double lr = Double.NaN;
                    double gradNorm = Double.NaN;
                    for (int it = 0; it < g.numIterations(); it++) {
                        for (int s = 0; s < g.stepsPerGeneration(a) / accum; s++) {
                            int[][] micro = new int[accum][];
                            for (int k = 0; k < accum; k++) {
                                int from = (s * accum + k) * a.batchSize();
                                micro[k] = Arrays.copyOfRange(order, from, from + a.batchSize());
                            }
                            double loss = 0;
                            long maskedTokens = 0;
                            for (int[] sel : micro) {
                                maskedTokens += sum(lossTokens, sel);
                            }
                            for (int[] sel : micro) {
                                double share = g.aggregation() == GrpoLoss.Aggregation.DAPO
                                        ? Accumulation.tokenShare(sum(lossTokens, sel), Math.max(1, maskedTokens))
                                        : Accumulation.rowShare(sel.length, (long) accum * a.batchSize());
                                try (NDScope scope = new NDScope(); GradientCollector gc = engine.newGradientCollector()) {
                                    RolloutBatch.Inputs in = batch.inputs(sel, root, window);
                                    NDArray logp = RolloutBatch.logProbs(model, in); // [b,L]
                                    GrpoLoss.Output o = objective.compute(logp, batch.tensor(ro.oldLogprobs(), sel, root),
                                            ref == null ? null : batch.tensor(ref, sel, root),
                                            Tensors.floats(root, pick(adv.values(), sel), new Shape(sel.length)),
                                            batch.tensor(mask, sel, root));
                                    NDArray l = Accumulation.scale(o.loss(), share);
                                    SegmentedBackward.backward(gc, l);
                                    loss += l.getFloat();
                                    u.add(o, sum(lossTokens, sel));
                                }
                            }
                            gradNorm = GradClip.clipIfSet(policy.trainable(), a.maxGradNorm());
                            lr = schedule.lr(optimizer.updates());
                            if (guard.check(step, loss, gradNorm)) {
                                optimizer.step(lr);
                            }
                            optimizer.zeroGrad();
                            u.losses.add(loss);
                        }
                    }
                    long t3 = System.nanoTime();
                    // -- metrics and checkpoint
                    long tokens = batch.tokens(batch.all());
                    tokensSeen += tokens;
                    double epoch = (double) step / stepsPerEpoch;
                    Map<String, Double> m = new LinkedHashMap<>();
                    m.put("reward", mean(scores.total()));
                    m.put("reward_std", adv.rewardStd());
                    m.put("frac_reward_zero_std", adv.fracZeroStd());
                    m.putAll(scores.partMeans());
                    if (g.beta() != 0) {
                        m.put("kl", u.mean(u.kl));
                    }
                    m.put("clip_ratio/low_mean", u.mean(u.low));
                    m.put("clip_ratio/high_mean", u.mean(u.high));
                    m.put("clip_ratio/region_mean", u.mean(u.region));
                    lengths(m, batch.completionLengths(), ro.endedWithEos());
                    m.put("rollout_tokens_per_s", ro.completionTokens() / seconds(t0, t1));
                    m.put("time/generation_s", seconds(t0, t1));
                    m.put("time/scoring_s", seconds(t1, t2));
                    m.put("time/update_s", seconds(t2, t3));
                    metrics.step(step, epoch, u.meanLoss(), gradNorm, lr, tokens, m);
                    if (eval != null && a.evalDue(step) && step != total) {
                        metrics.logEval(step, epoch, Evaluation.greedy(model, tok, eval, gen, rewarder,
                                a.evalBatchSize(), padId));
                    }
                    if (checkpointer.due(step, step == total)) {
                        TrainingState now = new TrainingState(step, epoch, optimizer.updates(),
                                loader.state().toJsonNode(), rng, torchSeed, guard.skipped(), tokensSeen, null);
                        checkpointer.save(now, optimizer, policy.writer(tok));
                    }
                }
                // ---- evaluate
                Map<String, Double> last = Map.of();
                if (eval != null) {
                    last = Evaluation.greedy(model, tok, eval, gen, rewarder, a.evalBatchSize(), padId);
                    metrics.logEval(total, (double) total / stepsPerEpoch, last);
                }
                return new Trained(total, last);
            }
        }
    }

    /**
     * A rollout's advantages.
     *
     * @param values [N] one per completion
     * @param rewardStd the mean of the groups' reward std (TRL's {@code reward_std}; the batch std for
     *     {@code scale_rewards: batch})
     * @param fracZeroStd share of groups whose rewards are all equal
     */
    record Advantages(float[] values, double rewardStd, double fracZeroStd) {}

    /** Group advantages, scaled by the group std, the batch std, or not at all. */
    static Advantages advantages(float[] rewards, int groups, GrpoArgs.Scale scale, NDManager m) {
        try (NDScope scope = new NDScope()) {
            NDArray r = Tensors.floats(m, rewards, new Shape(rewards.length)); // [N]
            GroupAdvantages.Result res = GroupAdvantages.compute(r, groups, scale == GrpoArgs.Scale.GROUP);
            NDArray adv = res.advantages(); // [N]
            double std = mean(res.groupStd().toFloatArray());
            if (scale == GrpoArgs.Scale.BATCH) { // (R − group mean) / (std over the whole rollout + 1e-4), TRL's "batch"
                NDArray c = r.sub(r.mean());
                NDArray bstd = c.mul(c).sum().div(Tensors.scalar(m, rewards.length - 1f)).sqrt(); // unbiased
                adv = adv.div(bstd.add(Tensors.scalar(m, 1e-4f)));
                std = bstd.getFloat();
            }
            return new Advantages(adv.toFloatArray(), std, res.fracZeroStd());
        }
    }

    /** Zeroes the mask rows (and loss-token counts) of completions that did not end with eos. */
    static void maskRows(float[] mask, int[] lossTokens, boolean[] keep, int l) {
        for (int r = 0; r < keep.length; r++) {
            if (!keep[r]) {
                Arrays.fill(mask, r * l, (r + 1) * l, 0f);
                lossTokens[r] = 0;
            }
        }
    }

    /** Σ v[i] over i in {@code sel}. */
    private static long sum(int[] v, int[] sel) {
        long n = 0;
        for (int r : sel) {
            n += v[r];
        }
        return n;
    }

    private static float[] pick(float[] v, int[] sel) {
        float[] out = new float[sel.length];
        for (int i = 0; i < sel.length; i++) {
            out[i] = v[sel[i]];
        }
        return out;
    }

    /** completions/mean_length, min_length, max_length and clipped_ratio (no eos). */
    static void lengths(Map<String, Double> m, int[] lens, boolean[] eos) {
        double sum = 0;
        int min = Integer.MAX_VALUE;
        int max = 0;
        int clipped = 0;
        for (int i = 0; i < lens.length; i++) {
            sum += lens[i];
            min = Math.min(min, lens[i]);
            max = Math.max(max, lens[i]);
            clipped += eos[i] ? 0 : 1;
        }
        m.put("completions/mean_length", sum / lens.length);
        m.put("completions/min_length", (double) min);
        m.put("completions/max_length", (double) max);
        m.put("completions/clipped_ratio", (double) clipped / lens.length);
    }

    private static double seconds(long from, long to) {
        return (to - from) / 1e9;
    }

    static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    /** Token-weighted means of the loss diagnostics over a rollout's updates. */
    private static final class UpdateStats {
        final List<Double> losses = new ArrayList<>();
        final double[] kl = new double[2];
        final double[] low = new double[2];
        final double[] high = new double[2];
        final double[] region = new double[2];

        void add(GrpoLoss.Output o, long tokens) {
            acc(kl, o.kl().getFloat(), tokens);
            acc(low, o.clipLow().getFloat(), tokens);
            acc(high, o.clipHigh().getFloat(), tokens);
            acc(region, o.clipRegion().getFloat(), tokens);
        }

        private static void acc(double[] s, double v, long w) {
            if (w > 0 && Double.isFinite(v)) {
                s[0] += v * w;
                s[1] += w;
            }
        }

        double mean(double[] s) {
            return s[1] == 0 ? 0 : s[0] / s[1];
        }

        double meanLoss() {
            double s = 0;
            for (double l : losses) {
                s += l;
            }
            return losses.isEmpty() ? Double.NaN : s / losses.size();
        }
    }
}
