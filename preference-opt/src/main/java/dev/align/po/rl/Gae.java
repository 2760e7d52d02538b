package dev.align.po.rl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.align.core.nd.Tensors;

/**
 * Generalised advantage estimation (Schulman et al. 2016, eq. 16) over token-level rewards:
 *
 * <pre>
 *   δ_t = r_t + γ·V_{t+1} − V_t          (V_T = 0; padded positions have r = V = 0)
 *   A_t = Σ_{k ≥ t} (γλ)^{k−t} δ_k        returns R_t = A_t + V_t
 * </pre>
 *
 * Computed without a loop over time: A = δ · D with D[k, t] = (γλ)^{k−t} for k ≥ t (an upper-triangular
 * [T, T] discount matrix), one matrix product for the whole batch.
 */
public final class Gae {
    private Gae() {}

    /**
     * The advantages and returns.
     *
     * @param advantages [B, T]
     * @param returns [B, T]
     */
    public record Result(NDArray advantages, NDArray returns) {}

    /**
     * @param rewards [B, T] per-token rewards (0 on padding)
     * @param values [B, T] value estimates (0 on padding)
     */
    public static Result compute(NDArray rewards, NDArray values, double gamma, double lambda) {
        long b = rewards.getShape().get(0);
        int t = (int) rewards.getShape().get(1);
        NDArray next = values.get(":, 1:").concat(values.getManager().zeros(new Shape(b, 1)), 1); // V_{t+1}
        NDArray delta = rewards.add(next.mul(Tensors.scalar(values.getManager(), (float) gamma))).sub(values);
        float[] d = new float[t * t];
        double gl = gamma * lambda;
        for (int k = 0; k < t; k++) {
            double p = 1;
            for (int s = k; s >= 0; s--) { // row k (source δ_k), column s ≤ k
                d[k * t + s] = (float) p;
                p *= gl;
            }
        }
        NDArray discount = Tensors.floats(values.getManager(), d, new Shape(t, t));
        NDArray adv = delta.matMul(discount); // [B,T]
        return new Result(adv, adv.add(values));
    }
}
