package dev.align.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;

/**
 * The backward of a training step whose forwards may have run segmented
 * ({@link DecoderLM#setSegmentedBackward}): libtorch's backward from the loss, which stops at the
 * segmented models' final hidden states, then each segmented forward's own backward through its layers
 * to the parameters. A step that turns segmenting on calls {@link #backward} where it would call
 * {@code GradientCollector.backward}; with no segmented forward pending it is exactly that call.
 *
 * <p>Pending forwards are per thread, in the order they ran; a forward whose step ended without a
 * backward (its arrays closed with the step's scope) is dropped.
 */
public final class SegmentedBackward {
    /** A segmented forward waiting for its backward. */
    interface Pending extends AutoCloseable {
        /** Whether the step that made it has ended (its arrays are closed). */
        boolean stale();

        /** Propagates the gradient that reached its output back to the parameters, then closes it. */
        void run();

        @Override
        void close();
    }

    private static final ThreadLocal<List<Pending>> PENDING = ThreadLocal.withInitial(ArrayList::new);

    private SegmentedBackward() {}

    static void register(Pending p) {
        List<Pending> list = PENDING.get();
        list.removeIf(Pending::stale);
        list.add(p);
    }

    /**
     * {@code gc.backward(loss)}, then the backward of every segmented forward this thread ran since the
     * last call, latest first.
     *
     * @param gc the open collector the forwards ran under
     * @param loss the 0-dim loss
     */
    public static void backward(GradientCollector gc, NDArray loss) {
        List<Pending> list = PENDING.get();
        try {
            gc.backward(loss);
            for (int i = list.size() - 1; i >= 0; i--) {
                Pending p = list.get(i);
                if (!p.stale()) {
                    p.run();
                }
            }
        } finally {
            for (Pending p : list) {
                p.close();
            }
            list.clear();
        }
    }

    /** How many segmented forwards wait for a backward on this thread (for tests). */
    static int pending() {
        List<Pending> list = PENDING.get();
        list.removeIf(Pending::stale);
        return list.size();
    }
}
