package dev.align.core.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.nd.Kernels;
import dev.align.core.nd.Tensors;

/**
 * Log-probabilities of labelled tokens, the quantity SFT, DPO and PPO are built on.
 *
 * <p>{@code log p(label_t | tokens ≤ t) = logits_t[label_t] − logsumexp(logits_t)}, taken from the
 * log-softmax of the whole vocabulary row and gathered at the label.
 */
public final class LogProbs {
    private LogProbs() {}

    /**
     * Per-token log-probs of the labels.
     *
     * @param logits [B, T, V]
     * @param labels [B, T] INT64 (any valid id where ignored)
     * @return [B, T]
     */
    public static NDArray tokenLogProbs(NDArray logits, NDArray labels) {
        try (NDArray logp = logits.logSoftmax(-1); // [B,T,V]
                NDArray idx = labels.expandDims(-1);
                NDArray picked = logp.gather(idx, -1)) { // [B,T,1]
            return picked.squeeze(-1);
        }
    }

    /**
     * The model's per-token log-probs for a batch: [B, T], zero where no label counts. Inside a
     * {@code GradientCollector} they carry the graph (whole logits, log-softmax, gather); outside one —
     * scoring — the head runs in row chunks ({@link #headObjective}), so no [B, T, V] logits are held (at
     * a 150k vocabulary, 2,048 tokens of logits are 1.2 GB). Both give the same numbers up to float
     * rounding ({@code HeadObjectiveTest}).
     *
     * @param t the batch's tensors
     */
    public static NDArray forBatch(DecoderLM model, TokenBatch.Tensors4 t) {
        try (NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null)) { // [B,T,H]
            if (!JniUtils.isGradMode()) {
                HeadObjective o = headObjective(model, hidden, t.labels(), t.weights());
                return o.logps().mul(t.weights()); // [B,T]
            }
            try (NDArray logits = model.logits(hidden); // [B,T,V]
                    NDArray lp = tokenLogProbs(logits, t.labels())) {
                return lp.mul(t.weights()); // [B,T]
            }
        }
    }

    /** Rows of the head applied at once by {@link #headObjective}: [512, V] logits (16 MB at V = 8,000). */
    static final long HEAD_CHUNK_ROWS = 512;

    /**
     * An objective linear in the labels' log-probs, with the log-probs and argmax hits it came from.
     *
     * @param value 0-dim J = Σ coef · log p(label); differentiable inside a {@code GradientCollector}
     * @param logps [B, T] log p(label) at every position (no graph, not weighted)
     * @param hits [B, T] 1 where the argmax over the vocabulary is the label, else 0 (no graph)
     */
    public record HeadObjective(NDArray value, NDArray logps, NDArray hits) {}

    /**
     * J = Σ_{b,t} coef[b,t] · log p(labels[b,t]) from the hidden states, with the language-model head
     * applied {@value #HEAD_CHUNK_ROWS} rows at a time ({@link Kernels#headLogProbs}): the [B, T, V]
     * logits, their log-softmax and its gradient are never whole in memory, and the gradient is taken
     * chunk by chunk in the same pass as the value (what fused linear-cross-entropy kernels do). When
     * gradients are recorded, J is built as value + (Σ h·∂J/∂h − its detached copy) (+ the same for the
     * head weight W when it trains): the added terms are exactly zero, and backward through them delivers
     * ∂J/∂h to the backbone and ∂J/∂W to the head — the gradients the plain path (logits, log-softmax,
     * gather) gives, up to float rounding.
     *
     * @param hidden [B, T, H], with its graph when training
     * @param labels [B, T] INT64 (any valid id where coef is 0)
     * @param coef [B, T] FLOAT32, each position's weight in J (0 where no label counts)
     */
    public static HeadObjective headObjective(DecoderLM model, NDArray hidden, NDArray labels, NDArray coef) {
        return headObjective(model, hidden, labels, coef, HEAD_CHUNK_ROWS);
    }

    /** {@link #headObjective} with {@code chunkRows} rows of the head at a time. */
    static HeadObjective headObjective(DecoderLM model, NDArray hidden, NDArray labels, NDArray coef, long chunkRows) {
        NDArray w = model.headWeight();
        if (w == null) {
            throw new IllegalStateException("a sequence-classification model has no language-model head");
        }
        long b = hidden.getShape().get(0);
        long t = hidden.getShape().get(1);
        long h = hidden.getShape().get(2);
        boolean recording = JniUtils.isGradMode();
        boolean gradH = recording && Kernels.requiresGrad(hidden);
        boolean gradW = recording && Kernels.requiresGrad(w);
        NDArray c = coef.flatten(); // [N]
        NDList out;
        try (NDArray hd = hidden.stopGradient(); NDArray h2 = hd.reshape(b * t, h); NDArray wd = w.stopGradient();
                NDArray l = labels.flatten()) {
            out = Kernels.headLogProbs(h2, wd, l, c, chunkRows, gradH, gradW);
        }
        NDArray logp = out.get(0); // [N]
        NDArray value = logp.mul(c).sum(); // 0-dim, no graph
        if (gradH) {
            NDArray a = hidden.mul(out.get(2).reshape(b, t, h)).sum(); // d/dhidden = ∂J/∂h
            value = value.add(a.sub(a.stopGradient()));
        }
        if (gradW) {
            NDArray a = w.mul(out.get(3)).sum(); // d/dW = ∂J/∂W
            value = value.add(a.sub(a.stopGradient()));
        }
        return new HeadObjective(value, logp.reshape(b, t), out.get(1).reshape(b, t));
    }

    /**
     * The token-mean negative log-likelihood's share of one batch: −Σ weights · log p(label) / {@code
     * totalTokens} (the labelled tokens of every batch of the optimizer step), through
     * {@link #headObjective}.
     *
     * @param hidden [B, T, H]
     * @return the objective, its log-probs and hits
     */
    public static HeadObjective tokenMeanNll(DecoderLM model, NDArray hidden, TokenBatch.Tensors4 t, long totalTokens) {
        if (totalTokens <= 0) {
            throw new IllegalArgumentException("no labelled tokens in the batch");
        }
        NDArray coef = t.weights().mul(Tensors.scalar(hidden.getManager(), -1f / totalTokens));
        return headObjective(model, hidden, t.labels(), coef);
    }
}
