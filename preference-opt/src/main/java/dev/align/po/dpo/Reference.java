package dev.align.po.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.Adapters;
import dev.align.core.model.DecoderLM;
import dev.align.core.nd.Tensors;

/**
 * Where a batch's reference log-probs come from: a frozen model run without gradients, or values
 * precomputed once before training. Never called inside a {@code GradientCollector}: outside one,
 * libtorch records no graph, so the reference can never receive gradients.
 */
public interface Reference {

    /**
     * The reference's sequence log-prob sums.
     *
     * @param chosen [P]
     * @param rejected [P]
     */
    record Sums(NDArray chosen, NDArray rejected) {}

    /**
     * The sums for one batch.
     *
     * @param t the batch's tensors (2P rows)
     * @param pairs the dataset indices of its P pairs, in row order
     * @param m where the results live (the step's scope)
     */
    Sums logps(TokenBatch.Tensors4 t, int[] pairs, NDManager m);

    /**
     * A model run without gradients: a separate frozen model (its parameters never require gradients),
     * or, with {@code adaptersOff}, the policy itself with its LoRA adapters detached for the pass — the
     * base model, no second copy in memory.
     */
    final class FromModel implements Reference {
        private final DecoderLM model;
        private final boolean adaptersOff;

        public FromModel(DecoderLM model, boolean adaptersOff) {
            this.model = model;
            this.adaptersOff = adaptersOff;
        }

        /** The model that computes the reference (the policy itself when {@link #adaptersOff()}). */
        public DecoderLM model() {
            return model;
        }

        public boolean adaptersOff() {
            return adaptersOff;
        }

        @Override
        public Sums logps(TokenBatch.Tensors4 t, int[] pairs, NDManager m) {
            Adapters attached = model.adapters();
            if (adaptersOff) {
                model.setAdapters(null);
            }
            try {
                PairForward.Result r = PairForward.run(model, t, false);
                return new Sums(r.logps().chosen(), r.logps().rejected());
            } finally {
                model.setAdapters(attached);
            }
        }
    }

    /**
     * Sums computed once for every pair of a dataset ({@code precompute_ref_log_probs}).
     *
     * @param chosen per pair index, the chosen sum
     * @param rejected per pair index, the rejected sum
     */
    record Precomputed(float[] chosen, float[] rejected) implements Reference {
        public Precomputed {
            if (chosen.length != rejected.length) {
                throw new IllegalArgumentException("chosen and rejected differ in length");
            }
        }

        @Override
        public Sums logps(TokenBatch.Tensors4 t, int[] pairs, NDManager m) {
            float[] c = new float[pairs.length];
            float[] r = new float[pairs.length];
            for (int k = 0; k < pairs.length; k++) {
                c[k] = chosen[pairs[k]];
                r[k] = rejected[pairs[k]];
            }
            Shape s = new Shape(pairs.length);
            return new Sums(Tensors.floats(m, c, s), Tensors.floats(m, r, s));
        }
    }
}
