package dev.align.datasets.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.align.core.BadInputException;
import dev.align.core.data.TokenBatch;
import dev.align.core.testing.Fixtures;
import dev.align.datasets.DataSettings;
import dev.align.datasets.Datasets;
import dev.align.datasets.RankingGroup;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.testing.TestFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shuffling, grouping, packing, splits, and exact resume of the data loader. */
class DataLoaderTest {
    @TempDir
    Path dir;

    private static final IntUnaryOperator LEN = i -> 3 + (i * 37 % 29); // lengths 3..31

    private static List<String> take(DataLoader<int[][]> l, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Arrays.deepToString(l.next()));
        }
        return out;
    }

    private static DataLoader<int[][]> loader(DataLoader.Options o) {
        return new DataLoader<>(Splits.all(101), LEN, o, rows -> rows);
    }

    @Test
    void orderAfterRestoreEqualsUninterruptedOrder() {
        for (DataLoader.Options o : List.of(
                DataLoader.Options.of(8, 7),
                DataLoader.Options.of(8, 7).withGroupByLength(false),
                DataLoader.Options.of(4, 7).withPacking(true, 40),
                DataLoader.Options.of(8, 7).withDropLast(true))) {
            DataLoader<int[][]> straight = loader(o);
            int perEpoch = straight.batchesPerEpoch();
            List<String> expected = take(straight, 3 * perEpoch + 2);
            for (int cut : new int[] {0, 1, perEpoch - 1, perEpoch, perEpoch + 3, 2 * perEpoch + 1}) {
                DataLoader<int[][]> first = loader(o);
                List<String> got = take(first, cut);
                String saved = first.state().toJson();
                DataLoader<int[][]> resumed = loader(o);
                take(resumed, 5); // a fresh loader elsewhere in its data: restore must not depend on it
                resumed.restore(LoaderState.fromJson(saved, "checkpoint"));
                got.addAll(take(resumed, expected.size() - cut));
                assertEquals(expected, got, "resumed after " + cut + " batches with " + o);
            }
        }
    }

    @Test
    void stateIsASmallJsonObject() {
        DataLoader<int[][]> l = loader(DataLoader.Options.of(8, 42));
        take(l, l.batchesPerEpoch() + 3);
        LoaderState s = l.state();
        assertEquals(1, s.epoch());
        assertEquals(3, s.offset());
        String json = s.toJson();
        assertTrue(json.matches("\\{\"seed\":42,\"epoch\":1,\"offset\":3,\"rng\":\"[0-9a-f]+\"}"), json);
        assertEquals(s, LoaderState.fromJson(json, "x"));
        assertThrows(BadInputException.class, () -> loader(DataLoader.Options.of(8, 43)).restore(s));
        assertThrows(BadInputException.class, () -> LoaderState.fromJson("{\"epoch\": 1}", "x"));
    }

    @Test
    void everyEpochSeesEveryUnitOnceInANewOrder() {
        DataLoader<int[][]> l = loader(DataLoader.Options.of(8, 1));
        List<String> orders = new ArrayList<>();
        for (int e = 0; e < 3; e++) {
            int[] seen = new int[101];
            StringBuilder order = new StringBuilder();
            for (int b = 0; b < l.batchesPerEpoch(); b++) {
                for (int[] row : l.next()) {
                    for (int u : row) {
                        seen[u]++;
                        order.append(u).append(',');
                    }
                }
            }
            int[] ones = new int[101];
            Arrays.fill(ones, 1);
            assertArrayEquals(ones, seen);
            orders.add(order.toString());
        }
        assertNotEquals(orders.get(0), orders.get(1));
        assertNotEquals(orders.get(1), orders.get(2));
        assertEquals(take(loader(DataLoader.Options.of(8, 1)), 20), take(loader(DataLoader.Options.of(8, 1)), 20));
        assertNotEquals(take(loader(DataLoader.Options.of(8, 1)), 20), take(loader(DataLoader.Options.of(8, 2)), 20));
    }

    private static long padding(DataLoader<int[][]> l) {
        long pad = 0;
        for (int b = 0; b < l.batchesPerEpoch(); b++) {
            int[][] rows = l.next();
            int max = 0;
            for (int[] r : rows) {
                max = Math.max(max, LEN.applyAsInt(r[0]));
            }
            for (int[] r : rows) {
                pad += max - LEN.applyAsInt(r[0]);
            }
        }
        return pad;
    }

    @Test
    void groupingByLengthCutsPadding() {
        long grouped = padding(loader(DataLoader.Options.of(8, 3)));
        long plain = padding(loader(DataLoader.Options.of(8, 3).withGroupByLength(false)));
        assertTrue(grouped * 5 < plain, "grouped " + grouped + " vs plain " + plain);
    }

    @Test
    void bestFitDecreasingByHand() {
        int[] len = {5, 4, 3, 3, 2, 1};
        List<int[]> rows = Packing.bestFitDecreasing(new int[] {0, 1, 2, 3, 4, 5}, i -> len[i], 8);
        // 5 → row0 (room 3); 4 → row1 (4); 3 → row0 (0); 3 → row1 (1); 2 → row2 (6); 1 → row1 (0)
        assertEquals("[[0, 2], [1, 3, 5], [4]]", Arrays.deepToString(rows.toArray()));
        List<int[]> big = Packing.bestFitDecreasing(Splits.all(101), LEN, 40);
        int[] seen = new int[101];
        for (int[] r : big) {
            int sum = 0;
            for (int u : r) {
                sum += LEN.applyAsInt(u);
                seen[u]++;
            }
            assertTrue(sum <= 40);
        }
        for (int s : seen) {
            assertEquals(1, s);
        }
    }

    @Test
    void splitsAreDisjointCompleteAndSeeded() {
        Splits.Split s = Splits.trainEval(100, 0.1, 5);
        assertEquals(10, s.eval().length);
        assertEquals(90, s.train().length);
        boolean[] seen = new boolean[100];
        for (int i : s.train()) {
            seen[i] = true;
        }
        for (int i : s.eval()) {
            assertTrue(!seen[i]);
            seen[i] = true;
        }
        for (boolean b : seen) {
            assertTrue(b);
        }
        assertArrayEquals(s.eval(), Splits.trainEval(100, 0.1, 5).eval());
        assertNotEquals(Arrays.toString(s.eval()), Arrays.toString(Splits.trainEval(100, 0.1, 6).eval()));
        assertEquals(1, Splits.trainEval(3, 0.01, 1).eval().length);
    }

    @Test
    void sftLoaderPacksRowsWithinMaxLength() {
        try (TokenizedDataset ds = Datasets.load(Fixtures.reference("data/sft.jsonl"),
                DataSettings.defaults().withCache(false, null).withMaxLength(64), TestFiles.llama())) {
            DataLoader<TokenBatch> l = DataLoader.sft(ds, null, DataLoader.Options.of(4, 9).withPacking(true, 64), 1);
            int examples = 0;
            for (int b = 0; b < l.batchesPerEpoch(); b++) {
                TokenBatch t = l.next();
                assertTrue(t.length() <= 64);
                for (int r = 0; r < t.rows(); r++) {
                    int maxSeg = 0;
                    for (int i = 0; i < t.length(); i++) {
                        maxSeg = Math.max(maxSeg, t.segments()[r * t.length() + i]);
                    }
                    examples += maxSeg;
                }
            }
            assertEquals(32, examples);
        }
    }

    @Test
    void rankingBatchesKeepEveryGroupWhole() {
        Path f = TestFiles.write(dir, "rank.jsonl",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\", \" boko\", \" bega\"], \"ranking\": [2, 0, 3, 1]}",
                "{\"prompt\": \"bena\", \"responses\": [\" bulu\", \" boko\"], \"scores\": [0.5, 2]}",
                "{\"prompt\": \"boko\", \"responses\": [\" bimu\", \" bemo\", \" biza\"], \"ranking\": [0, 1, 2]}");
        try (TokenizedDataset ds = Datasets.load(f, DataSettings.defaults().withCache(false, null), TestFiles.llama())) {
            DataLoader<RankingBatch> l = DataLoader.ranking(ds, null, DataLoader.Options.of(2, 4), 1);
            assertEquals(2, l.batchesPerEpoch());
            int groups = 0;
            int pairs = 0;
            for (int b = 0; b < 2; b++) {
                RankingBatch rb = l.next();
                groups += rb.groups();
                pairs += rb.pairs();
                for (int k = 0; k < rb.pairs(); k++) {
                    int g = rb.pairGroup()[k];
                    assertEquals(g, rb.rowGroup()[rb.better()[k]]);
                    assertEquals(g, rb.rowGroup()[rb.worse()[k]]);
                    RankingGroup grp = ds.group(rb.lines()[g] - 1);
                    int first = 0;
                    while (rb.rowGroup()[first] != g) {
                        first++;
                    }
                    int bi = rb.better()[k] - first;
                    int wi = rb.worse()[k] - first;
                    assertTrue(grp.pairs().stream().anyMatch(q -> q.better() == bi && q.worse() == wi));
                    long[] want = grp.responses().get(bi).ids();
                    int t = rb.batch().length();
                    assertArrayEquals(want, Arrays.copyOfRange(rb.batch().ids(), rb.better()[k] * t,
                            rb.better()[k] * t + want.length));
                }
            }
            assertEquals(3, groups);
            assertEquals(6 + 1 + 3, pairs);
        }
    }
}
