package dev.align.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.config.Configs;
import dev.align.core.data.TokenBatch;
import dev.align.core.io.WeightFiles;
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
import dev.align.datasets.batch.DataLoader;
import dev.align.datasets.batch.LoaderState;
import dev.align.datasets.format.Format;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The SFT recipe ({@code align sft}) and, with the loss on every token, the pre-training recipe
 * ({@code align pretrain}): token-mean cross-entropy over the tokens that take loss.
 *
 * <p>{@link #setup} resolves and checks the config, loads the tokenizer and the data (every record
 * validated before any model is loaded), then the model: a Hugging Face directory, the checkpoint resumed
 * from, or — for pre-training — a {@code config.json} alone, initialised at random from {@code seed}.
 * With {@code lora_r > 0} the base weights are frozen (no gradients, no optimizer state) and only LoRA
 * adapters on {@code lora_target_modules} train.
 *
 * <p>{@link #train} is the one training loop: per optimizer step {@code gradient_accumulation_steps}
 * micro-batches of {@code batch_size} rows (packed rows with {@code packing}); each micro-batch's summed
 * negative log-likelihood divided by the labelled tokens of the whole step (transformers'
 * {@code num_items_in_batch}), one backward each; then clipping, AdamW, the schedule, metrics
 * ({@code loss}, {@code mean_token_accuracy}), evaluation and checkpoints. {@link #evaluate} gives the
 * metrics over a whole dataset; {@code eval_only: true} writes them to
 * {@code output_dir/eval_metrics.json}.
 */
public final class SftRecipe implements AutoCloseable {
    /** Written by {@code eval_only} and at the end of a training run with an eval file. */
    public static final String EVAL_METRICS = Metrics.EVAL_FILE;
    /** Where a LoRA run with {@code merge_lora: true} writes the merged model, inside output_dir. */
    public static final String MERGED = "merged";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The two faces of the recipe. */
    public enum Mode {
        /** {@code align sft}: TRL's SFTConfig defaults; loss on completions. */
        SFT("sft"),
        /** {@code align pretrain}: loss on every token, packed rows, may start from a config alone. */
        PRETRAIN("pretrain");

        private final String command;

        Mode(String command) {
            this.command = command;
        }

        /** The command (and provenance recipe name). */
        public String command() {
            return command;
        }
    }

    /**
     * What a run produced.
     *
     * @param outputDir the output directory
     * @param steps optimizer steps done (0 for eval_only)
     * @param evalMetrics {@code loss}, {@code mean_token_accuracy}, {@code perplexity} over eval_file;
     *     empty without one
     */
    public record Result(Path outputDir, long steps, Map<String, Double> evalMetrics) {}

    private final Mode mode;
    private final Configs.Resolved resolved;
    private final TrainingArgs args;
    private final DataSettings data;
    private final SftArgs sft;
    private final Path out;
    private final Path checkpoint;
    private final Consumer<String> say;
    private final NDManager root;
    private Tokenizer tok;
    private TokenizedDataset trainSet;
    private TokenizedDataset evalSet;
    private long padId;
    private DecoderLM model;
    private LoraAdapters adapters;
    private long evalTokens;

    private SftRecipe(Mode mode, Configs.Resolved resolved, Consumer<String> say) {
        this.mode = mode;
        this.resolved = resolved;
        this.args = resolved.get(TrainingArgs.class).validate();
        this.data = resolved.get(DataSettings.class).validate();
        this.sft = resolved.get(SftArgs.class).validate();
        this.out = Path.of(args.outputDir());
        this.checkpoint = args.evalOnly() ? null : Checkpointer.resumeFrom(args, out);
        this.say = say;
        if (sft.packing() && data.maxLength() == null) {
            throw new BadInputException("packing: needs max_length (the row length)");
        }
        this.root = Engines.newManager();
    }

    // ---------------------------------------------------------------- config

    /**
     * The defaults of every key ({@code TrainingArgs}, {@code DataSettings}, {@code SftArgs}). SFT: TRL's
     * SFTConfig (learning rate 2e-5, max_length 1024, completion-only loss, no packing). Pre-training: the
     * same with learning rate 5e-4, the loss on every token and packing on.
     */
    public static Object[] defaults(Mode mode) {
        if (mode == Mode.PRETRAIN) {
            DataSettings d = DataSettings.defaults().withMaxLength(1024);
            return new Object[] {TrainingArgs.defaults().withLearningRate(5e-4),
                d.withLoss(false, d.assistantOnlyLoss()), SftArgs.pretrainDefaults()};
        }
        return new Object[] {TrainingArgs.defaults(), DataSettings.defaults().withMaxLength(1024), SftArgs.defaults()};
    }

    /** Resolves a run config: defaults ← {@code file} (may be null) ← {@code key=value} overrides. */
    public static Configs.Resolved config(Mode mode, Path file, List<String> overrides) {
        return Configs.loadAll(file, overrides, defaults(mode));
    }

    // ---------------------------------------------------------------- run

    /** Sets up, then trains (or only evaluates with {@code eval_only: true}); progress lines go to stderr. */
    public static Result run(Mode mode, Configs.Resolved config) {
        return run(mode, config, System.err::println);
    }

    /** As {@link #run(Mode, Configs.Resolved)}, with the run's progress lines sent to {@code say}. */
    public static Result run(Mode mode, Configs.Resolved config, Consumer<String> say) {
        try (SftRecipe r = setup(mode, config, say)) {
            return r.args.evalOnly() ? r.evaluateOnly() : r.train();
        }
    }

    /**
     * Checks the config, loads tokenizer and data (bad records fail here, before any model is loaded),
     * then the model (and adapters).
     */
    public static SftRecipe setup(Mode mode, Configs.Resolved config, Consumer<String> say) {
        SftRecipe r = new SftRecipe(mode, config, say);
        try {
            r.load();
            return r;
        } catch (RuntimeException | Error e) {
            r.close();
            throw e;
        }
    }

    private void load() {
        ModelSource src = ModelSource.of(Path.of(args.model()));
        if (!src.hasWeights() && mode != Mode.PRETRAIN) {
            throw new BadInputException("model: " + src.path() + " holds a config but no weights (model.safetensors);"
                    + " `align pretrain` starts from a config alone");
        }
        if (!src.hasWeights() && args.lora()) {
            throw new BadInputException("lora_r: LoRA needs a trained base model; " + src.path() + " has no weights");
        }
        Path tokDir = sft.tokenizer() != null ? Path.of(sft.tokenizer()) : src.dir();
        if (!Files.isRegularFile(tokDir.resolve("tokenizer.json"))) {
            throw new BadInputException((sft.tokenizer() != null ? "tokenizer: " : "model: ") + tokDir
                    + ": no tokenizer.json" + (sft.tokenizer() == null ? " (set tokenizer: DIR)" : ""));
        }
        tok = Tokenizer.load(tokDir);
        if (!args.evalOnly()) {
            trainSet = loadData(Path.of(args.trainFile()));
        }
        if (args.evalFile() != null) {
            evalSet = loadData(Path.of(args.evalFile()));
        }
        padId = Datasets.padId(tok);
        ModelConfig mc = checkpoint != null && !args.lora() ? ModelConfig.load(checkpoint) : src.config();
        if (mc.head() != ModelConfig.Head.CAUSAL_LM) {
            throw new BadInputException("model: " + src.path() + " is a sequence-classification model; "
                    + mode.command() + " needs a causal LM");
        }
        checkLengths(mc);

        if (args.lora() && !args.evalOnly()) {
            model = DecoderLM.load(src.dir(), root);
            model.setTrainable(false);
            adapters = checkpoint != null ? LoraAdapters.load(checkpoint, model)
                    : LoraAdapters.create(model, new LoraConfig(args.loraR(), args.loraAlpha(), args.loraDropout(),
                            args.loraTargetModules()), args.seed());
            adapters.setTrainable(true);
        } else if (checkpoint != null) {
            model = DecoderLM.load(checkpoint, root);
            model.setTrainable(true);
        } else {
            model = src.hasWeights() ? DecoderLM.load(src.dir(), root) : DecoderLM.init(mc, args.seed(), root);
            model.setTrainable(!args.evalOnly());
        }
        model.setAttention(args.attention());
        model.setSegmentedBackward(true); // the step's backward is SegmentedBackward.backward
    }

    private TokenizedDataset loadData(Path file) {
        return Datasets.load(file, data, tok, mode.command(), Format.Kind.SFT);
    }

    private void checkLengths(ModelConfig c) {
        if (sft.packing() && data.maxLength() > c.maxPositions()) {
            throw new BadInputException("max_length: " + data.maxLength() + " (the packed row length) is more than the"
                    + " model's max_position_embeddings " + c.maxPositions());
        }
        Datasets.requireFits(trainSet, c.maxPositions(), "train_file");
        Datasets.requireFits(evalSet, c.maxPositions(), "eval_file");
    }

    // ---------------------------------------------------------------- train

    /** The training loop (from the checkpoint when resuming); saves the final model and evaluates. */
    public Result train() {
        if (trainSet == null) {
            throw new IllegalStateException("no training data (eval_only run)");
        }
        List<DecoderLM.Param> trainable = adapters != null ? adapters.parameters() : model.parameters();
        AdamW.Options opt = new AdamW.Options(args.adamBeta1(), args.adamBeta2(), args.adamEpsilon(), args.weightDecay());
        Engine engine = Engines.init();
        try (AdamW optimizer = new AdamW(trainable, opt)) {
            // ---- setup
            TrainingState state = checkpoint != null ? Checkpointer.resume(checkpoint, model, optimizer)
                    : TrainingState.start(args.seed());
            Provenance.startRun(out, resolved, mode.command(), checkpoint == null, dataFiles());
            DataLoader.Options lo = DataLoader.Options.of(args.batchSize(), args.seed())
                    .withGroupByLength(sft.groupByLength())
                    .withPacking(sft.packing(), data.maxLength());
            DataLoader<TokenBatch> loader = DataLoader.sft(trainSet, null, lo, padId);
            if (checkpoint != null) {
                loader.restore(LoaderState.fromJson(state.dataLoader(), checkpoint.toString()));
            }
            int accum = args.gradientAccumulationSteps();
            int perEpoch = loader.batchesPerEpoch();
            long total = totalSteps(args, perEpoch);
            LrSchedule schedule = LrSchedule.of(args.lrSchedulerType(), args.learningRate(), args.warmupFor(total), total);
            Checkpointer checkpointer = new Checkpointer(out, args.saveSteps(), args.saveTotalLimit());
            NanGuard guard = new NanGuard(out);
            guard.restore(state.nanSkipped());
            Rng rng = state.rng();
            long torchSeed = state.torchSeed();
            long tokensSeen = state.tokensSeen();
            double epoch = state.epoch();
            int window = model.config().slidingWindow();
            Map<String, Double> evalMetrics = Map.of();
            if (adapters != null) {
                adapters.setTraining(true);
            }
            say.accept(String.format(Locale.ROOT, "%s: %d examples, %d batches of %d %s per epoch; %d optimizer steps%s",
                    mode.command(), trainSet.size(), perEpoch, args.batchSize(), sft.packing() ? "packed rows" : "examples",
                    total, checkpoint != null ? ", resuming after step " + state.globalStep() : ""));

            // ---- train
            try (Metrics metrics = new Metrics(out, total, args.loggingSteps(), args.progress(), state.globalStep())) {
                for (long step = state.globalStep() + 1; step <= total; step++) {
                    torchSeed = rng.seedTorch(step); // LoRA dropout
                    List<TokenBatch> micro = new ArrayList<>(accum);
                    for (int i = 0; i < accum; i++) {
                        micro.add(loader.next());
                    }
                    long labelled = Accumulation.labelTokens(micro);
                    double loss = 0;
                    double correct = 0;
                    long tokens = 0;
                    for (TokenBatch b : micro) {
                        tokens += b.tokenCount();
                        try (NDScope scope = new NDScope(); GradientCollector gc = engine.newGradientCollector()) {
                            TokenBatch.Tensors4 t = b.toTensors(root, window);
                            SftForward.Output f = SftForward.run(model, t, labelled);
                            NDArray l = f.loss(); // 0-dim, this part of the mean
                            SegmentedBackward.backward(gc, l);
                            loss += l.getFloat();
                            correct += f.correct().getFloat();
                        }
                    }
                    double gradNorm = GradClip.clipIfSet(trainable, args.maxGradNorm());
                    double lr = schedule.lr(optimizer.updates());
                    if (guard.check(step, loss, gradNorm)) {
                        optimizer.step(lr);
                    }
                    optimizer.zeroGrad();
                    tokensSeen += tokens;
                    epoch = loader.epoch() + (double) loader.offset() / perEpoch;
                    metrics.step(step, epoch, loss, gradNorm, lr, tokens, Map.of("mean_token_accuracy", correct / labelled));
                    boolean last = step == total;
                    if (evalSet != null && (last || args.evalDue(step))) {
                        evalMetrics = evaluate(evalSet);
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
                evalMetrics = evaluate(evalSet);
            }
            saveFinal();
            if (!evalMetrics.isEmpty()) {
                writeEvalMetrics(evalMetrics, steps);
            }
            return new Result(out, steps, evalMetrics);
        }
    }

    /**
     * Optimizer steps of a run: {@code max_steps} when positive, else {@code ceil(epochs × updates per
     * epoch)} with {@code floor(batches per epoch / gradient_accumulation_steps)} (at least 1) updates per
     * epoch, as transformers' Trainer counts them.
     */
    public static long totalSteps(TrainingArgs a, int batchesPerEpoch) {
        if (a.maxSteps() > 0) {
            return a.maxSteps();
        }
        long perEpoch = Math.max(1, batchesPerEpoch / a.gradientAccumulationSteps());
        return Math.max(1, (long) Math.ceil(a.epochs() * perEpoch));
    }

    private Checkpointer.ModelWriter modelWriter() {
        if (adapters == null) {
            return Checkpointer.hfModel(model, tok);
        }
        return dir -> {
            adapters.save(dir, args.model());
            tok.copyFilesTo(dir);
        };
    }

    /**
     * The final model in output_dir: the HF model and tokenizer files (full fine-tuning), or the PEFT
     * adapter and tokenizer files (LoRA), plus {@code merged/} with the merged HF model if
     * {@code merge_lora}.
     */
    private void saveFinal() {
        if (adapters == null) {
            model.save(out);
            tok.copyFilesTo(out);
            return;
        }
        adapters.save(out, args.model());
        tok.copyFilesTo(out);
        if (args.mergeLora()) {
            adapters.mergeInto(model);
            Path merged = out.resolve(MERGED);
            model.save(merged);
            tok.copyFilesTo(merged);
        }
    }

    // ---------------------------------------------------------------- evaluate

    /** {@code eval_only}: the metrics of {@code model} over eval_file, written to output_dir/eval_metrics.json. */
    public Result evaluateOnly() {
        if (evalSet == null) {
            throw new BadInputException("eval_file: is required with eval_only: true");
        }
        Provenance.startRun(out, resolved, mode.command(), true, dataFiles());
        Map<String, Double> m = evaluate(evalSet);
        writeEvalMetrics(m, 0);
        return new Result(out, 0, m);
    }

    /**
     * The metrics of the current model over every example of {@code ds} (unpacked, batches of
     * {@code eval_batch_size} examples of similar length, no gradients): {@code loss} (token-mean
     * cross-entropy over the labelled tokens), {@code mean_token_accuracy}, {@code perplexity} = e^loss.
     */
    public Map<String, Double> evaluate(TokenizedDataset ds) {
        SftForward.Sums s = evaluate(model, ds, args.evalBatchSize(), padId, root, adapters);
        evalTokens = s.tokens();
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("loss", s.loss());
        m.put("mean_token_accuracy", s.accuracy());
        m.put("perplexity", Math.exp(s.loss()));
        return m;
    }

    /**
     * Sums of the loss and accuracy of {@code model} over {@code ds}, outside any gradient collector.
     *
     * @param adapters LoRA adapters attached to the model (their dropout is off meanwhile), or null
     */
    public static SftForward.Sums evaluate(DecoderLM model, TokenizedDataset ds, int batchSize, long padId,
            NDManager manager, LoraAdapters adapters) {
        if (adapters != null) {
            adapters.setTraining(false);
        }
        try {
            DataLoader<TokenBatch> loader = DataLoader.sft(ds, null,
                    DataLoader.Options.of(batchSize, 0).withShuffle(false), padId);
            int window = model.config().slidingWindow();
            SftForward.Sums sums = new SftForward.Sums();
            for (int i = 0, n = loader.batchesPerEpoch(); i < n; i++) {
                TokenBatch b = loader.next();
                try (NDScope scope = new NDScope()) {
                    sums.add(SftForward.run(model, b.toTensors(manager, window), Math.max(1, b.labelCount())),
                            b.labelCount(), b.rows());
                }
            }
            return sums;
        } finally {
            if (adapters != null) {
                adapters.setTraining(true);
            }
        }
    }

    private void writeEvalMetrics(Map<String, Double> m, long step) {
        ObjectNode n = JSON.createObjectNode();
        n.put("num_tokens", evalTokens);
        n.put("num_examples", evalSet.size());
        n.put("step", step);
        Metrics.writeEvalFile(out, m, n);
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

    /** The model being trained. */
    public DecoderLM model() {
        return model;
    }

    /** The LoRA adapters, or null. */
    public LoraAdapters adapters() {
        return adapters;
    }

    /** The tokenizer. */
    public Tokenizer tokenizer() {
        return tok;
    }

    /** The training data, or null (eval_only). */
    public TokenizedDataset trainSet() {
        return trainSet;
    }

    /** The eval data, or null. */
    public TokenizedDataset evalSet() {
        return evalSet;
    }

    /** The manager that owns the model. */
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
            root.close(); // the model and adapters are sub-managers of root
        }
    }

    /**
     * Where a run's starting model comes from: a Hugging Face directory (config and weights), a directory
     * holding only {@code config.json}, or a JSON config file (the last two: random initialisation, for
     * pre-training from scratch).
     *
     * @param path what {@code model} names
     * @param dir the directory (the file's directory for a config file)
     * @param config the model config
     * @param hasWeights whether weights are there to load
     */
    record ModelSource(Path path, Path dir, ModelConfig config, boolean hasWeights) {
        static ModelSource of(Path p) {
            if (Files.isRegularFile(p)) {
                JsonNode j;
                try {
                    j = JSON.readTree(p.toFile());
                } catch (IOException e) {
                    throw new BadInputException("model: " + p + ": not valid JSON: " + e.getMessage());
                }
                if (j == null || !j.isObject()) {
                    throw new BadInputException("model: " + p + ": not a JSON object");
                }
                Path dir = p.toAbsolutePath().getParent();
                return new ModelSource(p, dir, ModelConfig.of((ObjectNode) j, p.toString()), false);
            }
            if (!Files.isDirectory(p)) {
                throw new BadInputException("model: " + p + ": no such directory");
            }
            if (!Files.isRegularFile(p.resolve("config.json"))) {
                throw new BadInputException("model: " + p + ": not a model directory (no config.json)");
            }
            boolean weights = Files.isRegularFile(p.resolve(WeightFiles.SINGLE))
                    || Files.isRegularFile(p.resolve(WeightFiles.INDEX))
                    || Files.isRegularFile(p.resolve("pytorch_model.bin"));
            return new ModelSource(p, p, ModelConfig.load(p), weights);
        }
    }
}
