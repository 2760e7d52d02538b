package dev.align.datasets.tokenize;

import dev.align.core.data.TokenRows.Piece;
import dev.align.datasets.TruncationMode;
import dev.align.datasets.format.Format;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code max_length} policy, applied per sequence as TRL does: {@code keep_start} keeps tokens
 * [0, max_length), {@code keep_end} keeps the last max_length tokens. What cannot be used afterwards is
 * dropped with a reason:
 *
 * <ul>
 *   <li>an SFT or unpaired example with no loss token left ({@link #NO_LOSS_TOKENS});
 *   <li>a preference pair or ranking group whose prompt alone fills max_length ({@link #PROMPT_FILLS});
 *   <li>a pair whose chosen and rejected sequences became identical ({@link #IDENTICAL}); in a ranking
 *       group such pairs are removed, and the group is dropped when none is left.
 * </ul>
 *
 * Prompt-only examples are truncated the same way (keep_end keeps the end of the prompt, next to where
 * generation starts) and never dropped.
 */
public final class Truncation {
    /** Drop reason: an SFT or unpaired example whose loss tokens were all cut away. */
    public static final String NO_LOSS_TOKENS = "no loss tokens left after truncation";
    /** Drop reason: the prompt takes all of max_length, nothing of the completions is left. */
    public static final String PROMPT_FILLS = "prompt alone fills max_length";
    /** Drop reason: two compared sequences are the same after truncation. */
    public static final String IDENTICAL = "chosen and rejected identical after truncation";

    private Truncation() {}

    /**
     * The outcome for one example.
     *
     * @param kept the example to keep (possibly cut), or null when dropped
     * @param truncated whether any of its sequences was cut
     * @param dropReason why it was dropped, or null
     * @param pairsRemoved ranking pairs removed because they became identical
     */
    public record Result(Encoder.Encoded kept, boolean truncated, String dropReason, int pairsRemoved) {}

    /** Applies max_length (null: no limit) to one tokenized example of a format of {@code kind}. */
    public static Result apply(Format.Kind kind, Encoder.Encoded e, Integer maxLength, TruncationMode mode) {
        if (maxLength == null) {
            return new Result(e, false, null, 0);
        }
        boolean cut = false;
        List<Piece> seqs = new ArrayList<>();
        for (Piece p : e.seqs()) {
            Piece q = cut(p, maxLength, mode);
            cut |= q != p;
            seqs.add(q);
        }
        if (!cut) {
            return new Result(e, false, null, 0);
        }
        switch (kind) {
            case SFT, UNPAIRED:
                if (!hasTargets(seqs.get(0))) {
                    return new Result(null, true, NO_LOSS_TOKENS, 0);
                }
                break;
            case PREFERENCE:
                if (!hasTargets(seqs.get(0)) || !hasTargets(seqs.get(1))) {
                    return new Result(null, true, PROMPT_FILLS, 0);
                }
                if (same(seqs.get(0), seqs.get(1))) {
                    return new Result(null, true, IDENTICAL, 0);
                }
                break;
            case RANKING:
                for (Piece p : seqs) {
                    if (!hasTargets(p)) {
                        return new Result(null, true, PROMPT_FILLS, 0);
                    }
                }
                double[] nums = e.numbers();
                double[] kept = new double[nums.length];
                int n = 0;
                int removed = 0;
                for (int i = 0; i < nums.length; i += 3) {
                    if (same(seqs.get((int) nums[i]), seqs.get((int) nums[i + 1]))) {
                        removed++;
                    } else {
                        System.arraycopy(nums, i, kept, n, 3);
                        n += 3;
                    }
                }
                if (n == 0) {
                    return new Result(null, true, IDENTICAL, removed);
                }
                return new Result(new Encoder.Encoded(seqs, Arrays.copyOf(kept, n), e.extra()), true, null, removed);
            default:
                break;
        }
        return new Result(new Encoder.Encoded(seqs, e.numbers(), e.extra()), true, null, 0);
    }

    /** {@code p} cut to {@code max} tokens ({@code p} itself when it fits). */
    public static Piece cut(Piece p, int max, TruncationMode mode) {
        int n = p.length();
        if (n <= max) {
            return p;
        }
        int from = mode == TruncationMode.KEEP_START ? 0 : n - max;
        return new Piece(Arrays.copyOfRange(p.ids(), from, from + max), Arrays.copyOfRange(p.targets(), from, from + max));
    }

    /** Whether some token after the first takes loss (the first is never predicted). */
    public static boolean hasTargets(Piece p) {
        boolean[] t = p.targets();
        for (int i = 1; i < t.length; i++) {
            if (t[i]) {
                return true;
            }
        }
        return false;
    }

    private static boolean same(Piece a, Piece b) {
        return Arrays.equals(a.ids(), b.ids()) && Arrays.equals(a.targets(), b.targets());
    }
}
