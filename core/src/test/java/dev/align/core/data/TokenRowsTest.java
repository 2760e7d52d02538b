package dev.align.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.align.core.data.TokenRows.Piece;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Packed rows: segments, restarting positions, labels that never cross a piece; and agreement with rightPadded. */
class TokenRowsTest {

    @Test
    void packedRowByHand() {
        Piece a = Piece.fromPromptLength(new long[] {10, 11, 12}, 1); // targets 11, 12
        Piece b = new Piece(new long[] {20, 21}, new boolean[] {true, true}); // target 21 (20 is first)
        TokenBatch t = TokenRows.build(List.of(List.of(a, b), List.of(b)), 0, 6);
        assertEquals(2, t.rows());
        assertEquals(6, t.length());
        assertArrayEquals(new long[] {10, 11, 12, 20, 21, 0, 20, 21, 0, 0, 0, 0}, t.ids());
        assertArrayEquals(new int[] {1, 1, 1, 2, 2, 0, 1, 1, 0, 0, 0, 0}, t.segments());
        assertArrayEquals(new long[] {0, 1, 2, 0, 1, 5, 0, 1, 2, 3, 4, 5}, t.positions());
        long x = TokenBatch.IGNORE;
        // position 2 (token 12) must not predict 20, the next piece's first token
        assertArrayEquals(new long[] {11, 12, x, 21, x, x, 21, x, x, x, x, x}, t.labels());
    }

    @Test
    void onePiecePerRowEqualsRightPadded() {
        List<long[]> seqs = List.of(new long[] {1, 2, 3, 4}, new long[] {5, 6}, new long[] {7, 8, 9});
        int[] from = {2, 1, 0};
        TokenBatch expected = TokenBatch.rightPadded(seqs, from, 99);
        TokenBatch got = TokenRows.build(List.of(
                List.of(Piece.fromPromptLength(seqs.get(0), 2)),
                List.of(Piece.fromPromptLength(seqs.get(1), 1)),
                List.of(Piece.fromPromptLength(seqs.get(2), 0))), 99);
        assertEquals(expected.length(), got.length());
        assertArrayEquals(expected.ids(), got.ids());
        assertArrayEquals(expected.positions(), got.positions());
        assertArrayEquals(expected.segments(), got.segments());
        assertArrayEquals(expected.labels(), got.labels());
    }
}
