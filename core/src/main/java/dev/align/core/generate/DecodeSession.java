package dev.align.core.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.KvCache;
import dev.align.core.nd.Tensors;
import java.util.List;

/**
 * Incremental decoding of a batch of prompts with a preallocated {@link KvCache}: {@link #prefill()}
 * runs every prompt through the model in one batched pass, then each {@link #step} feeds one token per
 * row and reuses the cache. Returns the logits of each row's next token only (the vocabulary projection
 * runs on the last position alone).
 *
 * <p>Prompts are left-padded to the longest, P tokens: slot t of every row is time step t, pads sit in
 * the first slots and are hidden by the cache's key bias; a row's position ids count its real tokens
 * (0 for its first real token), as transformers derives them from the attention mask. A step's Java
 * work is O(B): the ids and positions of the new tokens; the mask is a view of the cache's key bias.
 *
 * <p>Call {@link #prefill()} and {@link #step} inside an {@code NDScope}: the logits they return belong
 * to it. Not thread-safe; one session per batch.
 */
public final class DecodeSession implements AutoCloseable {
    private final DecoderLM model;
    private final KvCache cache;
    private final List<long[]> prompts;
    private final int batch;
    private final int width;
    private final int window;
    private final long padId;
    private final long[] nextPosition;
    private boolean prefilled;

    /**
     * Prepares a session: allocates a cache of P + {@code maxNewTokens} slots.
     *
     * @param prompts one token array per row, each non-empty
     * @param padId the id placed in padding slots (never attended to)
     */
    public DecodeSession(DecoderLM model, List<long[]> prompts, int maxNewTokens, long padId, NDManager parent) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts");
        }
        int w = 0;
        for (int r = 0; r < prompts.size(); r++) {
            if (prompts.get(r).length == 0) {
                throw new IllegalArgumentException("prompt " + r + " has no tokens");
            }
            w = Math.max(w, prompts.get(r).length);
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max_new_tokens must be ≥ 1, got " + maxNewTokens);
        }
        this.model = model;
        this.prompts = List.copyOf(prompts);
        this.batch = prompts.size();
        this.width = w;
        this.window = model.config().slidingWindow();
        this.padId = padId;
        this.nextPosition = new long[batch];
        this.cache = new KvCache(model.config(), batch, w + maxNewTokens, parent);
    }

    /**
     * Runs the left-padded prompts through the model, filling the cache's first P slots.
     *
     * @return logits [B, V] of each row's first new token
     */
    public NDArray prefill() {
        if (prefilled) {
            throw new IllegalStateException("already prefilled");
        }
        prefilled = true;
        long[] ids = new long[batch * width];
        long[] pos = new long[batch * width];
        boolean[] valid = new boolean[batch * width];
        for (int r = 0; r < batch; r++) {
            long[] p = prompts.get(r);
            int pad = width - p.length;
            for (int i = 0; i < width; i++) {
                int j = r * width + i;
                boolean real = i >= pad;
                ids[j] = real ? p[i - pad] : padId;
                pos[j] = real ? i - pad : 0;
                valid[j] = real;
            }
            nextPosition[r] = p.length;
        }
        NDManager m = model.manager();
        Shape s = new Shape(batch, width);
        NDArray idsNd = Tensors.longs(m, ids, s);
        NDArray posNd = Tensors.longs(m, pos, s);
        try (NDArray validNd = booleans(m, valid, s)) {
            cache.markSlots(validNd);
        }
        NDArray mask = cache.mask(width, window); // [B,1,P,P]
        NDArray hidden = model.hidden(idsNd, posNd, mask, cache); // [B,P,H]
        NDArray last = JniUtils.slice((PtNDArray) hidden, 1, width - 1, width, 1); // [B,1,H]
        return model.logits(last.reshape(batch, hidden.getShape().get(2))); // [B,V]
    }

    /**
     * Feeds one token per row (finished rows may feed anything, e.g. a pad) and advances by one slot.
     *
     * @param tokens [B]
     * @return logits [B, V] of each row's next token
     */
    public NDArray step(long[] tokens) {
        if (!prefilled) {
            throw new IllegalStateException("prefill first");
        }
        NDManager m = model.manager();
        Shape s = new Shape(batch, 1);
        NDArray idsNd = Tensors.longs(m, tokens, s);
        NDArray posNd = Tensors.longs(m, nextPosition, s);
        for (int r = 0; r < batch; r++) {
            nextPosition[r]++;
        }
        NDArray mask = cache.mask(1, window); // [B,1,1,S]
        NDArray compiled = model.decodeStep(idsNd, posNd, mask, cache); // [B,V], or null where it does not apply
        if (compiled != null) {
            return compiled;
        }
        NDArray hidden = model.hidden(idsNd, posNd, mask, cache); // [B,1,H]
        return model.logits(hidden.reshape(batch, hidden.getShape().get(2))); // [B,V]
    }

    /** Rows. */
    public int batch() {
        return batch;
    }

    /** The padded prompt width P. */
    public int promptWidth() {
        return width;
    }

    /** Slots filled so far (P after the prefill, then one more per step). */
    public int length() {
        return cache.length();
    }

    /** Steps still possible before the cache is full. */
    public int remaining() {
        return cache.capacity() - cache.length();
    }

    private static NDArray booleans(NDManager m, boolean[] data, Shape shape) {
        int[] ints = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            ints[i] = data[i] ? 1 : 0;
        }
        try (NDArray t = Tensors.ints(m, ints, shape)) {
            return t.toType(DataType.BOOLEAN, false);
        }
    }

    @Override
    public void close() {
        cache.close();
    }
}
