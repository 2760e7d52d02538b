package dev.align.po.ppo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
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
import dev.align.po.rl.Gae;
import dev.align.po.rl.KlController;
import dev.align.po.rl.Masked;
import dev.align.po.rl.PpoLosses;
import dev.align.po.rollout.Evaluation;
import dev.align.po.rollout.Policy;
import dev.align.po.rollout.RewardArgs;
import dev.align.po.rollout.RewardFunctions;
import dev.align.po.rollout.Rewarder;
import dev.align.po.rollout.RolloutBatch;
import dev.align.po.rollout.Rollouts;
import dev.align.po.rollout.RunFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Proximal Policy Optimization for RLHF ({@code align ppo}; Ouyang et al. 2022, Ziegler et al. 2019; TRL's
 * PPOTrainer): a policy, a frozen reference, a reward (reward model and/or reward functions) and a
 * separate critic initialised from the reward model.
 *
 * <p>One step of the loop is one rollout of {@code batch_size × gradient_accumulation_steps ×
 * num_mini_batches} prompts:
 *
 * <ol>
 *   <li>sample one completion per prompt with the generation engine (seeded from the run's saved stream),
 *       keeping the old policy's raw per-token log-probs;
 *   <li>score the completions; compute the reference's log-probs and the critic's values with
 *       gradient-free teacher-forced forwards, once per rollout;
 *   <li>fold the KL penalty into per-token rewards with the score on the last real token
 *       ({@link KlPenalizedRewards}), GAE(γ, λ) ({@link Gae}), whitened advantages ({@link Masked});
 *   <li>{@code num_ppo_epochs} passes over the shuffled rollout in {@code num_mini_batches} optimizer steps:
 *       the clipped policy loss plus {@code vf_coef} × the clipped value loss ({@link PpoLosses}), the
 *       policy's log-probs and the critic's values recomputed on the rollout tokens; policy and critic
 *       step together (one AdamW each, the same learning rate);
 *   <li>update β (fixed, or adaptive with {@code adap_kl_ctrl}; {@link KlController}).
 * </ol>
 *
 * Resume is exact: prompt order from the loader's saved state; rollout seeds and PPO shuffles from the
 * run's saved stream; β, the critic and its optimizer are saved in every checkpoint.
 */
public final class PpoRecipe {
    /** The recipe's name in provenance. */
    public static final String NAME = "ppo";
    /** The critic optimizer's state inside a checkpoint's {@code training_state/}. */
    public static final String VALUE_OPTIMIZER_DIR = "value_optimizer";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PpoRecipe() {}

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

    /** The defaults of every key: TRL's TrainingArguments, data, rewards, PPO. */
    public static Object[] defaults() {
        return new Object[] {TrainingArgs.defaults().withLearningRate(5e-5), DataSettings.defaults(), RewardArgs.defaults(),
            PpoArgs.defaults()};
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
        PpoArgs p = cfg.get(PpoArgs.class).validate();
        Path out = Path.of(a.outputDir());
        Path modelDir = Policy.checkModelDir(a.model());
        Path ckpt = a.evalOnly() ? null : Checkpointer.resumeFrom(a, out);
        Path criticStart = null;
        if (!a.evalOnly()) {
            String vm = p.valueModel() != null ? p.valueModel() : r.rewardModel();
            if (vm == null || vm.isBlank()) {
                throw new BadInputException("value_model: PPO's critic starts from a reward model: set reward_model"
                        + " (or value_model)");
            }
            criticStart = Rewarder.checkRewardModelDir(vm, p.valueModel() != null ? "value_model" : "reward_model");
        }
        List<RewardFunctions.Named> funcs = RewardFunctions.create(r, p.responseLength());
        List<Path> files = new ArrayList<>();
        // ---- setup: tokenizer, all data validated, then the models
        try (Tokenizer tok = Tokenizer.load(modelDir);
                TokenizedDataset train = a.evalOnly() ? null : RunFiles.prompts(a.trainFile(), d, tok, "train_file",
                        "align ppo", files);
                TokenizedDataset eval = a.evalFile() == null ? null : RunFiles.prompts(a.evalFile(), d, tok, "eval_file",
                        "align ppo", files);
                NDManager root = Engines.newManager()) {
            Rewarder.checkFields(funcs, train);
            Rewarder.checkFields(funcs, eval);
            int maxPositions = ModelConfig.load(modelDir).maxPositions();
            RunFiles.checkLengths(train, "train_file", p.responseLength(), maxPositions);
            RunFiles.checkLengths(eval, "eval_file", p.responseLength(), maxPositions);
            long padId = Datasets.padId(tok);
            GenerationConfig gen = GenerationConfig.forModel(modelDir, tok).withMaxNewTokens(p.responseLength())
                    .withPadTokenId(padId);
            Provenance.startRun(out, cfg, NAME, ckpt == null, files);
            try (Rewarder rewarder = Rewarder.load(funcs, r, p.localRolloutForwardBatchSize(), root)) {
                if (a.evalOnly()) {
                    try (DecoderLM model = DecoderLM.load(modelDir, root)) {
                        model.setAttention(a.attention());
                        Map<String, Double> m = Evaluation.greedy(model, tok, eval, gen, rewarder, a.evalBatchSize(), padId);
                        Metrics.writeEvalFile(out, m);
                        return new Result(out, 0, m);
                    }
                }
                try (Policy policy = Policy.load(a, modelDir, ckpt, true, root);
                        ValueModel critic = ValueModel.load(criticStart, ckpt, policy.model().config().vocabSize(), root)) {
                    policy.setAttention(a.attention());
                    critic.model().setAttention(a.attention());
                    policy.model().setSegmentedBackward(true); // the step's backward is SegmentedBackward.backward
                    critic.model().setSegmentedBackward(true);
                    Trained t = train(a, p, policy, critic, tok, train, eval, gen, rewarder, ckpt, padId, out, root);
                    // ---- final save: the policy where TRL puts it, the critic beside it
                    policy.save(out, tok, a.mergeLora());
                    critic.save(out, tok);
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

    /** A rollout's training targets, row-major [B·L] (0 on padding). */
    record Targets(float[] advantages, float[] returns, float[] values, float[] mask, Map<String, Double> stats) {}

    /** The training loop, then the final evaluation. */
    private static Trained train(TrainingArgs a, PpoArgs p, Policy policy, ValueModel critic, Tokenizer tok,
            TokenizedDataset data, TokenizedDataset eval, GenerationConfig gen, Rewarder rewarder, Path ckpt, long padId,
            Path out, NDManager root) {
        Engine engine = Engines.init();
        DecoderLM model = policy.model();
        int window = model.config().slidingWindow();
        int fwd = p.localRolloutForwardBatchSize();
        int accum = a.gradientAccumulationSteps();
        int mini = a.batchSize() * accum; // prompts per optimizer step
        int perRollout = mini * p.numMiniBatches();
        DataLoader<int[][]> loader = new DataLoader<>(Splits.all(data.size()), data::length,
                DataLoader.Options.of(perRollout, a.seed()).withGroupByLength(false).withDropLast(true), rows -> rows);
        if (loader.batchesPerEpoch() == 0) {
            throw new BadInputException("train_file: " + data.report().file() + " has " + data.size()
                    + " prompts, fewer than one rollout of " + perRollout + " (batch_size × gradient_accumulation_steps"
                    + " × num_mini_batches)");
        }
        long stepsPerEpoch = loader.batchesPerEpoch();
        long total = p.totalEpisodes() != null ? Math.max(1, (p.totalEpisodes() + perRollout - 1) / perRollout)
                : a.maxSteps() > 0 ? a.maxSteps() : Math.max(1, (long) Math.ceil(a.epochs() * stepsPerEpoch));
        long totalUpdates = total * p.numPpoEpochs() * p.numMiniBatches();
        SamplingParams sampling = new SamplingParams(true, p.temperature(), p.topK(), p.topP(), 0.0, 1.0, 0L);
        Generator generator = new Generator(model, tok);
        List<DecoderLM.Param> both = new ArrayList<>(policy.trainable());
        both.addAll(critic.model().parameters());
        AdamW.Options opts = new AdamW.Options(a.adamBeta1(), a.adamBeta2(), a.adamEpsilon(), a.weightDecay());
        try (AdamW optimizer = new AdamW(policy.trainable(), opts);
                AdamW criticOptimizer = new AdamW(critic.model().parameters(), opts)) {
            TrainingState state = ckpt != null ? Checkpointer.resume(ckpt, model, optimizer) : TrainingState.start(a.seed());
            if (ckpt != null) {
                criticOptimizer.load(ckpt.resolve(Checkpointer.STATE_DIR).resolve(VALUE_OPTIMIZER_DIR));
                if (state.dataLoader() != null && state.dataLoader().isObject()) {
                    loader.restore(LoaderState.fromJson(state.dataLoader(), ckpt.toString()));
                }
            }
            KlController kl = p.adapKlCtrl() ? KlController.adaptive(p.klCoef(), p.target(), p.horizon())
                    : KlController.fixed(p.klCoef());
            JsonNode extra = state.extra();
            if (extra != null && extra.has("kl_coef")) {
                kl.set(extra.get("kl_coef").asDouble());
            }
            LrSchedule schedule = LrSchedule.of(a.lrSchedulerType(), a.learningRate(), a.warmupFor(totalUpdates),
                    totalUpdates);
            Checkpointer checkpointer = new Checkpointer(out, a.saveSteps(), a.saveTotalLimit());
            NanGuard guard = new NanGuard(out);
            guard.restore(state.nanSkipped());
            Rng rng = state.rng();
            long torchSeed = state.torchSeed();
            long tokensSeen = state.tokensSeen();
            Checkpointer.ModelWriter policyWriter = policy.writer(tok);
            Checkpointer.ModelWriter writer = dir -> {
                policyWriter.write(dir);
                critic.checkpoint(dir, tok);
                Path od = dir.resolve(Checkpointer.STATE_DIR).resolve(VALUE_OPTIMIZER_DIR);
                try {
                    Files.createDirectories(od);
                } catch (IOException e) {
                    throw new AlignException(od + ": cannot create: " + e.getMessage(), e);
                }
                criticOptimizer.save(od);
            };
            // ---- train: one rollout per step
            try (Metrics metrics = new Metrics(out, total, a.loggingSteps(), a.progress(), state.globalStep())) {
                for (long step = state.globalStep() + 1; step <= total; step++) {
                    torchSeed = rng.seedTorch(step);
                    long t0 = System.nanoTime();
                    // -- rollout: one completion per prompt
                    List<PromptExample> rows = new ArrayList<>(perRollout);
                    for (int[] idx : loader.nextPlan()) {
                        rows.add(data.prompt(idx[0]));
                    }
                    Rollouts.Rollout ro = Rollouts.sample(generator, rows,
                            gen.withSampling(sampling.withSeed(rng.fork("rollout", step).seed())), fwd, padId);
                    long t1 = System.nanoTime();
                    RolloutBatch batch = ro.batch();
                    Rewarder.Scores scores = rewarder.score(ro.rewardBatch(), ro.endedWithEos());
                    float[] ref = batch.forwardAll(fwd, root, window, policy::referenceLogProbs); // [B·L]
                    float[] values = batch.forwardAll(fwd, root, window, critic::values); // [B·L]
                    double beta = kl.value();
                    Targets tg = targets(p, batch, ro.oldLogprobs(), ref, values, scores.total(), beta, root);
                    long t2 = System.nanoTime();
                    // -- PPO epochs over shuffled mini-batches
                    Stats st = new Stats();
                    double lr = Double.NaN;
                    double gradNorm = Double.NaN;
                    for (int e = 0; e < p.numPpoEpochs(); e++) {
                        int[] order = rng.fork("ppo_epoch", (step - 1) * p.numPpoEpochs() + e).permutation(perRollout);
                        for (int mb = 0; mb < p.numMiniBatches(); mb++) {
                            double loss = 0;
                            for (int k = 0; k < accum; k++) {
                                int from = mb * mini + k * a.batchSize();
                                int[] sel = Arrays.copyOfRange(order, from, from + a.batchSize());
                                double share = Accumulation.rowShare(sel.length, mini);
                                try (NDScope scope = new NDScope(); GradientCollector gc = engine.newGradientCollector()) {
                                    RolloutBatch.Inputs in = batch.inputs(sel, root, window);
                                    NDArray mask = in.mask(); // [b,L]
                                    PpoLosses.Policy pol = PpoLosses.policy(RolloutBatch.logProbs(model, in),
                                            batch.tensor(ro.oldLogprobs(), sel, root),
                                            batch.tensor(tg.advantages(), sel, root), mask, p.cliprange());
                                    PpoLosses.Value val = PpoLosses.value(critic.values(in).mul(mask),
                                            batch.tensor(tg.values(), sel, root), batch.tensor(tg.returns(), sel, root),
                                            mask, p.cliprangeValue());
                                    NDArray l = pol.loss().add(val.loss().mul(Tensors.scalar(root, (float) p.vfCoef())));
                                    NDArray scaled = Accumulation.scale(l, share);
                                    SegmentedBackward.backward(gc, scaled);
                                    loss += scaled.getFloat();
                                    st.add(pol, val);
                                }
                            }
                            gradNorm = GradClip.clipIfSet(both, a.maxGradNorm());
                            lr = schedule.lr(optimizer.updates());
                            if (guard.check(step, loss, gradNorm)) {
                                optimizer.step(lr);
                                criticOptimizer.step(lr);
                            }
                            optimizer.zeroGrad();
                            criticOptimizer.zeroGrad();
                            st.losses.add(loss);
                        }
                    }
                    long t3 = System.nanoTime();
                    kl.update(tg.stats().get("objective/kl"), perRollout);
                    // -- metrics and checkpoint
                    long tokens = batch.tokens(batch.all());
                    tokensSeen += tokens;
                    double epoch = (double) step / stepsPerEpoch;
                    Map<String, Double> m = new LinkedHashMap<>(tg.stats());
                    m.put("objective/scores", mean(scores.total()));
                    m.put("objective/rlhf_reward", tg.stats().get("objective/non_score_reward") + mean(scores.total()));
                    m.putAll(scores.partMeans());
                    m.putAll(st.metrics());
                    int eos = 0;
                    for (boolean b : ro.endedWithEos()) {
                        eos += b ? 1 : 0;
                    }
                    m.put("val/num_eos_tokens", (double) eos);
                    m.put("completions/mean_length", (double) ro.completionTokens() / perRollout);
                    m.put("kl_coef", beta);
                    m.put("rollout_tokens_per_s", ro.completionTokens() / seconds(t0, t1));
                    m.put("time/generation_s", seconds(t0, t1));
                    m.put("time/scoring_s", seconds(t1, t2));
                    m.put("time/update_s", seconds(t2, t3));
                    metrics.step(step, epoch, st.meanLoss(), gradNorm, lr, tokens, m);
                    if (eval != null && a.evalDue(step) && step != total) {
                        metrics.logEval(step, epoch, Evaluation.greedy(model, tok, eval, gen, rewarder,
                                a.evalBatchSize(), padId));
                    }
                    if (checkpointer.due(step, step == total)) {
                        ObjectNode x = JSON.createObjectNode().put("kl_coef", kl.value());
                        TrainingState now = new TrainingState(step, epoch, optimizer.updates(),
                                loader.state().toJsonNode(), rng, torchSeed, guard.skipped(), tokensSeen, x);
                        checkpointer.save(now, optimizer, writer);
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
     * Rewards (KL folded in, score on the last real token), GAE advantages (whitened) and returns of a
     * rollout, in one scope; plus TRL's objective/* statistics.
     */
    static Targets targets(PpoArgs p, RolloutBatch batch, float[] old, float[] ref, float[] values,
            float[] scores, double beta, NDManager root) {
        int[] all = batch.all();
        try (NDScope scope = new NDScope()) {
            NDArray mask = batch.tensor(batch.mask(), all, root); // [B,L]
            NDArray oldT = batch.tensor(old, all, root); // [B,L]
            KlPenalizedRewards.Result kr = KlPenalizedRewards.compute(oldT, batch.tensor(ref, all, root), mask,
                    Tensors.floats(root, scores, new Shape(scores.length)), beta, p.estimator());
            NDArray rewards = p.whitenRewards() ? Masked.whiten(kr.rewards(), mask, false) : kr.rewards(); // [B,L]
            NDArray v = batch.tensor(values, all, root).mul(mask); // [B,L]
            Gae.Result gae = Gae.compute(rewards, v, p.gamma(), p.lam());
            NDArray adv = Masked.whiten(gae.advantages(), mask, true); // [B,L], 0 on padding
            NDArray returns = gae.returns().mul(mask);
            Map<String, Double> s = new LinkedHashMap<>();
            s.put("objective/kl", (double) kr.kl().sum(new int[] {1}).mean().getFloat());
            s.put("objective/entropy", (double) oldT.mul(mask).neg().sum(new int[] {1}).mean().getFloat());
            s.put("objective/non_score_reward", (double) kr.nonScore().sum(new int[] {1}).mean().getFloat());
            return new Targets(adv.toFloatArray(), returns.toFloatArray(), v.toFloatArray(), batch.mask(), s);
        }
    }

    private static double seconds(long from, long to) {
        return (to - from) / 1e9;
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    /** The update's diagnostics, averaged over micro-batches as TRL does. */
    private static final class Stats {
        final List<Double> losses = new ArrayList<>();
        final List<double[]> rows = new ArrayList<>(); // pg loss, vf loss, clipfrac, approxkl, ratio, vf clipfrac

        void add(PpoLosses.Policy pol, PpoLosses.Value val) {
            rows.add(new double[] {pol.loss().getFloat(), val.loss().getFloat(), pol.clipFraction().getFloat(),
                pol.approxKl().getFloat(), pol.ratioMean().getFloat(), val.clipFraction().getFloat()});
        }

        Map<String, Double> metrics() {
            double[] s = new double[6];
            for (double[] r : rows) {
                for (int i = 0; i < 6; i++) {
                    s[i] += r[i];
                }
            }
            int n = Math.max(1, rows.size());
            double ratioVar = 0;
            for (double[] r : rows) {
                ratioVar += (r[4] - s[4] / n) * (r[4] - s[4] / n);
            }
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("policy/approxkl_avg", s[3] / n);
            m.put("policy/clipfrac_avg", s[2] / n);
            m.put("loss/policy_avg", s[0] / n);
            m.put("loss/value_avg", s[1] / n);
            m.put("val/clipfrac_avg", s[5] / n);
            m.put("val/ratio", s[4] / n);
            m.put("val/ratio_var", rows.size() > 1 ? ratioVar / (rows.size() - 1) : 0.0);
            return m;
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
