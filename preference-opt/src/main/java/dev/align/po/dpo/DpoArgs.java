package dev.align.po.dpo;

import dev.align.core.BadInputException;
import dev.align.po.loss.PreferenceLoss;
import dev.align.po.loss.PreferenceLosses;
import dev.align.po.loss.RpoLoss;

/**
 * The DPO family's own config keys (TRL's {@code DPOConfig} names and defaults), bound together with
 * {@code core.train.TrainingArgs} and {@code datasets.DataSettings} from one flat namespace.
 *
 * @param refModel reference model directory; null: a frozen copy of the starting policy (with LoRA: the
 *     base model with the adapters switched off, no second copy)
 * @param beta β: the strength of the KL regularisation (τ for IPO, the scale of SimPO's reward, λ for
 *     ORPO's odds-ratio term); TRL's default 0.1
 * @param lossType sigmoid, robust, hinge, ipo, simpo or orpo
 * @param labelSmoothing ε: cDPO's label smoothing for sigmoid, the flip rate for robust (below 0.5),
 *     SimPO's smoothing; 0 by default
 * @param simpoGamma SimPO's target reward margin γ (TRL's CPOConfig default 0.5)
 * @param precomputeRefLogProbs one pass before training computes and caches the reference log-probs, so
 *     training runs the policy alone
 * @param precomputeRefBatchSize pairs per forward of that pass; null: eval_batch_size
 * @param rpoAlpha α of RPO: adds α·NLL of the chosen completions to the objective ({@link RpoLoss}); null
 *     (TRL's default) for none
 */
public record DpoArgs(
        String refModel,
        double beta,
        String lossType,
        double labelSmoothing,
        double simpoGamma,
        boolean precomputeRefLogProbs,
        Integer precomputeRefBatchSize,
        Double rpoAlpha) {

    /** TRL's defaults. */
    public static DpoArgs defaults() {
        return new DpoArgs(null, 0.1, "sigmoid", 0.0, 0.5, false, null, null);
    }

    /** Checks the values; errors name the key. */
    public DpoArgs validate() {
        if (!PreferenceLosses.TYPES.contains(lossType)) {
            throw new BadInputException("loss_type: unknown '" + lossType + "' (one of "
                    + String.join(", ", PreferenceLosses.TYPES) + ")");
        }
        if (!(beta > 0) || !Double.isFinite(beta)) {
            throw new BadInputException("beta: must be positive, got " + beta);
        }
        boolean smoothed = lossType.equals("sigmoid") || lossType.equals("robust") || lossType.equals("simpo");
        if (!smoothed && labelSmoothing != 0) {
            throw new BadInputException("label_smoothing: applies to sigmoid (cDPO), robust and simpo, not "
                    + lossType + " (got " + labelSmoothing + ")");
        }
        boolean robust = lossType.equals("robust");
        if (!(labelSmoothing >= 0 && (robust ? labelSmoothing < 0.5 : labelSmoothing <= 0.5))) {
            throw new BadInputException("label_smoothing: must be in [0, 0.5" + (robust ? ")" : "]") + " for "
                    + lossType + ", got " + labelSmoothing);
        }
        if (!Double.isFinite(simpoGamma)) {
            throw new BadInputException("simpo_gamma: must be finite, got " + simpoGamma);
        }
        if (precomputeRefBatchSize != null && precomputeRefBatchSize < 1) {
            throw new BadInputException("precompute_ref_batch_size: must be ≥ 1, got " + precomputeRefBatchSize);
        }
        if (rpoAlpha != null && !(rpoAlpha > 0 && Double.isFinite(rpoAlpha))) {
            throw new BadInputException("rpo_alpha: must be positive, got " + rpoAlpha);
        }
        if (rpoAlpha != null && lossType.equals("orpo")) {
            throw new BadInputException("rpo_alpha: orpo already has an NLL term on the chosen completions");
        }
        if (referenceFree() && refModel != null) {
            throw new BadInputException("ref_model: " + lossType + " is reference-free and loads no reference model");
        }
        if (referenceFree() && precomputeRefLogProbs) {
            throw new BadInputException("precompute_ref_log_probs: " + lossType + " is reference-free: there is nothing"
                    + " to precompute");
        }
        return this;
    }

    /** The objective these keys name. */
    public PreferenceLoss loss() {
        PreferenceLoss base = PreferenceLosses.create(lossType, beta, labelSmoothing, simpoGamma);
        return rpoAlpha == null ? base : new RpoLoss(base, rpoAlpha);
    }

    /** Whether the objective needs no reference model (simpo, orpo). */
    public boolean referenceFree() {
        return loss().referenceFree();
    }
}
