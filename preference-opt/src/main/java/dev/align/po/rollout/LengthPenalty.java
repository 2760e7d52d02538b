package dev.align.po.rollout;

import dev.align.core.BadInputException;

/**
 * {@code length_penalty}: DAPO's soft overlong punishment (Yu et al. 2025, eq. 13; TRL's
 * {@code get_soft_overlong_punishment}), on the completion's length L in tokens:
 *
 * <pre>
 *   0                                  L ≤ L_max − L_cache
 *   (L_max − L_cache − L) / L_cache    L_max − L_cache &lt; L ≤ L_max
 *   −1                                 L &gt; L_max
 * </pre>
 *
 * Keys {@code length_penalty_max} (L_max, default: the maximum completion length) and
 * {@code length_penalty_cache} (L_cache, default: L_max / 5, at least 1).
 */
public final class LengthPenalty implements RewardFunction {
    /** The built-in's name in {@code reward_funcs}. */
    public static final String NAME = "length_penalty";

    private final int max;
    private final int cache;

    public LengthPenalty(int max, int cache) {
        if (max < 1) {
            throw new BadInputException("length_penalty_max: must be ≥ 1, got " + max);
        }
        if (cache < 1 || cache > max) {
            throw new BadInputException("length_penalty_cache: must be in [1, length_penalty_max = " + max + "], got "
                    + cache);
        }
        this.max = max;
        this.cache = cache;
    }

    @Override
    public float[] score(RewardBatch batch) {
        float[] out = new float[batch.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = penalty(batch.completionTokens()[i]);
        }
        return out;
    }

    /** The penalty of a completion of {@code length} tokens. */
    public float penalty(int length) {
        int free = max - cache;
        if (length <= free) {
            return 0f;
        }
        if (length <= max) {
            return (float) (free - length) / cache;
        }
        return -1f;
    }
}
