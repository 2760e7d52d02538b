package dev.align.core.train;

import dev.align.core.BadInputException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Learning-rate schedules exactly as transformers' {@code get_scheduler} defines them: the learning
 * rate of the optimizer step that follows {@code step} earlier steps is {@code lr · factor(step)}
 * ({@code LambdaLR}; the first update uses {@code factor(0)}, so warmup starts at 0).
 *
 * <ul>
 *   <li>{@code constant}: 1.
 *   <li>{@code constant_with_warmup}: {@code step / max(1, W)} while {@code step < W}, then 1.
 *   <li>{@code linear}: warmup, then {@code max(0, (N − step) / max(1, N − W))}.
 *   <li>{@code cosine}: warmup, then {@code max(0, ½(1 + cos(π · 2c · p)))} with progress
 *       {@code p = (step − W) / max(1, N − W)} and {@code c = num_cycles} (0.5: one half cosine to 0).
 *   <li>{@code cosine_with_min_lr}: the cosine factor f mapped to {@code f(1 − r) + r}, where
 *       {@code r = min_lr_rate} or {@code min_lr / lr}: decays to {@code min_lr} instead of 0.
 * </ul>
 *
 * W is the number of warmup steps ({@link #warmupSteps}), N the total number of optimizer steps. As in
 * transformers, nothing clamps {@code step} to N: a cosine schedule run past its end rises again.
 *
 * @param name the transformers name
 * @param lr the peak learning rate
 * @param warmup W
 * @param total N
 * @param numCycles c (cosine schedules)
 * @param minLrRate r (cosine_with_min_lr; 0 otherwise)
 */
public record LrSchedule(String name, double lr, long warmup, long total, double numCycles, double minLrRate) {
    /** The schedule names this class implements. */
    public static final Set<String> NAMES =
            Set.of("constant", "constant_with_warmup", "linear", "cosine", "cosine_with_min_lr");

    public LrSchedule {
        if (!NAMES.contains(name)) {
            throw new BadInputException("lr_scheduler_type: unknown schedule '" + name + "' (one of "
                    + String.join(", ", NAMES.stream().sorted().toList()) + ")");
        }
        if (!(lr >= 0) || Double.isInfinite(lr) || warmup < 0 || total < 0) {
            throw new IllegalArgumentException("bad schedule: lr " + lr + ", warmup " + warmup + ", total " + total);
        }
    }

    /**
     * The schedule {@code name} with transformers' {@code lr_scheduler_kwargs}: {@code num_cycles} for the
     * cosine schedules, {@code min_lr} or {@code min_lr_rate} (one of them, required) for
     * {@code cosine_with_min_lr}. Unknown kwargs are an error, as in transformers.
     */
    public static LrSchedule of(String name, double lr, long warmupSteps, long totalSteps, Map<String, Double> kwargs) {
        String n = name.toLowerCase(Locale.ROOT);
        Map<String, Double> kw = kwargs == null ? Map.of() : kwargs;
        Set<String> allowed = switch (n) {
            case "cosine" -> Set.of("num_cycles");
            case "cosine_with_min_lr" -> Set.of("num_cycles", "min_lr", "min_lr_rate");
            default -> Set.of();
        };
        for (String k : kw.keySet()) {
            if (!allowed.contains(k)) {
                throw new BadInputException("lr_scheduler_kwargs: '" + k + "' is not a parameter of the " + n
                        + " schedule" + (allowed.isEmpty() ? "" : " (allowed: " + String.join(", ", allowed) + ")"));
            }
        }
        double cycles = kw.getOrDefault("num_cycles", 0.5);
        double rate = 0.0;
        if (n.equals("cosine_with_min_lr")) {
            Double minLr = kw.get("min_lr");
            Double minRate = kw.get("min_lr_rate");
            if (minLr != null && minRate != null) {
                throw new BadInputException("lr_scheduler_kwargs: set only one of min_lr and min_lr_rate");
            }
            if (minLr == null && minRate == null) {
                throw new BadInputException("lr_scheduler_kwargs: cosine_with_min_lr needs min_lr or min_lr_rate");
            }
            rate = minRate != null ? minRate : minLr / lr;
        }
        return new LrSchedule(n, lr, warmupSteps, totalSteps, cycles, rate);
    }

    /** {@link #of(String, double, long, long, Map)} without kwargs. */
    public static LrSchedule of(String name, double lr, long warmupSteps, long totalSteps) {
        return of(name, lr, warmupSteps, totalSteps, Map.of());
    }

    /**
     * transformers' {@code TrainingArguments.get_warmup_steps}: {@code warmup ≥ 1} is a number of steps
     * (truncated to an integer), {@code warmup < 1} a ratio of the total, rounded up.
     */
    public static long warmupSteps(double warmup, long totalSteps) {
        if (!(warmup >= 0) || Double.isInfinite(warmup)) {
            throw new BadInputException("warmup_steps: must be a number >= 0 (a ratio below 1), got " + warmup);
        }
        return warmup >= 1 ? (long) warmup : (long) Math.ceil(totalSteps * warmup);
    }

    /** The multiplier of {@link #lr} for the update after {@code step} updates. */
    public double factor(long step) {
        if (name.equals("constant")) {
            return 1.0;
        }
        if (step < warmup) {
            return (double) step / (double) Math.max(1, warmup);
        }
        switch (name) {
            case "constant_with_warmup":
                return 1.0;
            case "linear":
                return Math.max(0.0, (double) (total - step) / (double) Math.max(1, total - warmup));
            default: // cosine, cosine_with_min_lr
                double progress = (double) (step - warmup) / (double) Math.max(1, total - warmup);
                double f = 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
                f = f * (1 - minLrRate) + minLrRate;
                return Math.max(0, f);
        }
    }

    /** The learning rate of the update after {@code step} updates. */
    public double lr(long step) {
        return lr * factor(step);
    }
}
