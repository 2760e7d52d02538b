package dev.align.po.dpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.config.Configs;
import dev.align.core.data.TokenBatch;
import dev.align.core.lora.LoraAdapters;
import dev.align.core.lora.LoraConfig;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.model.SegmentedBackward;
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
import dev.align.datasets.batch.Batches;
import dev.align.datasets.batch.DataLoader;
import dev.align.datasets.batch.LoaderState;
import dev.align.datasets.batch.PreferenceBatch;
import dev.align.datasets.batch.Splits;
import dev.align.datasets.format.Format;
import dev.align.po.loss.PreferenceLoss;
import dev.align.po.loss.SequenceLogps;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DPO recipe ({@code align dpo}): DPO and its family — sigmoid (DPO, cDPO with label smoothing),
 * robust, hinge, IPO, SimPO and ORPO ({@link dev.align.po.loss}) — on preference data.
 *
 * <p>{@link #setup} resolves and checks the config, loads the tokenizer and the data (every record
 * validated before any model is loaded), then the models:
 *
 * <ul>
 *   <li><b>policy</b>: the model (or the checkpoint resumed from), trained in full or through LoRA
 *       adapters;
 *   <li><b>reference</b>: a frozen copy of the starting policy ({@code model}) or {@code ref_model}, run
 *       outside any gradient collector; with LoRA and no {@code ref_model}, the policy itself with its
 *       adapters detached (no second copy); with {@code precompute_ref_log_probs}, one pass before
 *       training stores every pair's reference sums ({@link RefLogpsCache}) and the reference model is
 *       released, so training runs the policy alone; reference-free objectives (SimPO, ORPO) load none.
 * </ul>
 *
 * <p>{@link #train} is the one training loop: per optimizer step, {@code gradient_accumulation_steps}
 * micro-batches of {@code batch_size} pairs; each micro-batch's chosen and rejected rows go through the
 * policy in one concatenated forward, its loss scaled by its share of the step's pairs, one backward;
 * then clipping, AdamW, the schedule, TRL's metrics, evaluation and checkpoints. {@link #evaluate} gives
 * the metrics ({@link PairStats}) over a whole dataset; {@code eval_only: true} writes them to
 * {@code output_dir/eval_metrics.json}.
 */
public final class DpoRecipe implements AutoCloseable {
    /** The recipe's name in provenance. */
    public static final String NAME = "dpo";
    /** Written by {@code eval_only} and at the end of a training run with an eval file. */
    public static final String EVAL_METRICS = Metrics.EVAL_FILE;
    private static final Logger LOG = LoggerFactory.getLogger(DpoRecipe.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What a run produced.
     *
     * @param outputDir the output directory
     * @param steps optimizer steps done (0 for eval_only)
     * @param evalMetrics the eval metrics (TRL's names, unprefixed), empty without an eval file
     */
    public record Result(Path outputDir, long steps, Map<String, Double> evalMetrics) {}

    private final Configs.Resolved resolved;
    private final TrainingArgs args;
    private final DataSettings data;
    private final DpoArgs dpo;
    private final PreferenceLoss loss;
    private final Path out;
    private final Path checkpoint;
    private final NDManager root;
    private Tokenizer tok;
    private TokenizedDataset trainSet;
    private TokenizedDataset evalSet;
    private long padId;
    private DecoderLM policy;
    private DecoderLM refModel;
    private LoraAdapters adapters;
    private Reference trainRef;
    private Reference evalRef;

    private DpoRecipe(Configs.Resolved resolved) {
        this.resolved = resolved;
        this.args = resolved.get(TrainingArgs.class).validate();
        this.data = resolved.get(DataSettings.class).validate();
        this.dpo = resolved.get(DpoArgs.class).validate();
        this.loss = dpo.loss();
        this.out = Path.of(args.outputDir());
        this.checkpoint = args.evalOnly() ? null : Checkpointer.resumeFrom(args, out);
        this.root = Engines.newManager();
    }

    // ---------------------------------------------------------------- config

    /** The defaults of every key: TRL's DPOConfig (learning rate 1e-6, max_length 1024) and the shared ones. */
    public static Object[] defaults() {
        return new Object[] {TrainingArgs.defaults().withLearningRate(1e-6), DataSettings.defaults().withMaxLength(1024),
            DpoArgs.defaults()};
    }

    /** Resolves a run config: defaults ← {@code file} (may be null) ← {@code key=value} overrides. */
    public static Configs.Resolved config(Path file, List<String> overrides) {
        return Configs.loadAll(file, overrides, defaults());
    }

    // ---------------------------------------------------------------- run

    /** Sets up, then trains (or only evaluates with {@code eval_only: true}), and releases everything. */
    public static Result run(Configs.Resolved config) {
        try (DpoRecipe r = setup(config)) {
            return r.args.evalOnly() ? r.evaluateOnly() : r.train();
        }
    }

    /**
     * Checks the config, loads tokenizer and data (bad records fail here, before any model is loaded),
     * then the policy and the reference (computing the reference log-probs first when they are
     * precomputed).
     */
    public static DpoRecipe setup(Configs.Resolved config) {
        DpoRecipe r = new DpoRecipe(config);
        try {
            r.load();
            return r;
        } catch (RuntimeException | Error e) {
            r.close();
            throw e;
        }
    }

    private void load() {
        Path modelDir = Path.of(args.model());
        tok = Tokenizer.load(modelDir);
        if (!args.evalOnly()) {
            trainSet = loadData(Path.of(args.trainFile()));
        }
        if (args.evalFile() != null) {
            evalSet = loadData(Path.of(args.evalFile()));
        }
        padId = Datasets.padId(tok);
        ModelConfig pc = ModelConfig.load(checkpoint != null && !args.lora() ? checkpoint : modelDir);
        if (pc.head() != ModelConfig.Head.CAUSAL_LM) {
            throw new BadInputException("model: " + modelDir + " is a sequence-classification model; DPO needs a causal LM");
        }
        Datasets.requireFits(trainSet, pc.maxPositions(), "train_file");
        Datasets.requireFits(evalSet, pc.maxPositions(), "eval_file");

        boolean useAdaptersOff = !loss.referenceFree() && args.lora() && dpo.refModel() == null && !args.evalOnly();
        Path refDir = loss.referenceFree() || useAdaptersOff ? null
                : Path.of(dpo.refModel() != null ? dpo.refModel() : args.model());
        if (refDir != null) {
            ModelConfig rc = ModelConfig.load(refDir);
            if (rc.head() != ModelConfig.Head.CAUSAL_LM || rc.vocabSize() != pc.vocabSize()) {
                throw new BadInputException("ref_model: " + refDir + " must be a causal LM with the policy's vocabulary ("
                        + pc.vocabSize() + " tokens)");
            }
            refModel = DecoderLM.load(refDir, root); // parameters never require gradients
            refModel.setAttention(args.attention());
        }
        if (dpo.precomputeRefLogProbs() && refModel != null) {
            precompute(new Reference.FromModel(refModel, false), refDir);
            refModel.close();
            refModel = null;
        }

        // the policy
        if (args.lora() && !args.evalOnly()) {
            policy = DecoderLM.load(modelDir, root);
            policy.setTrainable(false);
            policy.setAttention(args.attention());
            if (dpo.precomputeRefLogProbs() && useAdaptersOff) {
                precompute(new Reference.FromModel(policy, false), modelDir); // before any adapter exists
            }
            adapters = checkpoint != null ? LoraAdapters.load(checkpoint, policy)
                    : LoraAdapters.create(policy, new LoraConfig(args.loraR(), args.loraAlpha(), args.loraDropout(),
                            args.loraTargetModules()), args.seed());
            adapters.setTrainable(true);
        } else {
            policy = DecoderLM.load(checkpoint != null ? checkpoint : modelDir, root);
            policy.setTrainable(!args.evalOnly());
            policy.setAttention(args.attention());
        }
        policy.setSegmentedBackward(true); // microStep's backward is SegmentedBackward.backward
        if (!dpo.precomputeRefLogProbs() && !loss.referenceFree()) {
            Reference r = useAdaptersOff ? new Reference.FromModel(policy, true) : new Reference.FromModel(refModel, false);
            trainRef = r;
            evalRef = r;
        }
    }

    private void precompute(Reference.FromModel ref, Path refDir) {
        String hash = data.cache() ? RefLogpsCache.weightsHash(refDir) : "";
        int bs = dpo.precomputeRefBatchSize() != null ? dpo.precomputeRefBatchSize() : args.evalBatchSize();
        if (trainSet != null) {
            trainRef = RefLogpsCache.load(trainSet, data.cache(), hash, ref, bs, padId, root);
        }
        if (evalSet != null) {
            evalRef = RefLogpsCache.load(evalSet, data.cache(), hash, ref, bs, padId, root);
        }
    }

    private TokenizedDataset loadData(Path file) {
        return Datasets.load(file, data, tok, "dpo", Format.Kind.PREFERENCE);
    }

    // ---------------------------------------------------------------- train

    /** The training loop (from the checkpoint when resuming); saves the final model and evaluates. */
    public Result train() {
        if (trainSet == null) {
            throw new IllegalStateException("no training data (eval_only run)");
        }
        List<DecoderLM.Param> trainable = adapters != null ? adapters.parameters() : policy.parameters();
        AdamW.Options opt = new AdamW.Options(args.adamBeta1(), args.adamBeta2(), args.adamEpsilon(), args.weightDecay());
        Engine engine = Engines.init();
        try (AdamW optimizer = new AdamW(trainable, opt)) {
            // ---- setup
            TrainingState state = checkpoint != null ? Checkpointer.resume(checkpoint, policy, optimizer)
                    : TrainingState.start(args.seed());
            Provenance.startRun(out, resolved, NAME, checkpoint == null, dataFiles());
            DataLoader<int[]> loader = new DataLoader<>(Splits.all(trainSet.size()), trainSet::length,
                    DataLoader.Options.of(args.batchSize(), args.seed()), DpoRecipe::flat);
            if (checkpoint != null) {
                loader.restore(LoaderState.fromJson(state.dataLoader(), checkpoint.toString()));
            }
            int accum = args.gradientAccumulationSteps();
            int perEpoch = loader.batchesPerEpoch();
            long total = args.maxSteps() > 0 ? args.maxSteps() : (long) Math.ceil(args.epochs() * perEpoch / accum);
            LrSchedule schedule = LrSchedule.of(args.lrSchedulerType(), args.learningRate(), args.warmupFor(total), total);
            Checkpointer checkpointer = new Checkpointer(out, args.saveSteps(), args.saveTotalLimit());
            NanGuard guard = new NanGuard(out);
            guard.restore(state.nanSkipped());
            Rng rng = state.rng();
            long torchSeed = state.torchSeed();
            long tokensSeen = state.tokensSeen();
            double epoch = state.epoch();
            int window = policy.config().slidingWindow();
            Map<String, Double> evalMetrics = Map.of();
            if (adapters != null) {
                adapters.setTraining(true);
            }

            // ---- train
            try (Metrics metrics = new Metrics(out, total, args.loggingSteps(), args.progress(), state.globalStep())) {
                for (long step = state.globalStep() + 1; step <= total; step++) {
                    torchSeed = rng.seedTorch(step); // LoRA dropout
                    List<int[]> micro = new ArrayList<>(accum);
                    int pairs = 0;
                    for (int i = 0; i < accum; i++) {
                        int[] idx = loader.next();
                        micro.add(idx);
                        pairs += idx.length;
                    }
                    PairStats stats = new PairStats();
                    double stepLoss = 0;
                    long tokens = 0;
                    for (int[] idx : micro) {
                        PreferenceBatch pb = Batches.preference(trainSet, idx, padId);
                        tokens += pb.batch().tokenCount();
                        try (NDScope scope = new NDScope()) {
                            TokenBatch.Tensors4 t = pb.batch().toTensors(root, window);
                            Reference.Sums ref = trainRef == null ? null : trainRef.logps(t, idx, root); // no graph
                            stepLoss += microStep(engine, policy, loss, t, ref, Accumulation.rowShare(idx.length, pairs),
                                    stats);
                        }
                    }
                    double gradNorm = GradClip.clipIfSet(trainable, args.maxGradNorm());
                    double lr = schedule.lr(optimizer.updates());
                    if (guard.check(step, stepLoss, gradNorm)) {
                        optimizer.step(lr);
                    }
                    optimizer.zeroGrad();
                    tokensSeen += tokens;
                    epoch = loader.epoch() + (double) loader.offset() / perEpoch;
                    Map<String, Double> extra = stats.metrics(loss, root);
                    extra.remove("loss");
                    metrics.step(step, epoch, stepLoss, gradNorm, lr, tokens, extra);
                    boolean last = step == total;
                    if (evalSet != null && (last || args.evalDue(step))) {
                        evalMetrics = evaluate(evalSet, evalRef);
                        metrics.logEval(step, epoch, evalMetrics);
                    }
                    if (checkpointer.due(step, last)) {
                        TrainingState now = new TrainingState(step, epoch, optimizer.updates(),
                                loader.state().toJsonNode(), rng, torchSeed, guard.skipped(), tokensSeen, null);
                        checkpointer.save(now, optimizer, modelWriter());
                    }
                }
            }
            long steps = Math.max(total, state.globalStep());
            if (evalSet != null && evalMetrics.isEmpty()) { // resumed after the last step
                evalMetrics = evaluate(evalSet, evalRef);
            }
            saveFinal();
            if (!evalMetrics.isEmpty()) {
                writeEvalMetrics(evalMetrics, steps);
            }
            return new Result(out, steps, evalMetrics);
        }
    }

    /**
     * One micro-batch's forward and backward: the 2P rows through the policy in one forward inside a
     * gradient collector, the objective against the reference sums (computed before, outside the
     * collector), scaled by the micro-batch's share of the step's pairs, backward; the pairs' numbers go
     * to {@code stats}. Call inside the step's {@code NDScope}.
     *
     * @param ref the reference's sums, null for reference-free objectives
     * @return the scaled loss (this micro-batch's part of the step's loss)
     */
    public static double microStep(Engine engine, DecoderLM policy, PreferenceLoss loss, TokenBatch.Tensors4 t,
            Reference.Sums ref, double share, PairStats stats) {
        try (GradientCollector gc = engine.newGradientCollector()) {
            PairForward.Result f = PairForward.run(policy, t, true); // chosen + rejected, one forward
            PreferenceLoss.Output o = loss.compute(f.logps(), sequenceLogps(ref, f.logps()));
            NDArray l = Accumulation.scale(o.loss(), share); // 0-dim
            SegmentedBackward.backward(gc, l);
            stats.add(f, ref);
            return l.getFloat();
        }
    }

    private static SequenceLogps sequenceLogps(Reference.Sums ref, SequenceLogps policy) {
        return ref == null ? null
                : new SequenceLogps(ref.chosen(), ref.rejected(), policy.chosenTokens(), policy.rejectedTokens());
    }

    private static int[] flat(int[][] rows) {
        int[] out = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = rows[i][0];
        }
        return out;
    }

    private Checkpointer.ModelWriter modelWriter() {
        if (adapters == null) {
            return Checkpointer.hfModel(policy, tok);
        }
        return dir -> {
            adapters.save(dir, args.model());
            tok.copyFilesTo(dir);
        };
    }

    /** The final model in output_dir: the HF model (full) or the PEFT adapter (LoRA, plus merged/ if merge_lora). */
    private void saveFinal() {
        modelWriter().write(out);
        if (adapters != null && args.mergeLora()) {
            adapters.mergeInto(policy);
            Path merged = out.resolve("merged");
            policy.save(merged);
            tok.copyFilesTo(merged);
        }
    }

    // ---------------------------------------------------------------- evaluate

    /** {@code eval_only}: the metrics of {@code model} against the reference over eval_file, written out. */
    public Result evaluateOnly() {
        if (evalSet == null) {
            throw new BadInputException("eval_file: is required with eval_only: true");
        }
        Provenance.startRun(out, resolved, NAME, true, dataFiles());
        Map<String, Double> m = evaluate(evalSet, evalRef);
        writeEvalMetrics(m, 0);
        return new Result(out, 0, m);
    }

    /**
     * The metrics ({@link PairStats#NAMES}) of the current policy over every pair of {@code ds}, batched
     * by length, {@code eval_batch_size} pairs per forward, without gradients.
     *
     * @param ref the reference for {@code ds} (null for reference-free objectives)
     */
    public Map<String, Double> evaluate(TokenizedDataset ds, Reference ref) {
        if (adapters != null) {
            adapters.setTraining(false);
        }
        try {
            int n = ds.size();
            Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingInt((Integer i) -> -ds.length(i)));
            int bs = args.evalBatchSize();
            int window = policy.config().slidingWindow();
            PairStats stats = new PairStats();
            for (int start = 0; start < n; start += bs) {
                int[] idx = new int[Math.min(bs, n - start)];
                for (int k = 0; k < idx.length; k++) {
                    idx[k] = order[start + k];
                }
                PreferenceBatch pb = Batches.preference(ds, idx, padId);
                try (NDScope scope = new NDScope()) {
                    TokenBatch.Tensors4 t = pb.batch().toTensors(root, window);
                    Reference.Sums r = ref == null ? null : ref.logps(t, idx, root);
                    stats.add(PairForward.run(policy, t, true), r);
                }
            }
            return stats.metrics(loss, root);
        } finally {
            if (adapters != null) {
                adapters.setTraining(true);
            }
        }
    }

    private void writeEvalMetrics(Map<String, Double> m, long step) {
        ObjectNode n = JSON.createObjectNode();
        n.put("n_pairs", evalSet.size());
        n.put("step", step);
        n.put("loss_type", dpo.lossType());
        n.put("beta", dpo.beta());
        Metrics.writeEvalFile(out, m, n);
        LOG.info("eval over {} pairs: {}", evalSet.size(), m);
    }

    private List<Path> dataFiles() {
        List<Path> f = new ArrayList<>();
        if (trainSet != null) {
            f.add(Path.of(args.trainFile()));
        }
        if (evalSet != null) {
            f.add(Path.of(args.evalFile()));
        }
        return f;
    }

    // ---------------------------------------------------------------- accessors (tests, the demo)

    /** The policy being trained. */
    public DecoderLM policy() {
        return policy;
    }

    /** The separate reference model, or null (LoRA base, precomputed, or reference-free). */
    public DecoderLM referenceModel() {
        return refModel;
    }

    /** The training data's reference: a model, precomputed sums, or null for reference-free objectives. */
    public Reference trainReference() {
        return trainRef;
    }

    /** The eval data's reference. */
    public Reference evalReference() {
        return evalRef;
    }

    /** The LoRA adapters, or null. */
    public LoraAdapters adapters() {
        return adapters;
    }

    /** The training data, or null (eval_only). */
    public TokenizedDataset trainSet() {
        return trainSet;
    }

    /** The eval data, or null. */
    public TokenizedDataset evalSet() {
        return evalSet;
    }

    /** The manager that owns every model of this run. */
    public NDManager manager() {
        return root;
    }

    @Override
    public void close() {
        try {
            if (trainSet != null) {
                trainSet.close();
            }
            if (evalSet != null) {
                evalSet.close();
            }
            if (tok != null) {
                tok.close();
            }
        } finally {
            root.close(); // the models and adapters are sub-managers of root
        }
    }
}
