package dev.align.datasets.format;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code {"prompt", "responses": [r0, ..., rK-1], "ranking": [k0, ..., kK-1]}} or
 * {@code {"prompt", "responses", "scores": [s0, ..., sK-1]}}: K ≥ 2 responses to one prompt ranked by
 * people.
 *
 * <p>{@code ranking[i]} is the rank of {@code responses[i]}: 0 is the best, K−1 the worst, and the
 * ranking must be a permutation of 0..K−1. {@code scores[i]} is a score of {@code responses[i]}, higher
 * is better, ties allowed. The record expands into every ordered pair (better, worse) of its responses:
 * K(K−1)/2 pairs for a ranking; for scores, pairs of equal score are not pairs (ties are dropped). A
 * pair's margin is the score difference (NaN for rankings).
 *
 * <p>Problems: missing or wrongly typed field, fewer than 2 responses, an empty response, a ranking
 * that is not a permutation, a ranking or scores of the wrong length, both or neither given, two equal
 * responses that are ranked apart, all scores equal (no pairs).
 */
public final class RankingFormat {
    private RankingFormat() {}

    static Sample.Ranking parse(Fields f, boolean conversational) {
        Content p = f.content("prompt", conversational);
        if (p != null && conversational && p.isEmpty()) {
            f.problem(f.column("prompt"), "no messages");
        }
        List<Content> responses = f.contents("responses", conversational);
        boolean hasRanking = f.has("ranking");
        boolean hasScores = f.has("scores");
        if (hasRanking && hasScores) {
            f.problem(f.column("ranking"), "give either " + f.column("ranking") + " or " + f.column("scores")
                    + ", not both");
            return null;
        }
        if (!hasRanking && !hasScores) {
            f.problem(f.column("ranking"), "missing field (or " + f.column("scores") + ")");
            return null;
        }
        if (responses != null) {
            if (responses.size() < 2) {
                f.problem(f.column("responses"), "need at least 2 responses, got " + responses.size());
            }
            for (int i = 0; i < responses.size(); i++) {
                Content c = responses.get(i);
                if (!c.conversational() && c.text().isBlank() || c.conversational() && c.messages().isEmpty()) {
                    f.problem(f.column("responses") + "[" + i + "]", "empty response");
                }
            }
        }
        List<RankedPair> pairs = null;
        if (hasRanking) {
            int[] ranking = f.ints("ranking");
            if (ranking != null && responses != null) {
                pairs = fromRanking(f, ranking, responses.size());
            }
        } else {
            double[] scores = f.doubles("scores");
            if (scores != null && responses != null) {
                pairs = fromScores(f, scores, responses.size());
            }
        }
        if (f.bad() || pairs == null) {
            return null;
        }
        for (RankedPair q : pairs) {
            if (responses.get(q.better()).equals(responses.get(q.worse()))) {
                f.problem(f.column("responses"), "responses[" + q.better() + "] and responses[" + q.worse()
                        + "] are the same text but ranked apart");
                return null;
            }
        }
        return new Sample.Ranking(f.row().origin(), p, responses, pairs);
    }

    /** Every pair (i better than j) of a ranking (rank 0 best); reports a ranking that is not a permutation. */
    static List<RankedPair> fromRanking(Fields f, int[] ranking, int k) {
        if (ranking.length != k) {
            f.problem(f.column("ranking"), ranking.length + " ranks for " + k + " responses");
            return null;
        }
        boolean[] seen = new boolean[k];
        for (int r : ranking) {
            if (r < 0 || r >= k || seen[r]) {
                f.problem(f.column("ranking"), "not a permutation of 0.." + (k - 1) + ": " + Arrays.toString(ranking));
                return null;
            }
            seen[r] = true;
        }
        List<RankedPair> out = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            for (int j = i + 1; j < k; j++) {
                out.add(ranking[i] < ranking[j] ? new RankedPair(i, j, Double.NaN) : new RankedPair(j, i, Double.NaN));
            }
        }
        return out;
    }

    /** Every pair of different scores (higher better, margin = difference); reports all-equal scores. */
    static List<RankedPair> fromScores(Fields f, double[] scores, int k) {
        if (scores.length != k) {
            f.problem(f.column("scores"), scores.length + " scores for " + k + " responses");
            return null;
        }
        List<RankedPair> out = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            for (int j = i + 1; j < k; j++) {
                if (scores[i] > scores[j]) {
                    out.add(new RankedPair(i, j, scores[i] - scores[j]));
                } else if (scores[j] > scores[i]) {
                    out.add(new RankedPair(j, i, scores[j] - scores[i]));
                }
            }
        }
        if (out.isEmpty()) {
            f.problem(f.column("scores"), "all scores are equal: no pairs to learn from");
            return null;
        }
        return out;
    }
}
