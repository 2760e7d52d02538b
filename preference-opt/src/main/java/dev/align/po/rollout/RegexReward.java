package dev.align.po.rollout;

import dev.align.core.BadInputException;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code regex}: a format check. {@code score} when the pattern is found in the completion text
 * ({@link java.util.regex.Matcher#find()}: anywhere; anchor with {@code ^...$} to require the whole
 * completion), else 0. Keys {@code regex_pattern} and {@code regex_score}.
 */
public final class RegexReward implements RewardFunction {
    /** The built-in's name in {@code reward_funcs}. */
    public static final String NAME = "regex";

    private final Pattern pattern;
    private final float score;

    /**
     * @param pattern a Java regular expression (java.util.regex)
     * @param score the reward of a completion the pattern is found in
     */
    public RegexReward(String pattern, double score) {
        if (pattern == null || pattern.isEmpty()) {
            throw new BadInputException("regex_pattern: required by the regex reward function");
        }
        try {
            this.pattern = Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
            throw new BadInputException("regex_pattern: not a valid regular expression: " + e.getDescription()
                    + " near index " + e.getIndex() + " of '" + pattern + "'");
        }
        this.score = (float) score;
    }

    @Override
    public float[] score(RewardBatch batch) {
        float[] out = new float[batch.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = pattern.matcher(batch.completions().get(i)).find() ? score : 0f;
        }
        return out;
    }
}
