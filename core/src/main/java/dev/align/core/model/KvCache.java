package dev.align.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every layer for incremental decoding, preallocated to {@code capacity} slots so
 * that decoding writes in place and never reallocates: per layer K and V of [batch, kv_heads, capacity,
 * head_dim]. Slot {@code t} holds the token at time step {@code t} of every row (rows with left padding
 * hold pads in their first slots; the attention mask hides them).
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    final NDArray[] keys;
    final NDArray[] values;
    private final int batch;
    private final int capacity;
    private int length;

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

    void advance(int steps) {
        length += steps;
    }

    /** Forgets everything (the memory stays allocated for reuse). */
    public void reset() {
        length = 0;
    }

    @Override
    public void close() {
        manager.close();
    }
}
