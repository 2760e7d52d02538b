package dev.align.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Arrays;

/**
 * Keys and values of every layer for incremental decoding, preallocated to {@code capacity} slots so
 * that decoding writes in place and never reallocates: per layer K and V of [batch, kv_heads, capacity,
 * head_dim]. Slot {@code t} holds the token at time step {@code t} of every row (rows with left padding
 * hold pads in their first slots; the attention mask hides them).
 *
 * <p>Which slots hold real tokens is kept here too, as an additive key bias [batch, capacity] (0 for a
 * real token, −FLT_MAX for padding) that is written once per chunk ({@link #markSlots}) and read as a
 * view per step ({@link #mask}): a decoding step builds no per-sequence array in Java. Slots are real
 * until marked otherwise.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    final NDArray[] keys;
    final NDArray[] values;
    private final NDArray keyBias;
    private final int batch;
    private final int capacity;
    private int length;
    private IValue keyList;
    private IValue valueList;

    /** Allocates a cache for {@code config} in a manager of its own (a child of {@code parent}). */
    public KvCache(ModelConfig config, int batch, int capacity, NDManager parent) {
        this.manager = parent.newSubManager();
        this.batch = batch;
        this.capacity = capacity;
        this.keys = new NDArray[config.layers()];
        this.values = new NDArray[config.layers()];
        Shape s = new Shape(batch, config.kvHeads(), capacity, config.headDim());
        for (int i = 0; i < config.layers(); i++) {
            keys[i] = manager.zeros(s, DataType.FLOAT32);
            values[i] = manager.zeros(s, DataType.FLOAT32);
        }
        keyBias = manager.zeros(new Shape(batch, capacity), DataType.FLOAT32);
    }

    /** Slots filled so far. */
    public int length() {
        return length;
    }

    /** Slots available in total. */
    public int capacity() {
        return capacity;
    }

    /** Rows. */
    public int batch() {
        return batch;
    }

    /**
     * Records which of the next T slots, [length, length + T), will hold real tokens: call before the
     * forward that writes them. Unmarked slots count as real.
     *
     * @param valid [B, T] BOOLEAN, true for a real token, false for padding
     */
    public void markSlots(NDArray valid) {
        long t = valid.getShape().get(1);
        checkRoom(t);
        try (NDArray f = valid.toType(DataType.FLOAT32, false);
                NDArray off = f.sub(1f);
                NDArray bias = off.mul(Float.MAX_VALUE)) { // [B,T]: 0 real, −FLT_MAX pad
            JniUtils.indexSet((PtNDArray) keyBias, (PtNDArray) bias,
                    new long[] {0, length}, new long[] {batch, length + t}, new long[] {1, 1});
        }
    }

    /**
     * The additive attention mask for T new tokens about to be written at slots [length, length + T):
     * causal, padding slots hidden, and with a sliding window W a query at slot i sees only slots j with
     * i − j &lt; W. For T = 1 without a window in reach this is a view of the key bias (no copy).
     *
     * @return [B, 1, T, S] with S = length + T
     */
    public NDArray mask(int t, int window) {
        checkRoom(t);
        int s = length + t;
        NDArray bias = JniUtils.slice((PtNDArray) keyBias, 1, 0, s, 1); // [B,S]
        if (t == 1 && (window <= 0 || s <= window)) {
            return bias.reshape(batch, 1, 1, s);
        }
        return AttentionMask.cached(bias, t, length, window);
    }

    /** Throws if {@code t} more slots do not fit. */
    public void checkRoom(long t) {
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " slots > capacity " + capacity);
        }
    }

    /**
     * Copies {@code x} into slots [length, length + T) of {@code store} (one layer's keys or values) in
     * place, and returns a view of the slots attended to: [0, length + T).
     *
     * @param store [B, K, capacity, D]
     * @param x [B, K, T, D]
     * @return [B, K, length + T, D], a view of {@code store}
     */
    NDArray write(NDArray store, NDArray x) {
        long t = x.getShape().get(2);
        checkRoom(t);
        long[] shape = store.getShape().getShape();
        JniUtils.indexSet((PtNDArray) store, (PtNDArray) x, new long[] {0, 0, length, 0},
                new long[] {shape[0], shape[1], length + t, shape[3]}, new long[] {1, 1, 1, 1});
        return JniUtils.slice((PtNDArray) store, 2, 0, length + t, 1);
    }

    /** The layers' key caches as one TorchScript list (built on first use, closed with the cache). */
    IValue keyList() {
        if (keyList == null) {
            keyList = IValue.listFrom(Arrays.stream(keys).map(a -> (PtNDArray) a).toArray(PtNDArray[]::new));
        }
        return keyList;
    }

    /** The layers' value caches as one TorchScript list. */
    IValue valueList() {
        if (valueList == null) {
            valueList = IValue.listFrom(Arrays.stream(values).map(a -> (PtNDArray) a).toArray(PtNDArray[]::new));
        }
        return valueList;
    }

    void advance(int steps) {
        length += steps;
    }

    /** Forgets everything (the memory stays allocated for reuse; every slot counts as real again). */
    public void reset() {
        length = 0;
        keyBias.muli(0f);
    }

    @Override
    public void close() {
        if (keyList != null) {
            keyList.close();
            keyList = null;
        }
        if (valueList != null) {
            valueList.close();
            valueList = null;
        }
        manager.close();
    }
}
