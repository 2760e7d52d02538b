package dev.align.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.align.core.model.DecoderLM.Param;
import dev.align.core.nd.Kernels;
import java.util.List;

/**
 * Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_}: the 2-norm of all
 * gradients together, {@code total = ‖(‖g₁‖, ‖g₂‖, ...)‖}, and every gradient multiplied by
 * {@code coef = min(1, max_norm / (total + 1e-6))}. Off the autograd tape; one device sync (reading the
 * total). Parameters without a gradient are skipped.
 */
public final class GradClip {
    private GradClip() {}

    /** The global 2-norm of the gradients of {@code params} (0 if none has a gradient). */
    public static double globalNorm(List<Param> params) {
        try (NDScope scope = new NDScope()) {
            List<NDArray> g = Grads.of(params);
            return g.isEmpty() ? 0.0 : Kernels.globalNorm(g);
        }
    }

    /**
     * The factor {@code clip_grad_norm_} multiplies the gradients by, computed in float32 as torch does:
     * {@code min(1, reciprocal(total + 1e-6) · max_norm)}. Not finite when {@code total} is not.
     */
    public static float coefficient(double totalNorm, double maxNorm) {
        float denom = (float) totalNorm + 1e-6f;
        float coef = (1f / denom) * (float) maxNorm;
        return Float.isNaN(coef) ? coef : Math.min(coef, 1f);
    }

    /**
     * Clips the gradients of {@code params} to global norm {@code maxNorm} in place and returns the norm
     * before clipping (what TRL logs as {@code grad_norm}). Gradients are only touched when the
     * coefficient is below 1 (multiplying by 1 changes nothing) and the norm is finite (a step with a
     * non-finite norm is skipped by {@link NanGuard}, so its gradients are dropped anyway).
     *
     * @param maxNorm the largest allowed norm, &gt; 0
     */
    public static double clipGlobalNorm(List<Param> params, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("max_grad_norm must be > 0: " + maxNorm);
        }
        try (NDScope scope = new NDScope()) {
            List<NDArray> g = Grads.of(params);
            if (g.isEmpty()) {
                return 0.0;
            }
            float total = Kernels.globalNorm(g);
            float coef = coefficient(total, maxNorm);
            if (Float.isFinite(total) && coef < 1f) {
                NDArray factor = g.get(0).getManager().full(new Shape(), coef, DataType.FLOAT32);
                Kernels.scaleInPlace(g, factor);
            }
            return total;
        }
    }

    /**
     * What a recipe does with {@code max_grad_norm}: clips to it when it is &gt; 0 ({@link #clipGlobalNorm}),
     * otherwise only measures ({@link #globalNorm}, TRL's behaviour for 0 or less). Returns the norm before
     * clipping either way.
     */
    public static double clipIfSet(List<Param> params, double maxNorm) {
        return maxNorm > 0 ? clipGlobalNorm(params, maxNorm) : globalNorm(params);
    }
}
