package dev.align.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.model.DecoderLM.Param;
import dev.align.core.nd.Kernels;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient access without DJL's surprises: {@code NDArray.getGradient()} allocates a zeros array when a
 * parameter has no gradient yet; here a missing gradient is null. The returned arrays are handles on
 * the parameters' gradients (attached to the parameters' manager): use them inside an {@link NDScope}.
 */
final class Grads {
    private Grads() {}

    /** The gradient of {@code param} (same shape), or null if backward has not reached it. */
    static NDArray of(NDArray param) {
        return JniUtils.getGradient((PtNDArray) param);
    }

    /** The gradients that exist, in parameter order. */
    static List<NDArray> of(List<Param> params) {
        List<NDArray> out = new ArrayList<>(params.size());
        for (Param p : params) {
            NDArray g = of(p.value());
            if (g != null) {
                out.add(g);
            }
        }
        return out;
    }

    /** Zeroes every existing gradient in place (one fused call). */
    static void zero(List<Param> params) {
        try (NDScope scope = new NDScope()) {
            List<NDArray> g = of(params);
            if (!g.isEmpty()) {
                Kernels.zeroInPlace(g);
            }
        }
    }
}
