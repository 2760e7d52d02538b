package dev.align.po.rollout;

import java.math.BigDecimal;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code exact_match}: 1 when the last number in the completion equals the record's {@code answer}, else
 * 0 — the rule of the bundled verifiable prompts.
 *
 * <p>A number is an optional minus sign, digits, and an optional decimal part ({@code -?\d+(\.\d+)?});
 * the last such match in the completion text is compared with {@code answer} (trimmed) as a decimal
 * number, so {@code 8}, {@code 8.0} and {@code 08} are equal. A completion without a number, or an answer
 * that is not a number, scores 0.
 */
public final class ExactMatch implements RewardFunction {
    /** The built-in's name in {@code reward_funcs}. */
    public static final String NAME = "exact_match";
    /** The record column holding the reference answer. */
    public static final String ANSWER = "answer";
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(?:\\.\\d+)?");

    @Override
    public float[] score(RewardBatch batch) {
        float[] out = new float[batch.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = matches(batch.completions().get(i), batch.field(i, ANSWER)) ? 1f : 0f;
        }
        return out;
    }

    @Override
    public List<String> requiredFields() {
        return List.of(ANSWER);
    }

    /** The last number in {@code text}, or null. */
    static String lastNumber(String text) {
        Matcher m = NUMBER.matcher(text);
        String last = null;
        while (m.find()) {
            last = m.group();
        }
        return last;
    }

    /** Whether the last number in {@code completion} equals {@code answer} as a decimal number. */
    static boolean matches(String completion, String answer) {
        if (answer == null || completion == null) {
            return false;
        }
        String got = lastNumber(completion);
        if (got == null) {
            return false;
        }
        try {
            return new BigDecimal(got).compareTo(new BigDecimal(answer.trim())) == 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
