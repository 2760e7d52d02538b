package dev.align.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.AlignException;
import java.util.function.Function;

/**
 * The {@code rope_scaling} entry of a llama-family config. Supported: none/{@code default},
 * {@code linear} (position interpolation) and {@code llama3} (Llama 3.1's per-frequency smoothing).
 * Other types ({@code dynamic}, {@code yarn}, {@code longrope}, ...) change numerics this engine does not
 * reproduce, so they are refused.
 *
 * @param type {@code linear} or {@code llama3}
 * @param factor the scaling factor
 * @param lowFreqFactor llama3 only
 * @param highFreqFactor llama3 only
 * @param originalMaxPositions llama3 only: the pre-training context length
 */
public record RopeScaling(
        String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {

    static RopeScaling parse(JsonNode n, int maxPositions, Function<String, AlignException> err) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw err.apply("'rope_scaling' must be an object or null");
        }
        String type = n.hasNonNull("rope_type") ? n.get("rope_type").asText() : n.path("type").asText("");
        switch (type) {
            case "default":
                return null;
            case "linear":
                return new RopeScaling(type, need(n, "factor", err), 0, 0, 0);
            case "llama3":
                return new RopeScaling(
                        type,
                        need(n, "factor", err),
                        need(n, "low_freq_factor", err),
                        need(n, "high_freq_factor", err),
                        (int) need(n, "original_max_position_embeddings", err));
            default:
                throw err.apply(
                        "rope_scaling type '"
                                + type
                                + "' is not supported (supported: default, linear, llama3); refusing to run"
                                + " with different position numerics than the model was trained with");
        }
    }

    private static double need(JsonNode n, String key, Function<String, AlignException> err) {
        if (!n.hasNonNull(key) || !n.get(key).isNumber()) {
            throw err.apply("rope_scaling needs a numeric '" + key + "'");
        }
        return n.get(key).asDouble();
    }

    /**
     * The rotary inverse frequencies [headDim / 2], as transformers computes them in float32:
     * {@code 1 / theta^(2i / d)}, then scaled.
     */
    public static float[] inverseFrequencies(int headDim, double theta, RopeScaling scaling) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            inv[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        if (scaling == null) {
            return inv;
        }
        if (scaling.type().equals("linear")) {
            for (int i = 0; i < half; i++) {
                inv[i] = (float) (inv[i] / scaling.factor());
            }
            return inv;
        }
        // llama3
        double oldLen = scaling.originalMaxPositions();
        double lowWavelen = oldLen / scaling.lowFreqFactor();
        double highWavelen = oldLen / scaling.highFreqFactor();
        for (int i = 0; i < half; i++) {
            double f = inv[i];
            double wavelen = 2 * Math.PI / f;
            double scaled = wavelen > lowWavelen ? f / scaling.factor() : f;
            boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
            if (medium) {
                double smooth = (oldLen / wavelen - scaling.lowFreqFactor())
                        / (scaling.highFreqFactor() - scaling.lowFreqFactor());
                scaled = (1 - smooth) * scaled / scaling.factor() + smooth * scaled;
            }
            inv[i] = (float) scaled;
        }
        return inv;
    }
}
