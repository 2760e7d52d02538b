package dev.align.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.DecoderLM.Param;
import dev.align.core.nd.Tensors;
import dev.align.core.scoring.LogProbs;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Shared pieces of the training tests: goldens, gradients set by backward, fixed token batches. */
final class TrainTesting {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainTesting() {}

    /** A golden file from test resources ({@code train/<name>}). */
    static JsonNode golden(String name) {
        try (InputStream in = TrainTesting.class.getResourceAsStream("/train/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource train/" + name);
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] floats(JsonNode arr) {
        float[] out = new float[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) arr.get(i).asDouble();
        }
        return out;
    }

    static long[] longs(JsonNode arr) {
        long[] out = new long[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asLong();
        }
        return out;
    }

    /** A trainable parameter holding {@code values}. */
    static Param param(NDManager m, String name, float[] values, long[] shape, boolean decay) {
        NDArray a = Tensors.floats(m, values, new Shape(shape));
        a.setRequiresGradient(true);
        return new Param(name, a, decay);
    }

    /**
     * Makes {@code grads[i]} the gradient of {@code params[i]} by backward of Σ_i sum(p_i · g_i) (the
     * gradients must be zero or absent before).
     */
    static void setGrads(List<Param> params, List<float[]> grads) {
        try (NDScope scope = new NDScope(); GradientCollector gc = Engines.init().newGradientCollector()) {
            NDArray loss = null;
            for (int i = 0; i < params.size(); i++) {
                NDArray p = params.get(i).value();
                NDArray g = Tensors.floats(p.getManager(), grads.get(i), p.getShape());
                NDArray term = p.mul(g).sum();
                loss = loss == null ? term : loss.add(term);
            }
            gc.backward(loss);
        }
    }

    /** The gradient of a parameter as floats (zeros if none). */
    static float[] grad(Param p) {
        try (NDScope scope = new NDScope()) {
            NDArray g = Grads.of(p.value());
            return g == null ? new float[(int) p.value().size()] : g.toFloatArray();
        }
    }

    /**
     * {@code count} batches of {@code rows} sequences of token ids in [4, vocab) with lengths between
     * {@code minLen} and {@code maxLen}, the first third of each sequence a prompt (no loss).
     */
    static List<TokenBatch> batches(long seed, int count, int rows, int minLen, int maxLen, int vocab, long padId) {
        Rng rng = new Rng(seed);
        List<TokenBatch> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            List<long[]> seqs = new ArrayList<>();
            int[] from = new int[rows];
            for (int r = 0; r < rows; r++) {
                long[] s = new long[minLen + rng.nextInt(maxLen - minLen + 1)];
                for (int i = 0; i < s.length; i++) {
                    s[i] = 4 + rng.nextInt(vocab - 4);
                }
                seqs.add(s);
                from[r] = Math.max(1, s.length / 3);
            }
            out.add(TokenBatch.rightPadded(seqs, from, padId));
        }
        return out;
    }

    /**
     * Forward and backward of one micro-batch's part of a token-mean cross-entropy (gradients
     * accumulate); returns that part of the loss.
     */
    static double microStep(DecoderLM model, NDManager m, TokenBatch batch, long totalTokens, float lossMultiplier) {
        try (NDScope scope = new NDScope(); GradientCollector gc = Engines.init().newGradientCollector()) {
            TokenBatch.Tensors4 t = batch.toTensors(m, model.config().slidingWindow());
            NDArray lp = LogProbs.forBatch(model, t); // [B,T], through the whole logits: the plain path
            NDArray loss = lp.sum().mul(Tensors.scalar(m, -1f / totalTokens)); // 0-dim, this micro-batch's part
            if (lossMultiplier != 1f) {
                loss = loss.mul(Tensors.scalar(m, lossMultiplier));
            }
            gc.backward(loss);
            return loss.getFloat();
        }
    }

    /** Every parameter's values, concatenated. */
    static float[] weights(DecoderLM model) {
        List<float[]> parts = new ArrayList<>();
        int n = 0;
        for (Param p : model.parameters()) {
            float[] v = p.value().toFloatArray();
            parts.add(v);
            n += v.length;
        }
        float[] out = new float[n];
        int o = 0;
        for (float[] v : parts) {
            System.arraycopy(v, 0, out, o, v.length);
            o += v.length;
        }
        return out;
    }
}
