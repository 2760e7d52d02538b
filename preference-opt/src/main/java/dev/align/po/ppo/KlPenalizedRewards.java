package dev.align.po.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.align.core.nd.Tensors;
import dev.align.po.rl.KlEstimator;

/**
 * PPO-RLHF's per-token rewards (Ziegler et al. 2019; Stiennon et al. 2020; TRL's PPOTrainer): the KL
 * penalty on every completion token and the sequence's score on its LAST real token,
 *
 * <pre>
 *   kl_t = estimator(log π_old(o_t), log ref(o_t))           (k1: log π − log ref; k3: (r − 1) − log r)
 *   r_t  = −β·kl_t·m_t + [t = last]·score                    last = Σ_t m_t − 1
 * </pre>
 *
 * with m the completion mask (1 on the completion's tokens, eos included). Tensor ops only.
 */
public final class KlPenalizedRewards {
    private KlPenalizedRewards() {}

    /**
     * The rewards and the parts that metrics report.
     *
     * @param rewards [B, L] r_t
     * @param kl [B, L] kl_t·m_t
     * @param nonScore [B, L] −β·kl_t·m_t
     */
    public record Result(NDArray rewards, NDArray kl, NDArray nonScore) {}

    /**
     * @param logp [B, L] log-probs of the rollout policy
     * @param refLogp [B, L] log-probs of the reference
     * @param mask [B, L] 1 on completion tokens (a prefix of each row)
     * @param scores [B] the sequence scores
     * @param beta the KL coefficient
     */
    public static Result compute(NDArray logp, NDArray refLogp, NDArray mask, NDArray scores, double beta,
            KlEstimator estimator) {
        NDManager m = logp.getManager();
        long b = logp.getShape().get(0);
        long l = logp.getShape().get(1);
        NDArray kl = estimator.estimate(logp, refLogp).mul(mask); // [B,L]
        NDArray nonScore = kl.mul(Tensors.scalar(m, (float) -beta)); // [B,L]
        NDArray last = mask.sum(new int[] {1}).sub(Tensors.scalar(m, 1f)).toType(DataType.INT64, false); // [B]
        NDArray cols = m.arange(0, l, 1, DataType.INT64).reshape(1, l); // [1,L]
        NDArray atLast = cols.eq(last.reshape(b, 1)).toType(DataType.FLOAT32, false); // [B,L] one-hot
        NDArray rewards = nonScore.add(atLast.mul(scores.reshape(new Shape(b, 1)))); // [B,L]
        return new Result(rewards, kl, nonScore);
    }
}
