package dev.align.po.dpo;

import java.util.ArrayList;
import java.util.List;

/**
 * Head-to-head win-rate of one model over another on a set of prompts, judged by a reward model: for
 * every prompt each model writes one completion, the judge scores both, and the candidate wins when its
 * score is strictly higher. {@code win_rate = (wins + ties / 2) / prompts}.
 *
 * <p>Generation and scoring come in through two small interfaces so that any generator (sampling
 * settings included) and any judge (a reward model, a rule) can be wired in.
 */
public final class WinRate {
    private WinRate() {}

    /** Writes a completion for a prompt. */
    @FunctionalInterface
    public interface Completer {
        String complete(String prompt);

        /** Completions of many prompts, in order (override to batch). */
        default List<String> completeAll(List<String> prompts) {
            List<String> out = new ArrayList<>(prompts.size());
            for (String p : prompts) {
                out.add(complete(p));
            }
            return out;
        }
    }

    /** Scores a completion of a prompt (higher is better), e.g. a reward model's reward. */
    @FunctionalInterface
    public interface Scorer {
        double score(String prompt, String completion);

        /** Scores of many (prompt, completion) pairs, in order (override to batch). */
        default double[] scoreAll(List<String> prompts, List<String> completions) {
            double[] out = new double[prompts.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = score(prompts.get(i), completions.get(i));
            }
            return out;
        }
    }

    /**
     * The outcome.
     *
     * @param wins prompts where the candidate's completion scored strictly higher
     * @param ties prompts where both scored the same
     * @param losses prompts where the baseline's scored higher
     * @param meanCandidate mean score of the candidate's completions
     * @param meanBaseline mean score of the baseline's completions
     */
    public record Result(int wins, int ties, int losses, double meanCandidate, double meanBaseline) {
        public int prompts() {
            return wins + ties + losses;
        }

        /** (wins + ties / 2) / prompts. */
        public double winRate() {
            return (wins + 0.5 * ties) / prompts();
        }
    }

    /** Compares {@code candidate} with {@code baseline} on {@code prompts}, judged by {@code judge}. */
    public static Result of(List<String> prompts, Completer candidate, Completer baseline, Scorer judge) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts");
        }
        List<String> a = candidate.completeAll(prompts);
        List<String> b = baseline.completeAll(prompts);
        if (a.size() != prompts.size() || b.size() != prompts.size()) {
            throw new IllegalStateException("a completer returned " + a.size() + " and " + b.size() + " completions for "
                    + prompts.size() + " prompts");
        }
        double[] sa = judge.scoreAll(prompts, a);
        double[] sb = judge.scoreAll(prompts, b);
        int wins = 0;
        int ties = 0;
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < sa.length; i++) {
            if (sa[i] > sb[i]) {
                wins++;
            } else if (sa[i] == sb[i]) {
                ties++;
            }
            ma += sa[i];
            mb += sb[i];
        }
        int n = sa.length;
        return new Result(wins, ties, n - wins - ties, ma / n, mb / n);
    }
}
