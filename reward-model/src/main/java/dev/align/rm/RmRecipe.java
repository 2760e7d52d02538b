package dev.align.rm;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.config.Configs;
import dev.align.core.lora.LoraAdapters;
import dev.align.core.lora.LoraConfig;
import dev.align.core.model.DecoderLM;
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
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.batch.DataLoader;
import dev.align.datasets.batch.LoaderState;
import dev.align.datasets.batch.RankingBatch;
import dev.align.datasets.format.Format;
import dev.align.rm.loss.RankingLoss;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reward-model recipe ({@code align rm}): a transformer with a scalar head trained on human rankings
 * or preference pairs (Ouyang et al. 2022; TRL's RewardTrainer).
 *
 * <p>Data: ranking records (K responses, every ordered pair) or preference pairs (one pair), as
 * {@code datasets} reads them. A batch holds {@code batch_size} whole prompts; every response is one row of
 * ONE forward pass and is scored once; pairs index into the rewards. The objective is
 * {@link RankingLoss}: Bradley-Terry {@code −log σ(r_w − r_l − m)} per pair, each prompt's pairs sharing
 * weight 1/|pairs| and prompts averaged (for preference pairs: the plain mean of TRL), plus reward
 * centering {@code η·mean((r_w + r_l)²)} with {@code center_rewards_coefficient}. Micro-batches of an
 * accumulated step are weighted by their share of the step's prompts.
 *
 * <p>Setup → one visible {@link #train} loop → final save → {@link #evaluate}. Output directory: the
 * reward model (HF {@code *ForSequenceClassification}, or with LoRA a PEFT adapter directory holding the
 * score head, plus {@code merged/} with {@code merge_lora}), tokenizer files, {@code config.yaml},
 * {@code provenance.json}, {@code metrics.jsonl}, {@code checkpoint-N/}, and {@code eval_metrics.json}
 * when there is an eval file.
 */
public final class RmRecipe {
    /** The recipe's name in provenance. */
    public static final String NAME = "rm";
    /** Where the merged model goes with LoRA and merge_lora. */
    public static final String MERGED_DIR = "merged";
    private static final Logger LOG = LoggerFactory.getLogger(RmRecipe.class);

    private RmRecipe() {}

    /**
     * What a run did.
     *
     * @param outputDir the output directory
     * @param steps optimizer steps done (0 for eval_only)
     * @param evalMetrics the final evaluation ({@link RewardStats} names), empty without an eval file
     */
    public record Result(Path outputDir, long steps, Map<String, Double> evalMetrics) {
        /** Held-out pairwise accuracy (NaN without an eval file). */
        public double accuracy() {
            return evalMetrics.getOrDefault("accuracy", Double.NaN);
        }
    }

    /** The defaults of every key: TRL's TrainingArguments with RewardConfig's learning rate 1e-4, data, rm. */
    public static Object[] defaults() {
        return new Object[] {TrainingArgs.defaults().withLearningRate(1e-4), DataSettings.defaults(), RmArgs.defaults()};
    }

    /** Resolves a run config: defaults ← YAML file (optional) ← {@code key=value} overrides. */
    public static Configs.Resolved config(Path file, List<String> overrides) {
        return Configs.loadAll(file, overrides, defaults());
    }

    /** Runs training (or evaluation only, with {@code eval_only}) as configured. */
    public static Result run(Configs.Resolved cfg) {
        TrainingArgs a = cfg.get(TrainingArgs.class).validate();
        DataSettings d = cfg.get(DataSettings.class).validate();
        RmArgs r = cfg.get(RmArgs.class).validate();
        Path out = Path.of(a.outputDir());
        Path modelDir = Path.of(a.model());
        if (!Files.isDirectory(modelDir)) {
            throw new BadInputException("model: " + modelDir + " is not a directory");
        }
        if (a.lora() && !a.evalOnly() && RewardModels.isAdapter(modelDir)) {
            throw new BadInputException("model: " + modelDir + " is a LoRA adapter; LoRA training needs a full model"
                    + " directory (merge the adapter first: merge_lora: true, or align merge)");
        }
        Path ckpt = a.evalOnly() ? null : Checkpointer.resumeFrom(a, out);
        List<Path> files = new ArrayList<>();
        // ---- setup: tokenizer, then all data validated, then the model
        try (Tokenizer tok = Tokenizer.load(RewardModels.tokenizerDir(modelDir));
                TokenizedDataset train = a.evalOnly() ? null : load(a.trainFile(), d, tok, "train_file", files);
                TokenizedDataset eval = a.evalFile() == null ? null : load(a.evalFile(), d, tok, "eval_file", files);
                NDManager root = Engines.newManager()) {
            long padId = Datasets.padId(tok);
            Provenance.startRun(out, cfg, NAME, ckpt == null, files);
            if (a.evalOnly()) {
                if (!RewardModels.hasRewardHead(modelDir)) {
                    LOG.warn("{} has no reward head: evaluating a freshly initialised one (seed {})", modelDir, a.seed());
                }
                try (DecoderLM model = RewardModels.load(modelDir, root, r.scoreInitStd(), a.seed())) {
                    Datasets.requireFits(eval, model.config().maxPositions(), "eval_file");
                    model.setAttention(a.attention());
                    Map<String, Double> m = evaluate(model, eval, a.evalBatchSize(), padId, r.center(), root);
                    Metrics.writeEvalFile(out, m);
                    return new Result(out, 0, m);
                }
            }
            DecoderLM model = ckpt != null && !a.lora()
                    ? RewardModels.load(ckpt, root, r.scoreInitStd(), a.seed())
                    : RewardModels.load(modelDir, root, r.scoreInitStd(), a.seed());
            LoraAdapters lora = null;
            try {
                Datasets.requireFits(train, model.config().maxPositions(), "train_file");
                Datasets.requireFits(eval, model.config().maxPositions(), "eval_file");
                model.setAttention(a.attention());
                RewardModels.ensurePadId(model, padId);
                List<DecoderLM.Param> trainable;
                if (a.lora()) {
                    lora = ckpt != null ? LoraAdapters.load(ckpt, model)
                            : LoraAdapters.create(model, new LoraConfig(a.loraR(), a.loraAlpha(), a.loraDropout(),
                                    a.loraTargetModules()), a.seed());
                    model.setTrainable(false);
                    lora.setTrainable(true);
                    DecoderLM.Param head = model.parameter(RewardModels.SCORE);
                    head.value().setRequiresGradient(true); // the head is trained in full (PEFT's modules_to_save)
                    trainable = new ArrayList<>(lora.parameters());
                    trainable.add(head);
                } else {
                    model.setTrainable(true);
                    trainable = model.parameters();
                }
                model.setSegmentedBackward(true); // the step's backward is SegmentedBackward.backward
                Trained t = train(a, r, model, lora, trainable, tok, train, eval, ckpt, padId, out, root);
                // ---- final save
                if (lora != null) {
                    RewardModels.saveAdapter(lora, model, tok, out, a.model());
                } else {
                    RewardModels.save(model, tok, out, padId);
                }
                if (eval != null) {
                    Metrics.writeEvalFile(out, t.eval());
                }
                if (lora != null && a.mergeLora()) {
                    lora.mergeInto(model);
                    RewardModels.save(model, tok, out.resolve(MERGED_DIR), padId);
                }
                return new Result(out, t.steps(), t.eval());
            } finally {
                if (lora != null) {
                    lora.close();
                }
                model.close();
            }
        }
    }

    /** What the loop did: its last step and the final evaluation (empty without eval data). */
    private record Trained(long steps, Map<String, Double> eval) {}

    /** The training loop, then the final evaluation. */
    private static Trained train(TrainingArgs a, RmArgs r, DecoderLM model, LoraAdapters lora,
            List<DecoderLM.Param> trainable, Tokenizer tok, TokenizedDataset data, TokenizedDataset eval, Path ckpt,
            long padId, Path out, NDManager root) {
        Engine engine = Engines.init();
        DataLoader<RankingBatch> loader = DataLoader.ranking(data, null,
                DataLoader.Options.of(a.batchSize(), a.seed()), padId);
        int accum = a.gradientAccumulationSteps();
        long stepsPerEpoch = Math.max(1, (loader.batchesPerEpoch() + accum - 1) / accum);
        long total = a.maxSteps() > 0 ? a.maxSteps() : Math.max(1, (long) Math.ceil(a.epochs() * stepsPerEpoch));
        RankingLoss objective = new RankingLoss(r.center());
        try (AdamW optimizer = new AdamW(trainable, new AdamW.Options(a.adamBeta1(), a.adamBeta2(), a.adamEpsilon(),
                a.weightDecay()))) {
            TrainingState state = ckpt != null ? Checkpointer.resume(ckpt, model, optimizer) : TrainingState.start(a.seed());
            if (ckpt != null && state.dataLoader() != null && state.dataLoader().isObject()) {
                loader.restore(LoaderState.fromJson(state.dataLoader(), ckpt.toString()));
            }
            LrSchedule schedule = LrSchedule.of(a.lrSchedulerType(), a.learningRate(), a.warmupFor(total), total);
            Checkpointer checkpointer = new Checkpointer(out, a.saveSteps(), a.saveTotalLimit());
            NanGuard guard = new NanGuard(out);
            guard.restore(state.nanSkipped());
            Rng rng = state.rng();
            long torchSeed = state.torchSeed();
            long tokensSeen = state.tokensSeen();
            Checkpointer.ModelWriter writer = lora != null
                    ? dir -> RewardModels.saveAdapter(lora, model, tok, dir, a.model())
                    : Checkpointer.hfModel(model, tok);
            setTraining(lora, true);
            // ---- train
            try (Metrics metrics = new Metrics(out, total, a.loggingSteps(), a.progress(), state.globalStep())) {
                for (long step = state.globalStep() + 1; step <= total; step++) {
                    torchSeed = rng.seedTorch(step); // LoRA dropout draws from libtorch
                    List<RankingBatch> micro = new ArrayList<>(accum);
                    long prompts = 0;
                    for (int i = 0; i < accum; i++) {
                        RankingBatch b = loader.next();
                        micro.add(b);
                        prompts += b.groups();
                    }
                    RewardStats stats = new RewardStats(r.center());
                    double loss = 0;
                    long tokens = 0;
                    for (RankingBatch b : micro) {
                        double share = Accumulation.rowShare(b.groups(), prompts);
                        try (NDScope scope = new NDScope(); GradientCollector gc = engine.newGradientCollector()) {
                            NDArray rewards = Rewards.forward(model, b.batch(), root); // [R], each response once
                            NDArray l = Accumulation.scale(pairLoss(objective, rewards, b, root), share); // 0-dim
                            SegmentedBackward.backward(gc, l);
                            loss += l.getFloat();
                            stats.add(b, rewards.toFloatArray());
                        }
                        tokens += b.batch().tokenCount();
                    }
                    double gradNorm = GradClip.clipIfSet(trainable, a.maxGradNorm());
                    double lr = schedule.lr(optimizer.updates());
                    if (guard.check(step, loss, gradNorm)) {
                        optimizer.step(lr);
                    }
                    optimizer.zeroGrad();
                    tokensSeen += tokens;
                    double epoch = (double) step / stepsPerEpoch;
                    Map<String, Double> m = stats.metrics();
                    metrics.step(step, epoch, loss, gradNorm, lr, tokens, Map.of("accuracy", m.get("accuracy"),
                            "margin", m.get("margin"), "mean_reward", m.get("mean_reward"),
                            "min_reward", m.get("min_reward"), "max_reward", m.get("max_reward")));
                    if (eval != null && a.evalDue(step) && step != total) {
                        setTraining(lora, false);
                        metrics.logEval(step, epoch, evaluate(model, eval, a.evalBatchSize(), padId, r.center(), root));
                        setTraining(lora, true);
                    }
                    if (checkpointer.due(step, step == total)) {
                        TrainingState now = new TrainingState(step, epoch, optimizer.updates(),
                                loader.state().toJsonNode(), rng, torchSeed, guard.skipped(), tokensSeen, null);
                        checkpointer.save(now, optimizer, writer);
                    }
                }
                // ---- evaluate
                setTraining(lora, false);
                Map<String, Double> last = Map.of();
                if (eval != null) {
                    last = evaluate(model, eval, a.evalBatchSize(), padId, r.center(), root);
                    metrics.logEval(total, (double) total / stepsPerEpoch, last);
                }
                return new Trained(total, last);
            }
        }
    }

    /** The batch's objective from its rewards [R] (pairs as index tensors, weights 1/|pairs_g|/G). */
    static NDArray pairLoss(RankingLoss objective, NDArray rewards, RankingBatch b, NDManager m) {
        int q = b.pairs();
        long[] better = new long[q];
        long[] worse = new long[q];
        float[] margin = new float[q];
        boolean anyMargin = false;
        for (int k = 0; k < q; k++) {
            better[k] = b.better()[k];
            worse[k] = b.worse()[k];
            double mk = b.margins()[k];
            anyMargin |= !Double.isNaN(mk);
            margin[k] = Double.isNaN(mk) ? 0f : (float) mk;
        }
        Shape s = new Shape(q);
        return objective.compute(rewards, Tensors.longs(m, better, s), Tensors.longs(m, worse, s),
                Tensors.floats(m, RankingLoss.weights(b.pairGroup()), s), anyMargin ? Tensors.floats(m, margin, s) : null);
    }

    /**
     * The metrics of {@link RewardStats} over every prompt of {@code ds}, with gradients off: prompts in
     * length-sorted batches of {@code batchSize}, each response scored once.
     */
    public static Map<String, Double> evaluate(DecoderLM model, TokenizedDataset ds, int batchSize, long padId,
            double center, NDManager m) {
        DataLoader<RankingBatch> loader = DataLoader.ranking(ds, null,
                DataLoader.Options.of(batchSize, 0).withShuffle(false), padId);
        RewardStats stats = new RewardStats(center);
        for (int i = 0; i < loader.batchesPerEpoch(); i++) {
            RankingBatch b = loader.next();
            try (NDScope scope = new NDScope()) {
                stats.add(b, Rewards.forward(model, b.batch(), m).toFloatArray());
            }
        }
        return stats.metrics();
    }

    private static void setTraining(LoraAdapters lora, boolean on) {
        if (lora != null) {
            lora.setTraining(on);
        }
    }

    private static TokenizedDataset load(String file, DataSettings d, Tokenizer tok, String key, List<Path> files) {
        Path p = Path.of(file);
        files.add(p);
        return Datasets.load(p, d, tok, "align rm (" + key + ")", Format.Kind.RANKING, Format.Kind.PREFERENCE);
    }

}
