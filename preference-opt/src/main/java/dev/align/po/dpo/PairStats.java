package dev.align.po.dpo;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.align.core.nd.Tensors;
import dev.align.po.loss.PreferenceLoss;
import dev.align.po.loss.SequenceLogps;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The per-pair numbers of some batches (a training step's micro-batches, or a whole evaluation set),
 * turned into TRL's metrics over all of them at once:
 *
 * <ul>
 *   <li>{@code loss}: the objective over all the pairs (a mean over pairs; ORPO's NLL a mean over all
 *       chosen tokens);
 *   <li>{@code rewards/chosen}, {@code rewards/rejected}: mean implicit rewards as the objective defines
 *       them (β·(log π − log ref) for the DPO family, β·log π/n for SimPO and ORPO);
 *   <li>{@code rewards/accuracies}: share of pairs whose chosen reward is strictly above the rejected one;
 *   <li>{@code rewards/margins}: mean of chosen − rejected reward;
 *   <li>{@code logps/chosen}, {@code logps/rejected}: mean policy log-prob sums (eos included);
 *   <li>{@code logits/chosen}, {@code logits/rejected}: the policy's logits averaged over the vocabulary
 *       and over every completion token of the chosen (rejected) sequences, token-weighted.
 * </ul>
 */
public final class PairStats {
    /** The metric names, in the order they are written. */
    public static final String[] NAMES = {"loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies",
        "rewards/margins", "logps/chosen", "logps/rejected", "logits/chosen", "logits/rejected"};

    private float[] pc = new float[16];
    private float[] pr = new float[16];
    private float[] rc = new float[16];
    private float[] rr = new float[16];
    private float[] nc = new float[16];
    private float[] nr = new float[16];
    private int n;
    private boolean withReference;
    private double logitChosen;
    private double logitRejected;

    /** Adds a batch: the policy's forward and the reference's sums (null for reference-free objectives). */
    public void add(PairForward.Result policy, Reference.Sums reference) {
        float[] c = policy.logps().chosen().toFloatArray();
        float[] r = policy.logps().rejected().toFloatArray();
        float[] tc = policy.logps().chosenTokens().toFloatArray();
        float[] tr = policy.logps().rejectedTokens().toFloatArray();
        float[] xc = reference == null ? null : reference.chosen().toFloatArray();
        float[] xr = reference == null ? null : reference.rejected().toFloatArray();
        if (n == 0) {
            withReference = reference != null;
        } else if (withReference != (reference != null)) {
            throw new IllegalStateException("batches with and without reference log-probs mixed");
        }
        int p = c.length;
        ensure(n + p);
        System.arraycopy(c, 0, pc, n, p);
        System.arraycopy(r, 0, pr, n, p);
        System.arraycopy(tc, 0, nc, n, p);
        System.arraycopy(tr, 0, nr, n, p);
        if (xc != null) {
            System.arraycopy(xc, 0, rc, n, p);
            System.arraycopy(xr, 0, rr, n, p);
        }
        if (policy.chosenLogitSum() != null) {
            for (float v : policy.chosenLogitSum().toFloatArray()) {
                logitChosen += v;
            }
            for (float v : policy.rejectedLogitSum().toFloatArray()) {
                logitRejected += v;
            }
        }
        n += p;
    }

    /** Pairs added. */
    public int pairs() {
        return n;
    }

    /**
     * The metrics over every pair added, in {@link #NAMES} order; the objective is evaluated once on all
     * of them (no gradients).
     */
    public Map<String, Double> metrics(PreferenceLoss loss, NDManager m) {
        if (n == 0) {
            throw new IllegalStateException("no pairs");
        }
        Map<String, Double> out = new LinkedHashMap<>();
        double tokChosen = 0;
        double tokRejected = 0;
        double lpc = 0;
        double lpr = 0;
        for (int i = 0; i < n; i++) {
            tokChosen += nc[i];
            tokRejected += nr[i];
            lpc += pc[i];
            lpr += pr[i];
        }
        try (NDScope scope = new NDScope()) {
            Shape s = new Shape(n);
            SequenceLogps pol = new SequenceLogps(Tensors.floats(m, Arrays.copyOf(pc, n), s),
                    Tensors.floats(m, Arrays.copyOf(pr, n), s), Tensors.floats(m, Arrays.copyOf(nc, n), s),
                    Tensors.floats(m, Arrays.copyOf(nr, n), s));
            SequenceLogps ref = withReference
                    ? new SequenceLogps(Tensors.floats(m, Arrays.copyOf(rc, n), s), Tensors.floats(m, Arrays.copyOf(rr, n), s),
                            pol.chosenTokens(), pol.rejectedTokens())
                    : null;
            PreferenceLoss.Output o = loss.compute(pol, ref);
            float[] wc = o.chosenRewards().toFloatArray();
            float[] wr = o.rejectedRewards().toFloatArray();
            double sc = 0;
            double sr = 0;
            double acc = 0;
            for (int i = 0; i < n; i++) {
                sc += wc[i];
                sr += wr[i];
                acc += wc[i] > wr[i] ? 1 : 0;
            }
            out.put("loss", (double) o.loss().getFloat());
            out.put("rewards/chosen", sc / n);
            out.put("rewards/rejected", sr / n);
            out.put("rewards/accuracies", acc / n);
            out.put("rewards/margins", (sc - sr) / n);
        }
        out.put("logps/chosen", lpc / n);
        out.put("logps/rejected", lpr / n);
        out.put("logits/chosen", tokChosen > 0 ? logitChosen / tokChosen : 0.0);
        out.put("logits/rejected", tokRejected > 0 ? logitRejected / tokRejected : 0.0);
        return out;
    }

    private void ensure(int cap) {
        if (cap <= pc.length) {
            return;
        }
        int len = Math.max(cap, pc.length * 2);
        pc = Arrays.copyOf(pc, len);
        pr = Arrays.copyOf(pr, len);
        rc = Arrays.copyOf(rc, len);
        rr = Arrays.copyOf(rr, len);
        nc = Arrays.copyOf(nc, len);
        nr = Arrays.copyOf(nr, len);
    }
}
