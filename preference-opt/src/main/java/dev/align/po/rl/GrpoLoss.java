package dev.align.po.rl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.align.core.nd.Tensors;

/**
 * GRPO's clipped per-token objective with an optional k3 KL penalty to the reference (Shao et al.
 * 2024, eq. 3), asymmetric clipping (DAPO's ε_high, Yu et al. 2025), and TRL's loss aggregations:
 *
 * <pre>
 *   ρ_t    = π(o_t)/π_old(o_t)
 *   ℓ_t    = −min(ρ_t·A, clip(ρ_t, 1 − ε, 1 + ε_high)·A) + β·k3_t
 *   grpo:    mean over sequences of (Σ_t ℓ_t·m_t / Σ_t m_t)
 *   dapo:    Σ ℓ·m / Σ m                      (token-level, over the whole batch)
 *   dr_grpo: Σ ℓ·m / (N · max_completion_length)
 * </pre>
 */
public final class GrpoLoss {
    /** How per-token losses become the batch loss. */
    public enum Aggregation {
        GRPO,
        DAPO,
        DR_GRPO
    }

    private final double epsilon;
    private final double epsilonHigh;
    private final double beta;
    private final Aggregation aggregation;
    private final int maxCompletionLength;

    public GrpoLoss(double epsilon, double epsilonHigh, double beta, Aggregation aggregation, int maxCompletionLength) {
        this.epsilon = epsilon;
        this.epsilonHigh = epsilonHigh;
        this.beta = beta;
        this.aggregation = aggregation;
        this.maxCompletionLength = maxCompletionLength;
    }

    /**
     * The loss and diagnostics.
     *
     * @param loss 0-dim
     * @param kl 0-dim masked mean of k3 (0 when β = 0 and no reference is given)
     * @param clipLow 0-dim share of tokens clipped below (ρ &lt; 1 − ε with A &lt; 0)
     * @param clipHigh 0-dim share clipped above (ρ &gt; 1 + ε_high with A &gt; 0)
     * @param clipRegion 0-dim share clipped either way
     */
    public record Output(NDArray loss, NDArray kl, NDArray clipLow, NDArray clipHigh, NDArray clipRegion) {}

    /**
     * @param logp [N, T] log π of the completion tokens (differentiable)
     * @param oldLogp [N, T] log π_old (rollout time)
     * @param refLogp [N, T] log ref, or null when β = 0
     * @param advantages [N] one per completion
     * @param mask [N, T] 1 on completion tokens
     */
    public Output compute(NDArray logp, NDArray oldLogp, NDArray refLogp, NDArray advantages, NDArray mask) {
        var m = logp.getManager();
        long n = logp.getShape().get(0);
        NDArray adv = advantages.reshape(n, 1); // [N,1]
        NDArray ratio = logp.sub(oldLogp).exp(); // [N,T]
        NDArray clipped = ratio.maximum(Tensors.scalar(m, (float) (1 - epsilon)))
                .minimum(Tensors.scalar(m, (float) (1 + epsilonHigh)));
        NDArray perToken = ratio.mul(adv).minimum(clipped.mul(adv)).neg(); // [N,T]
        NDArray kl = m.zeros(new ai.djl.ndarray.types.Shape());
        if (refLogp != null) {
            NDArray k3 = KlEstimator.K3.estimate(logp, refLogp);
            if (beta != 0) {
                perToken = perToken.add(k3.mul(Tensors.scalar(m, (float) beta)));
            }
            kl = Masked.mean(k3, mask).stopGradient();
        }
        NDArray masked = perToken.mul(mask);
        NDArray loss;
        switch (aggregation) {
            case GRPO:
                loss = masked.sum(new int[] {1}).div(mask.sum(new int[] {1}).maximum(Tensors.scalar(m, 1f))).mean();
                break;
            case DAPO:
                loss = masked.sum().div(mask.sum().maximum(Tensors.scalar(m, 1f)));
                break;
            case DR_GRPO:
            default:
                loss = masked.sum().div(Tensors.scalar(m, (float) n * maxCompletionLength));
                break;
        }
        NDArray low = ratio.lt(Tensors.scalar(m, (float) (1 - epsilon))).logicalAnd(adv.lt(Tensors.scalar(m, 0f)));
        NDArray high = ratio.gt(Tensors.scalar(m, (float) (1 + epsilonHigh))).logicalAnd(adv.gt(Tensors.scalar(m, 0f)));
        NDArray region = low.logicalOr(high);
        return new Output(loss, kl,
                Masked.mean(low.toType(DataType.FLOAT32, false), mask).stopGradient(),
                Masked.mean(high.toType(DataType.FLOAT32, false), mask).stopGradient(),
                Masked.mean(region.toType(DataType.FLOAT32, false), mask).stopGradient());
    }
}
