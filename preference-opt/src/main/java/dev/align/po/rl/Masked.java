package dev.align.po.rl;

import ai.djl.ndarray.NDArray;
import dev.align.core.nd.Tensors;

/** Statistics over the positions a mask marks (1 = counted, 0 = padding), as TRL computes them. */
public final class Masked {
    private Masked() {}

    /** Σ x·mask / Σ mask over all entries; 0-dim. */
    public static NDArray mean(NDArray x, NDArray mask) {
        return x.mul(mask).sum().div(mask.sum());
    }

    /** The masked variance with Bessel's correction (TRL's {@code masked_var(unbiased=True)}); 0-dim. */
    public static NDArray var(NDArray x, NDArray mask) {
        NDArray mean = mean(x, mask);
        NDArray centered = x.sub(mean);
        NDArray n = mask.sum();
        NDArray v = centered.mul(centered).mul(mask).sum().div(n);
        NDArray one = Tensors.scalar(x.getManager(), 1f);
        return v.mul(n.div(n.sub(one)));
    }

    /**
     * Whitens x over the mask: (x − mean)/sqrt(var + 1e-8), adding the mean back when
     * {@code shiftMean} is false (TRL's {@code masked_whiten}); padding positions end up 0.
     */
    public static NDArray whiten(NDArray x, NDArray mask, boolean shiftMean) {
        NDArray mean = mean(x, mask);
        NDArray var = var(x, mask);
        NDArray w = x.sub(mean).div(var.add(Tensors.scalar(x.getManager(), 1e-8f)).sqrt());
        if (!shiftMean) {
            w = w.add(mean);
        }
        return w.mul(mask);
    }
}
