package dev.align.datasets;

import dev.align.core.data.TokenRows;

/**
 * One tokenized SFT / language-modelling example.
 *
 * @param line the record's line in the file
 * @param ids the tokens
 * @param targets per token, whether it takes loss (is predicted from the tokens before it)
 */
public record SftExample(int line, long[] ids, boolean[] targets) {
    /** The example as a piece of a batch row. */
    public TokenRows.Piece piece() {
        return new TokenRows.Piece(ids, targets);
    }

    /** Tokens that take loss (the first token never does). */
    public int lossTokens() {
        int n = 0;
        for (int i = 1; i < targets.length; i++) {
            if (targets[i]) {
                n++;
            }
        }
        return n;
    }
}
