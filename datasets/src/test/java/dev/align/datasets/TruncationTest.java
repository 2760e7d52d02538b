package dev.align.datasets;

import static dev.align.datasets.testing.TestFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.align.datasets.format.RankedPair;
import dev.align.datasets.testing.TestFiles;
import dev.align.datasets.tokenize.Truncation;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * max_length with keep_start / keep_end: what is cut, what is dropped and why, and the counts the
 * report gives. Token counts below are by hand: the llama_gqa tokenizer adds {@code <s>}, one token per
 * word, and {@code </s>} at the end of each completion.
 */
class TruncationTest {
    @TempDir
    Path dir;

    private static final DataSettings S = DataSettings.defaults().withCache(false, null);

    @Test
    void sftKeepStartAndKeepEnd() {
        Path f = write(dir, "pc.jsonl",
                // 1 + 3 prompt, 2 + 1 completion = 7 tokens
                "{\"prompt\": \"bidu bulu bena\", \"completion\": \" boko bega\"}",
                // 1 + 1 prompt, 1 + 1 completion = 4
                "{\"prompt\": \"bidu\", \"completion\": \" bulu\"}",
                // 1 + 6 prompt, 1 + 1 = 9: the prompt alone fills 6
                "{\"prompt\": \"bidu bulu bena boko bega bimu\", \"completion\": \" bemo\"}");
        DataReport start = Datasets.check(f, S.withMaxLength(6), TestFiles.llama(), null);
        assertEquals(2, start.truncated());
        assertEquals(Map.of(Truncation.NO_LOSS_TOKENS, 1), start.dropped());
        assertEquals(2, start.examples());
        assertEquals(new LengthStats(3, 7, 9, 9, 9, 20 / 3.0), start.lengths());
        try (TokenizedDataset ds = Datasets.load(f, S.withMaxLength(6).withSkipBadRecords(true), TestFiles.llama())) {
            SftExample e = ds.sft(0);
            long[] full = TestFiles.llama().encode("bidu bulu bena boko bega</s>");
            assertArrayEquals(Arrays.copyOf(full, 6), e.ids());
            assertArrayEquals(new boolean[] {false, false, false, false, true, true}, e.targets());
            assertEquals(4, ds.sft(1).ids().length);
        }
        DataReport end = Datasets.check(f, S.withMaxLength(6).withTruncationMode("keep_end"), TestFiles.llama(), null);
        assertEquals(2, end.truncated());
        assertEquals(Map.of(), end.dropped());
        assertEquals(3, end.examples());
        try (TokenizedDataset ds = Datasets.load(f, S.withMaxLength(6).withTruncationMode("keep_end"), TestFiles.llama())) {
            long[] full = TestFiles.llama().encode("bidu bulu bena boko bega bimu bemo</s>");
            assertArrayEquals(Arrays.copyOfRange(full, 3, 9), ds.sft(2).ids());
            assertArrayEquals(new boolean[] {false, false, false, false, true, true}, ds.sft(2).targets());
        }
        DataReport none = Datasets.check(f, S, TestFiles.llama(), null);
        assertEquals(0, none.truncated());
        assertEquals(3, none.examples());
    }

    @Test
    void preferencePairsThatCannotFitAreDroppedAndCounted() {
        Path f = write(dir, "pref.jsonl",
                // chosen 1+1+2+1 = 5, rejected 1+1+3+1 = 6: fits in 6
                "{\"prompt\": \"bidu\", \"chosen\": \" bulu bena\", \"rejected\": \" bulu bena boko\"}",
                // both cut to 4 = <s> bidu bulu bena: identical
                "{\"prompt\": \"bidu\", \"chosen\": \" bulu bena boko\", \"rejected\": \" bulu bena bega\"}",
                // prompt of 1+4 = 5 ≥ 4
                "{\"prompt\": \"bidu bulu bena boko\", \"chosen\": \" bega\", \"rejected\": \" bimu\"}",
                // cut but different
                "{\"prompt\": \"bidu\", \"chosen\": \" bulu bena\", \"rejected\": \" bena bulu\"}");
        DataReport r = Datasets.check(f, S.withMaxLength(4), TestFiles.llama(), null);
        assertEquals(4, r.truncated());
        assertEquals(Map.of(Truncation.IDENTICAL, 2, Truncation.PROMPT_FILLS, 1), r.dropped());
        assertEquals(1, r.examples());
        assertEquals(1, r.pairs());
        assertEquals(3, r.droppedTotal());
    }

    @Test
    void rankingPairsThatBecomeIdenticalAreRemoved() {
        Path f = write(dir, "rank.jsonl",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu bena\", \" bulu boko\", \" bega\"], \"ranking\": [0, 1, 2]}");
        DataReport r = Datasets.check(f, S.withMaxLength(3), TestFiles.llama(), null);
        assertEquals(1, r.pairsRemoved());
        assertEquals(2, r.pairs());
        try (TokenizedDataset ds = Datasets.load(f, S.withMaxLength(3), TestFiles.llama())) {
            assertEquals(List.of(new RankedPair(0, 2, Double.NaN), new RankedPair(1, 2, Double.NaN)), ds.group(0).pairs());
            assertEquals(3, ds.group(0).responses().get(0).ids().length);
        }
    }

    @Test
    void lengthPercentilesByNearestRank() {
        int[] v = new int[100];
        for (int i = 0; i < 100; i++) {
            v[i] = 100 - i;
        }
        LengthStats s = LengthStats.of(v, 100);
        assertEquals(new LengthStats(100, 50, 90, 99, 100, 50.5), s);
        assertEquals(new LengthStats(1, 7, 7, 7, 7, 7), LengthStats.of(new int[] {7, 0}, 1));
    }
}
