package dev.align.core.data;

import java.util.Arrays;
import java.util.List;

/**
 * Builds a {@link TokenBatch} from rows that each hold one or more examples ("pieces"), placed one
 * after another: the general form of {@link TokenBatch#rightPadded}, with per-token loss masks and
 * packing.
 *
 * <p>In a row of k pieces, piece j gets segment id j (1-based), positions restart at 0 at the start of
 * every piece, and labels never cross a piece boundary: the last token of a piece predicts nothing.
 * With the attention mask built from segments (block-diagonal, causal), every piece of a packed row
 * sees exactly what it would see alone in a row of its own, so its per-token log-probs are the same.
 */
public final class TokenRows {
    private TokenRows() {}

    /**
     * One example's tokens and which of them take loss.
     *
     * @param ids the tokens
     * @param targets {@code targets[t]} is true when token t is a loss target, i.e. is predicted from
     *     tokens 0..t−1 of the same piece (target 0 never counts: nothing precedes it)
     */
    public record Piece(long[] ids, boolean[] targets) {
        public Piece {
            if (ids.length != targets.length) {
                throw new IllegalArgumentException("ids and targets differ in length: " + ids.length + " vs " + targets.length);
            }
        }

        /** A piece whose tokens from {@code lossFrom} on are targets (a prompt of lossFrom tokens, then the completion). */
        public static Piece fromPromptLength(long[] ids, int lossFrom) {
            boolean[] t = new boolean[ids.length];
            Arrays.fill(t, Math.min(Math.max(lossFrom, 0), ids.length), ids.length, true);
            return new Piece(ids, t);
        }

        public int length() {
            return ids.length;
        }
    }

    /** Rows padded to their longest row. */
    public static TokenBatch build(List<List<Piece>> rows, long padId) {
        return build(rows, padId, 0);
    }

    /**
     * Rows right-padded with {@code padId} to {@code max(minLength, longest row)}.
     *
     * @param rows per row, the pieces in order
     */
    public static TokenBatch build(List<List<Piece>> rows, long padId, int minLength) {
        int b = rows.size();
        int t = Math.max(minLength, 0);
        for (List<Piece> row : rows) {
            int n = 0;
            for (Piece p : row) {
                n += p.length();
            }
            t = Math.max(t, n);
        }
        long[] ids = new long[b * t];
        long[] pos = new long[b * t];
        int[] seg = new int[b * t];
        long[] labels = new long[b * t];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, TokenBatch.IGNORE);
        for (int r = 0; r < b; r++) {
            int at = r * t;
            int s = 0;
            for (Piece p : rows.get(r)) {
                s++;
                long[] x = p.ids();
                boolean[] tg = p.targets();
                System.arraycopy(x, 0, ids, at, x.length);
                Arrays.fill(seg, at, at + x.length, s);
                for (int i = 0; i < x.length; i++) {
                    pos[at + i] = i;
                }
                for (int i = 1; i < x.length; i++) {
                    if (tg[i]) {
                        labels[at + i - 1] = x[i];
                    }
                }
                at += x.length;
            }
            // padding keeps positions counting on (like rightPadded); they are masked out anyway
            for (int i = at, k = at - r * t; i < (r + 1) * t; i++, k++) {
                pos[i] = k;
            }
        }
        return new TokenBatch(b, t, ids, pos, seg, labels);
    }
}
