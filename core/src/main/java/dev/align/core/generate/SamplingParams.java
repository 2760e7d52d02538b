package dev.align.core.generate;

/**
 * How the next token is chosen from the model's logits, with Hugging Face's meanings:
 *
 * <ul>
 *   <li>{@code repetitionPenalty} (1 = off): the logit of every token already in the row (prompt
 *       included) is divided by the penalty if positive, multiplied if negative; applied for greedy and
 *       sampled decoding alike;
 *   <li>{@code temperature}: logits / temperature; 0 means greedy;
 *   <li>{@code topK} (0 = off): keep the tokens whose logit is at least the k-th largest;
 *   <li>{@code topP} (1 = off): keep the smallest set of most likely tokens whose probability reaches p;
 *   <li>{@code minP} (0 = off): keep the tokens whose probability is at least minP × the top probability.
 * </ul>
 *
 * Greedy decoding ({@code doSample == false} or temperature 0) takes the argmax after the repetition
 * penalty; the warpers (temperature, top-k, top-p, min-p) are then not applied, as in transformers.
 *
 * @param doSample sample (true) or take the argmax (false)
 * @param temperature ≥ 0
 * @param topK ≥ 0
 * @param topP in (0, 1]
 * @param minP in [0, 1]
 * @param repetitionPenalty &gt; 0
 * @param seed the seed of the sampling RNG: the same seed, prompts and model give the same tokens
 */
public record SamplingParams(
        boolean doSample, double temperature, int topK, double topP, double minP, double repetitionPenalty, long seed) {

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature: must be a finite number ≥ 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k: must be ≥ 0 (0 = off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p: must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min_p: must be in [0, 1], got " + minP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty: must be a finite number > 0, got " + repetitionPenalty);
        }
    }

    /** Greedy decoding (argmax), no penalty. */
    public static SamplingParams greedy() {
        return new SamplingParams(false, 1.0, 0, 1.0, 0.0, 1.0, 0L);
    }

    /** Sampling at {@code temperature} (0 = greedy) with no filters, seeded. */
    public static SamplingParams sample(double temperature, long seed) {
        return new SamplingParams(true, temperature, 0, 1.0, 0.0, 1.0, seed);
    }

    /** True when the argmax is taken (no sampling, warpers off). */
    public boolean isGreedy() {
        return !doSample || temperature == 0;
    }

    public SamplingParams withTemperature(double t) {
        return new SamplingParams(doSample, t, topK, topP, minP, repetitionPenalty, seed);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(doSample, temperature, k, topP, minP, repetitionPenalty, seed);
    }

    public SamplingParams withTopP(double p) {
        return new SamplingParams(doSample, temperature, topK, p, minP, repetitionPenalty, seed);
    }

    public SamplingParams withMinP(double p) {
        return new SamplingParams(doSample, temperature, topK, topP, p, repetitionPenalty, seed);
    }

    public SamplingParams withRepetitionPenalty(double penalty) {
        return new SamplingParams(doSample, temperature, topK, topP, minP, penalty, seed);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(doSample, temperature, topK, topP, minP, repetitionPenalty, s);
    }
}
