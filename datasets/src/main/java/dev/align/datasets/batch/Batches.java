package dev.align.datasets.batch;

import dev.align.core.data.TokenBatch;
import dev.align.core.data.TokenRows;
import dev.align.core.data.TokenRows.Piece;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.datasets.PreferencePair;
import dev.align.datasets.RankingGroup;
import dev.align.datasets.SftExample;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.UnpairedExample;
import dev.align.datasets.format.RankedPair;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns example indices into right-padded batches (see {@link TokenRows}: pad token, position ids,
 * segments for the attention mask, shifted labels).
 */
public final class Batches {
    private Batches() {}

    /**
     * SFT rows: each row is one example (unpacked) or several (packed: segments 1, 2, ..., positions
     * restarting, no attention or labels across examples).
     *
     * @param rows per row, the example indices placed in it
     */
    public static TokenBatch sft(TokenizedDataset ds, int[][] rows, long padId) {
        List<List<Piece>> out = new ArrayList<>(rows.length);
        for (int[] row : rows) {
            List<Piece> pieces = new ArrayList<>(row.length);
            for (int i : row) {
                SftExample e = ds.sft(i);
                pieces.add(e.piece());
            }
            out.add(pieces);
        }
        return TokenRows.build(out, padId);
    }

    /** Preference pairs: chosen rows first, then rejected rows. */
    public static PreferenceBatch preference(TokenizedDataset ds, int[] pairs, long padId) {
        int p = pairs.length;
        List<List<Piece>> rows = new ArrayList<>(2 * p);
        List<List<Piece>> rejected = new ArrayList<>(p);
        double[] margins = new double[p];
        int[] lines = new int[p];
        for (int k = 0; k < p; k++) {
            PreferencePair pair = ds.pair(pairs[k]);
            rows.add(List.of(piece(pair.chosen())));
            rejected.add(List.of(piece(pair.rejected())));
            margins[k] = pair.margin();
            lines[k] = pair.line();
        }
        rows.addAll(rejected);
        return new PreferenceBatch(TokenRows.build(rows, padId), p, margins, lines);
    }

    /** Whole ranking groups (or preference pairs as groups of 2): one row per response. */
    public static RankingBatch ranking(TokenizedDataset ds, int[] groups, long padId) {
        List<List<Piece>> rows = new ArrayList<>();
        List<Integer> rowGroup = new ArrayList<>();
        List<int[]> pairs = new ArrayList<>();
        List<Double> margins = new ArrayList<>();
        int[] lines = new int[groups.length];
        for (int g = 0; g < groups.length; g++) {
            RankingGroup grp = ds.group(groups[g]);
            lines[g] = grp.line();
            int base = rows.size();
            for (PromptCompletion r : grp.responses()) {
                rows.add(List.of(piece(r)));
                rowGroup.add(g);
            }
            for (RankedPair q : grp.pairs()) {
                pairs.add(new int[] {base + q.better(), base + q.worse(), g});
                margins.add(q.margin());
            }
        }
        int n = pairs.size();
        int[] better = new int[n];
        int[] worse = new int[n];
        int[] pairGroup = new int[n];
        double[] m = new double[n];
        for (int k = 0; k < n; k++) {
            better[k] = pairs.get(k)[0];
            worse[k] = pairs.get(k)[1];
            pairGroup[k] = pairs.get(k)[2];
            m[k] = margins.get(k);
        }
        return new RankingBatch(TokenRows.build(rows, padId), groups.length,
                rowGroup.stream().mapToInt(Integer::intValue).toArray(), better, worse, m, pairGroup, lines);
    }

    /** Unpaired examples, one per row. */
    public static UnpairedBatch unpaired(TokenizedDataset ds, int[] idx, long padId) {
        List<List<Piece>> rows = new ArrayList<>(idx.length);
        boolean[] labels = new boolean[idx.length];
        int[] lines = new int[idx.length];
        for (int k = 0; k < idx.length; k++) {
            UnpairedExample e = ds.unpaired(idx[k]);
            rows.add(List.of(piece(e.seq())));
            labels[k] = e.label();
            lines[k] = e.line();
        }
        return new UnpairedBatch(TokenRows.build(rows, padId), labels, lines);
    }

    private static Piece piece(PromptCompletion pc) {
        return Piece.fromPromptLength(pc.ids(), pc.promptLength());
    }
}
