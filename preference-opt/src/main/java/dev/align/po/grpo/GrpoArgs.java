package dev.align.po.grpo;

import dev.align.core.BadInputException;
import dev.align.core.train.TrainingArgs;
import dev.align.po.rl.GrpoLoss;
import java.util.Locale;

/**
 * GRPO's own keys (TRL's {@code GRPOConfig} beyond {@code TrainingArguments}), bound with
 * {@code TrainingArgs}, {@code DataSettings} and {@code RewardArgs} from one flat namespace. Defaults are
 * TRL 1.13's.
 *
 * <p>Batch sizes as in TRL: {@code batch_size} (per_device_train_batch_size) counts COMPLETIONS per
 * micro-batch; an optimizer step takes {@code gradient_accumulation_steps} micro-batches; a rollout
 * (generation batch) has {@code generation_batch_size} = {@code batch_size × steps_per_generation}
 * completions, i.e. {@code generation_batch_size / num_generations} prompts, and is used for
 * {@code num_iterations × steps_per_generation / gradient_accumulation_steps} optimizer steps.
 *
 * @param numGenerations G, completions sampled per prompt (≥ 2)
 * @param maxCompletionLength the most new tokens per completion
 * @param generationBatchSize completions per rollout; null for batch_size × steps_per_generation
 * @param stepsPerGeneration micro-batches per rollout; null for gradient_accumulation_steps (or from
 *     generation_batch_size)
 * @param temperature sampling temperature (&gt; 0)
 * @param topP nucleus sampling (1 = off)
 * @param topK top-k sampling (0 = off)
 * @param minP min-p sampling; null for off
 * @param repetitionPenalty 1 = off
 * @param beta β of the k3 KL penalty to the reference (0: no reference model is loaded)
 * @param numIterations μ, passes over each rollout
 * @param epsilon ε of the clipped objective (lower bound 1 − ε)
 * @param epsilonHigh ε_high (upper bound 1 + ε_high); null for ε
 * @param scaleRewards {@code group} (divide by the group's std), {@code batch} (by the whole rollout's
 *     std) or {@code none} (Dr. GRPO)
 * @param lossType {@code dapo} (tokens of the whole batch), {@code grpo} (per sequence, then mean) or
 *     {@code dr_grpo} (by batch × max_completion_length)
 * @param maskTruncatedCompletions leave completions that did not end with eos out of the loss
 * @param localRolloutForwardBatchSize rows per gradient-free forward (reference log-probs) and per
 *     generate call (TRL OnPolicyConfig's name; 0 = the whole rollout at once)
 */
public record GrpoArgs(
        int numGenerations,
        int maxCompletionLength,
        Integer generationBatchSize,
        Integer stepsPerGeneration,
        double temperature,
        double topP,
        int topK,
        Double minP,
        double repetitionPenalty,
        double beta,
        int numIterations,
        double epsilon,
        Double epsilonHigh,
        String scaleRewards,
        String lossType,
        boolean maskTruncatedCompletions,
        int localRolloutForwardBatchSize) {

    /** TRL 1.13's GRPOConfig defaults. */
    public static GrpoArgs defaults() {
        return new GrpoArgs(8, 512, null, null, 1.0, 1.0, 0, null, 1.0, 0.0, 1, 0.2, null, "group", "dapo", false, 64);
    }

    /** Checks the values against each other and the training keys; errors name the key. */
    public GrpoArgs validate(TrainingArgs a) {
        require(numGenerations >= 2, "num_generations", "must be ≥ 2 (advantages compare a prompt's completions)");
        require(maxCompletionLength >= 1, "max_completion_length", "must be ≥ 1");
        require(temperature > 0 && Double.isFinite(temperature), "temperature", "must be > 0 (GRPO samples)");
        require(topP > 0 && topP <= 1, "top_p", "must be in (0, 1]");
        require(topK >= 0, "top_k", "must be ≥ 0");
        require(minP == null || (minP >= 0 && minP <= 1), "min_p", "must be in [0, 1]");
        require(repetitionPenalty > 0, "repetition_penalty", "must be > 0");
        require(beta >= 0, "beta", "must be ≥ 0");
        require(numIterations >= 1, "num_iterations", "must be ≥ 1");
        require(epsilon > 0 && epsilon < 1, "epsilon", "must be in (0, 1)");
        require(epsilonHigh == null || epsilonHigh > 0, "epsilon_high", "must be > 0");
        require(localRolloutForwardBatchSize >= 0, "local_rollout_forward_batch_size", "must be ≥ 0");
        scale();
        aggregation();
        require(generationBatchSize == null || stepsPerGeneration == null, "generation_batch_size",
                "set generation_batch_size or steps_per_generation, not both");
        int spg = stepsPerGeneration(a);
        require(spg >= 1, "steps_per_generation", "must be ≥ 1");
        if (generationBatchSize != null) {
            require(generationBatchSize % a.batchSize() == 0, "generation_batch_size",
                    "(" + generationBatchSize + ") must be a multiple of batch_size (" + a.batchSize() + ")");
        }
        require(spg % a.gradientAccumulationSteps() == 0, "steps_per_generation",
                "(" + spg + ") must be a multiple of gradient_accumulation_steps (" + a.gradientAccumulationSteps()
                        + "): every optimizer step takes whole micro-batches of one rollout");
        require(generationBatchSize(a) % numGenerations == 0, "generation_batch_size",
                "(" + generationBatchSize(a) + " = batch_size × steps_per_generation) must be divisible by"
                        + " num_generations (" + numGenerations + ")");
        return this;
    }

    /** Micro-batches per rollout. */
    public int stepsPerGeneration(TrainingArgs a) {
        if (stepsPerGeneration != null) {
            return stepsPerGeneration;
        }
        if (generationBatchSize != null) {
            return generationBatchSize / a.batchSize();
        }
        return a.gradientAccumulationSteps();
    }

    /** Completions per rollout. */
    public int generationBatchSize(TrainingArgs a) {
        return generationBatchSize != null ? generationBatchSize : a.batchSize() * stepsPerGeneration(a);
    }

    /** ε_high. */
    public double upperEpsilon() {
        return epsilonHigh != null ? epsilonHigh : epsilon;
    }

    /** How advantages are scaled. */
    public enum Scale {
        GROUP,
        BATCH,
        NONE
    }

    /** {@code scale_rewards} parsed (true/false are accepted as group/none, as TRL does). */
    public Scale scale() {
        String s = scaleRewards == null ? "" : scaleRewards.toLowerCase(Locale.ROOT);
        return switch (s) {
            case "group", "true" -> Scale.GROUP;
            case "batch" -> Scale.BATCH;
            case "none", "false" -> Scale.NONE;
            default -> throw new BadInputException("scale_rewards: must be group, batch or none, got '" + scaleRewards + "'");
        };
    }

    /** {@code loss_type} parsed. */
    public GrpoLoss.Aggregation aggregation() {
        String s = lossType == null ? "" : lossType.toLowerCase(Locale.ROOT);
        return switch (s) {
            case "dapo" -> GrpoLoss.Aggregation.DAPO;
            case "grpo" -> GrpoLoss.Aggregation.GRPO;
            case "dr_grpo" -> GrpoLoss.Aggregation.DR_GRPO;
            default -> throw new BadInputException("loss_type: must be dapo, grpo or dr_grpo, got '" + lossType + "'");
        };
    }

    private static void require(boolean ok, String key, String what) {
        if (!ok) {
            throw new BadInputException(key + ": " + what);
        }
    }
}
