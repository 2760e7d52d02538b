package dev.align.po.rl;

import ai.djl.ndarray.NDArray;
import dev.align.core.nd.Tensors;

/**
 * PPO's clipped surrogate objectives (Schulman et al. 2017, eq. 7), per token over the response mask,
 * as TRL's PPOTrainer computes them.
 */
public final class PpoLosses {
    private PpoLosses() {}

    /**
     * The policy loss and its diagnostics.
     *
     * @param loss 0-dim masked mean of max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε))
     * @param clipFraction 0-dim share of tokens where the clipped term was taken
     * @param approxKl 0-dim ½·mean((log π − log π_old)²)
     * @param ratioMean 0-dim mean of ρ = π/π_old
     */
    public record Policy(NDArray loss, NDArray clipFraction, NDArray approxKl, NDArray ratioMean) {}

    /**
     * @param logp [B, T] new log-probs (differentiable)
     * @param oldLogp [B, T] log-probs at rollout time
     * @param advantages [B, T]
     * @param mask [B, T] 1 on response tokens
     * @param cliprange ε
     */
    public static Policy policy(NDArray logp, NDArray oldLogp, NDArray advantages, NDArray mask, double cliprange) {
        NDArray logRatio = logp.sub(oldLogp);
        NDArray ratio = logRatio.exp();
        NDArray lo = Tensors.scalar(logp.getManager(), (float) (1 - cliprange));
        NDArray hi = Tensors.scalar(logp.getManager(), (float) (1 + cliprange));
        NDArray pg1 = advantages.neg().mul(ratio);
        NDArray pg2 = advantages.neg().mul(ratio.maximum(lo).minimum(hi));
        NDArray loss = Masked.mean(pg1.maximum(pg2), mask);
        NDArray clipFrac = Masked.mean(pg2.gt(pg1).toType(ai.djl.ndarray.types.DataType.FLOAT32, false), mask);
        NDArray approxKl = Masked.mean(logRatio.mul(logRatio), mask).mul(Tensors.scalar(logp.getManager(), 0.5f));
        return new Policy(loss, clipFrac.stopGradient(), approxKl.stopGradient(), Masked.mean(ratio, mask).stopGradient());
    }

    /**
     * The value loss and its diagnostic.
     *
     * @param loss 0-dim ½·masked mean of max((V − R)², (V_clip − R)²)
     * @param clipFraction 0-dim share of tokens where the clipped value was the larger error
     */
    public record Value(NDArray loss, NDArray clipFraction) {}

    /**
     * @param values [B, T] new value predictions (differentiable)
     * @param oldValues [B, T] values at rollout time
     * @param returns [B, T] GAE returns
     * @param mask [B, T]
     * @param cliprangeValue ε_v: V_clip = V_old + clip(V − V_old, −ε_v, ε_v)
     */
    public static Value value(NDArray values, NDArray oldValues, NDArray returns, NDArray mask, double cliprangeValue) {
        NDArray lo = Tensors.scalar(values.getManager(), (float) -cliprangeValue);
        NDArray hi = Tensors.scalar(values.getManager(), (float) cliprangeValue);
        NDArray clipped = oldValues.add(values.sub(oldValues).maximum(lo).minimum(hi));
        NDArray e1 = values.sub(returns);
        NDArray e2 = clipped.sub(returns);
        NDArray l1 = e1.mul(e1);
        NDArray l2 = e2.mul(e2);
        NDArray loss = Masked.mean(l1.maximum(l2), mask).mul(Tensors.scalar(values.getManager(), 0.5f));
        NDArray clipFrac = Masked.mean(l2.gt(l1).toType(ai.djl.ndarray.types.DataType.FLOAT32, false), mask);
        return new Value(loss, clipFrac.stopGradient());
    }
}
