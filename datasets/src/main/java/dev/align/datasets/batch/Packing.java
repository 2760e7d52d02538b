package dev.align.datasets.batch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntUnaryOperator;

/**
 * Packing of short examples into rows of at most {@code capacity} tokens, best-fit decreasing (TRL's
 * {@code bfd} strategy): examples in decreasing length (ties in the given order) each go into the open
 * row with the least room that still fits them, or open a new row. Deterministic for a given order.
 */
public final class Packing {
    private Packing() {}

    /**
     * The rows, each a list of example indices, in the order they were opened.
     *
     * @param order the example indices (e.g. shuffled)
     * @param length an example's length in tokens
     * @param capacity a row's capacity (max_length); a longer example gets a row of its own
     */
    public static List<int[]> bestFitDecreasing(int[] order, IntUnaryOperator length, int capacity) {
        Integer[] pos = new Integer[order.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        Arrays.sort(pos, Comparator.comparingInt((Integer p) -> -length.applyAsInt(order[p])).thenComparingInt(p -> p));
        List<List<Integer>> rows = new ArrayList<>();
        TreeMap<Integer, ArrayDeque<Integer>> byRoom = new TreeMap<>(); // room left → rows with that room
        for (Integer p : pos) {
            int ex = order[p];
            int len = length.applyAsInt(ex);
            Map.Entry<Integer, ArrayDeque<Integer>> fit = byRoom.ceilingEntry(len);
            int row;
            int room;
            if (fit == null || len > capacity) {
                row = rows.size();
                rows.add(new ArrayList<>());
                room = capacity - len;
            } else {
                row = fit.getValue().pollFirst();
                if (fit.getValue().isEmpty()) {
                    byRoom.remove(fit.getKey());
                }
                room = fit.getKey() - len;
            }
            rows.get(row).add(ex);
            if (room > 0) {
                byRoom.computeIfAbsent(room, k -> new ArrayDeque<>()).addLast(row);
            }
        }
        List<int[]> out = new ArrayList<>(rows.size());
        for (List<Integer> r : rows) {
            out.add(r.stream().mapToInt(Integer::intValue).toArray());
        }
        return out;
    }
}
