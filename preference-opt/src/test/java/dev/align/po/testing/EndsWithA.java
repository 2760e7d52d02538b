package dev.align.po.testing;

import dev.align.po.rollout.RewardBatch;
import dev.align.po.rollout.RewardFunction;

/**
 * A user reward function for tests (loaded by class name): the share of the completion's words that end
 * with the letter a — about a fifth of the fixture vocabulary, so a random policy scores ~0.2 and learning
 * is visible in a few steps.
 */
public final class EndsWithA implements RewardFunction {
    @Override
    public float[] score(RewardBatch batch) {
        float[] out = new float[batch.size()];
        for (int i = 0; i < out.length; i++) {
            String[] words = batch.completions().get(i).trim().split("\\s+");
            int n = 0;
            int a = 0;
            for (String w : words) {
                if (!w.isEmpty()) {
                    n++;
                    a += w.endsWith("a") ? 1 : 0;
                }
            }
            out[i] = n == 0 ? 0f : (float) a / n;
        }
        return out;
    }
}
