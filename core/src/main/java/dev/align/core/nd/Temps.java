package dev.align.core.nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.List;

/**
 * Intermediate arrays of a computation, closed as soon as the computation is done instead of when the
 * step's scope ends. Closing drops only Java's reference: autograd keeps what backward needs, so the
 * memory of everything else (most intermediates) is reused at once — as Python's reference counting
 * does for PyTorch — which lowers a step's peak memory and its page-fault churn.
 *
 * <pre>
 *   try (Temps t = new Temps()) {
 *       NDArray a = t.add(x.mul(y));       // closed at the end of the block
 *       return a.add(z);                   // the result is not added, so it survives
 *   }
 * </pre>
 */
public final class Temps implements AutoCloseable {
    private final List<NDArray> arrays = new ArrayList<>();

    /** Registers {@code a} for closing and returns it. */
    public NDArray add(NDArray a) {
        arrays.add(a);
        return a;
    }

    /** Registers every array of {@code list} and returns it. */
    public NDList add(NDList list) {
        arrays.addAll(list);
        return list;
    }

    @Override
    public void close() {
        for (NDArray a : arrays) {
            a.close();
        }
        arrays.clear();
    }
}
