package dev.align.core.train;

import dev.align.core.BadInputException;
import dev.align.core.model.DecoderLM;
import java.util.List;

/**
 * The training arguments every method shares, with the keys and meanings TRL users know from
 * {@code TrainingArguments} (flattened: {@code batch_size} is {@code per_device_train_batch_size}).
 * A method's config binds these together with its own keys and the dataset settings from one flat
 * YAML namespace ({@code core.config.Configs.loadAll}).
 *
 * @param model base model directory (Hugging Face format)
 * @param outputDir where checkpoints, metrics, the final model and provenance go
 * @param trainFile training data
 * @param evalFile held-out data (optional)
 * @param learningRate peak learning rate
 * @param lrSchedulerType constant, constant_with_warmup, linear, cosine, cosine_with_min_lr
 * @param warmupRatio share of the optimizer steps spent warming up (used when warmup_steps is 0)
 * @param warmupSteps warm-up steps (wins over warmup_ratio when positive)
 * @param weightDecay AdamW decoupled weight decay (norms, biases and embeddings are never decayed)
 * @param adamBeta1 AdamW β1
 * @param adamBeta2 AdamW β2
 * @param adamEpsilon AdamW ε
 * @param maxGradNorm gradient clipping by global norm (0 = off)
 * @param batchSize examples per micro-batch
 * @param evalBatchSize examples per evaluation batch
 * @param gradientAccumulationSteps micro-batches per optimizer step
 * @param epochs passes over the training data (fractions allowed)
 * @param maxSteps optimizer steps; positive values override epochs
 * @param evalSteps evaluate every N steps (0 = at the end only, when there is an eval file)
 * @param saveSteps checkpoint every N steps (and at the end)
 * @param saveTotalLimit checkpoints kept (0 = all)
 * @param loggingSteps write a metrics line every N steps
 * @param seed seed of data order, initialisation and sampling
 * @param evalOnly only evaluate the model on eval_file and write output_dir/eval_metrics.json
 * @param resumeFromCheckpoint a checkpoint directory, or "latest" for the newest in output_dir
 * @param loraR LoRA rank (0 = full fine-tuning)
 * @param loraAlpha LoRA α
 * @param loraDropout LoRA dropout
 * @param loraTargetModules LoRA target modules (PEFT names, or all-linear)
 * @param mergeLora also write the merged full model at the end
 * @param attnImplementation sdpa (fused, default) or eager
 * @param progress show a progress bar when stderr is a terminal
 */
public record TrainingArgs(
        String model,
        String outputDir,
        String trainFile,
        String evalFile,
        double learningRate,
        String lrSchedulerType,
        double warmupRatio,
        int warmupSteps,
        double weightDecay,
        double adamBeta1,
        double adamBeta2,
        double adamEpsilon,
        double maxGradNorm,
        int batchSize,
        int evalBatchSize,
        int gradientAccumulationSteps,
        double epochs,
        long maxSteps,
        int evalSteps,
        int saveSteps,
        int saveTotalLimit,
        int loggingSteps,
        long seed,
        boolean evalOnly,
        String resumeFromCheckpoint,
        int loraR,
        double loraAlpha,
        double loraDropout,
        List<String> loraTargetModules,
        boolean mergeLora,
        String attnImplementation,
        boolean progress) {

    /** TRL's defaults (learning rate 2e-5 as SFTConfig; methods override it). */
    public static TrainingArgs defaults() {
        return new TrainingArgs(null, null, null, null, 2e-5, "linear", 0.0, 0, 0.0, 0.9, 0.999, 1e-8, 1.0,
                8, 8, 1, 3.0, -1, 0, 500, 0, 10, 42, false, null,
                0, 32, 0.05, List.of("q_proj", "k_proj", "v_proj", "o_proj"), false, "sdpa", true);
    }

    /** These defaults with another learning rate (each method's TRL default). */
    public TrainingArgs withLearningRate(double lr) {
        return new TrainingArgs(model, outputDir, trainFile, evalFile, lr, lrSchedulerType, warmupRatio,
                warmupSteps, weightDecay, adamBeta1, adamBeta2, adamEpsilon, maxGradNorm, batchSize, evalBatchSize,
                gradientAccumulationSteps, epochs, maxSteps, evalSteps, saveSteps, saveTotalLimit, loggingSteps,
                seed, evalOnly, resumeFromCheckpoint, loraR, loraAlpha, loraDropout, loraTargetModules, mergeLora,
                attnImplementation, progress);
    }

    /** Checks the values; errors name the key. Training needs train_file, evaluation eval_file. */
    public TrainingArgs validate() {
        require(model != null && !model.isBlank(), "model", "is required");
        require(outputDir != null && !outputDir.isBlank(), "output_dir", "is required");
        if (evalOnly) {
            require(evalFile != null, "eval_file", "is required with eval_only: true");
        } else {
            require(trainFile != null, "train_file", "is required");
        }
        require(learningRate >= 0, "learning_rate", "must be ≥ 0");
        require(warmupRatio >= 0 && warmupRatio < 1, "warmup_ratio", "must be in [0, 1)");
        require(warmupSteps >= 0, "warmup_steps", "must be ≥ 0");
        require(weightDecay >= 0, "weight_decay", "must be ≥ 0");
        require(maxGradNorm >= 0, "max_grad_norm", "must be ≥ 0");
        require(batchSize >= 1, "batch_size", "must be ≥ 1");
        require(evalBatchSize >= 1, "eval_batch_size", "must be ≥ 1");
        require(gradientAccumulationSteps >= 1, "gradient_accumulation_steps", "must be ≥ 1");
        require(epochs > 0 || maxSteps > 0, "epochs", "must be > 0 (or set max_steps)");
        require(saveSteps >= 1, "save_steps", "must be ≥ 1");
        require(loggingSteps >= 1, "logging_steps", "must be ≥ 1");
        require(evalSteps >= 0, "eval_steps", "must be ≥ 0");
        require(saveTotalLimit >= 0, "save_total_limit", "must be ≥ 0");
        require(loraR >= 0, "lora_r", "must be ≥ 0");
        require(loraDropout >= 0 && loraDropout < 1, "lora_dropout", "must be in [0, 1)");
        require(attnImplementation.equals("sdpa") || attnImplementation.equals("eager"), "attn_implementation",
                "must be sdpa or eager");
        LrSchedule.of(lrSchedulerType, 1.0, 0, 1); // throws on an unknown name
        return this;
    }

    /** The attention implementation {@code attn_implementation} names: sdpa (the default) or eager. */
    public DecoderLM.AttentionImpl attention() {
        return "eager".equals(attnImplementation) ? DecoderLM.AttentionImpl.EAGER : DecoderLM.AttentionImpl.SDPA;
    }

    /** Whether {@code eval_steps} asks for an evaluation after optimizer step {@code step}. */
    public boolean evalDue(long step) {
        return evalSteps > 0 && step % evalSteps == 0;
    }

    /** Warm-up steps for a run of {@code totalSteps} optimizer steps. */
    public long warmupFor(long totalSteps) {
        return warmupSteps > 0 ? warmupSteps : (long) Math.ceil(totalSteps * warmupRatio);
    }

    /** Whether LoRA is on. */
    public boolean lora() {
        return loraR > 0;
    }

    private static void require(boolean ok, String key, String what) {
        if (!ok) {
            throw new BadInputException(key + ": " + what);
        }
    }
}
