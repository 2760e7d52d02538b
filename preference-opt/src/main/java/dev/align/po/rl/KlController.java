package dev.align.po.rl;

/**
 * The KL penalty coefficient β of PPO-based RLHF: fixed, or adaptive (Ziegler et al. 2019, §2.2) —
 * after each rollout batch, β ← β·(1 + clip(KL/target − 1, −0.2, 0.2)·n/horizon), with n the samples in
 * the batch.
 */
public final class KlController {
    private double value;
    private final Double target;
    private final double horizon;

    private KlController(double init, Double target, double horizon) {
        this.value = init;
        this.target = target;
        this.horizon = horizon;
    }

    /** A constant β. */
    public static KlController fixed(double beta) {
        return new KlController(beta, null, 1);
    }

    /** An adaptive β starting at {@code init}, steering the measured KL towards {@code target}. */
    public static KlController adaptive(double init, double target, double horizon) {
        return new KlController(init, target, horizon);
    }

    /** The current β. */
    public double value() {
        return value;
    }

    /** Updates β from a batch's mean KL (summed over tokens) and its number of samples. */
    public void update(double currentKl, int samples) {
        if (target == null) {
            return;
        }
        double err = Math.max(-0.2, Math.min(0.2, currentKl / target - 1));
        value *= 1 + err * samples / horizon;
    }

    /** Restores β (resume). */
    public void set(double beta) {
        this.value = beta;
    }
}
