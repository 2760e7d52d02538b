package dev.align.po.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.align.core.nd.Tensors;

/** Numerically stable pieces shared by the objectives (no Java numbers on the graph). */
final class Ops {
    private Ops() {}

    /** log σ(x) = −softplus(−x), stable for large |x|. */
    static NDArray logSigmoid(NDArray x) {
        return x.neg().getNDArrayInternal().softPlus().neg();
    }

    /** A 0-dim constant in {@code like}'s manager. */
    static NDArray c(NDArray like, double v) {
        NDManager m = like.getManager();
        return Tensors.scalar(m, (float) v);
    }

    /** The DPO log-ratio difference h = (π_c − π_r) − (ref_c − ref_r), [P]. */
    static NDArray logits(SequenceLogps policy, SequenceLogps reference) {
        return policy.chosen().sub(policy.rejected()).sub(reference.chosen().sub(reference.rejected()));
    }

    /** β·(π − ref) for chosen and rejected, detached. */
    static NDArray[] rewards(SequenceLogps policy, SequenceLogps reference, double beta) {
        NDArray b = c(policy.chosen(), beta);
        return new NDArray[] {
            policy.chosen().sub(reference.chosen()).mul(b).stopGradient(),
            policy.rejected().sub(reference.rejected()).mul(b).stopGradient()
        };
    }
}
