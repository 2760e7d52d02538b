package dev.align.po.rl;

import ai.djl.ndarray.NDArray;
import dev.align.core.nd.Tensors;

/**
 * Per-token estimators of KL(π ‖ ref) from samples of π (Schulman 2020, "Approximating KL
 * Divergence"), with log r = log ref − log π at each sampled token.
 */
public enum KlEstimator {
    /** k1 = −log r = log π − log ref: unbiased, high variance, can be negative. */
    K1,
    /** k3 = (r − 1) − log r: unbiased, non-negative, low variance (GRPO's choice). */
    K3;

    /**
     * @param logp [B, T] log π of the sampled tokens
     * @param refLogp [B, T] log ref of the same tokens
     * @return [B, T] per-token estimate
     */
    public NDArray estimate(NDArray logp, NDArray refLogp) {
        if (this == K1) {
            return logp.sub(refLogp);
        }
        NDArray logr = refLogp.sub(logp);
        return logr.exp().sub(logr).sub(Tensors.scalar(logp.getManager(), 1f));
    }
}
