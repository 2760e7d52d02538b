package dev.align.datasets.batch;

import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.data.TokenBatch;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.format.Format;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;

/**
 * Hands out batches epoch after epoch, deterministically from a seed, and can save and restore its
 * place exactly ({@link LoaderState}).
 *
 * <p>Each epoch's plan is built from the random state at the epoch's start:
 *
 * <ol>
 *   <li>the units (examples, or groups for rankings) are shuffled (if {@code shuffle});
 *   <li>with {@code packing}, they are packed best-fit decreasing into rows of {@code maxLength}
 *       tokens, the rows shuffled, and {@code batchSize} rows make a batch;
 *   <li>else with {@code groupByLength}, every run of 50 batches' worth of units is sorted by length
 *       (longest first) and cut into batches, and the batches are shuffled: little padding, random
 *       order;
 *   <li>else the order is cut into batches of {@code batchSize}.
 * </ol>
 *
 * With {@code dropLast}, a last batch smaller than {@code batchSize} is left out.
 *
 * @param <B> the batch type
 */
public final class DataLoader<B> {
    /** How many units of 50 batches are sorted together when grouping by length. */
    public static final int LENGTH_GROUP_BATCHES = 50;

    /**
     * Loader settings.
     *
     * @param batchSize units (examples, pairs, groups) per batch; rows per batch with packing
     * @param shuffle shuffle every epoch
     * @param groupByLength batch units of similar length together
     * @param packing pack several SFT examples per row (needs maxLength)
     * @param maxLength row capacity for packing
     * @param dropLast leave out a last, smaller batch
     * @param seed the seed
     */
    public record Options(int batchSize, boolean shuffle, boolean groupByLength, boolean packing, Integer maxLength,
            boolean dropLast, long seed) {
        /** Shuffled, grouped by length, not packed, last batch kept. */
        public static Options of(int batchSize, long seed) {
            return new Options(batchSize, true, true, false, null, false, seed);
        }

        public Options withShuffle(boolean s) {
            return new Options(batchSize, s, groupByLength, packing, maxLength, dropLast, seed);
        }

        public Options withGroupByLength(boolean g) {
            return new Options(batchSize, shuffle, g, packing, maxLength, dropLast, seed);
        }

        public Options withPacking(boolean p, Integer max) {
            return new Options(batchSize, shuffle, groupByLength, p, max, dropLast, seed);
        }

        public Options withDropLast(boolean d) {
            return new Options(batchSize, shuffle, groupByLength, packing, maxLength, d, seed);
        }
    }

    private final int[] units;
    private final IntUnaryOperator length;
    private final Options opt;
    private final Function<int[][], B> maker;
    private final SeededRandom rng;
    private long epochStart;
    private int epoch;
    private int offset;
    private List<int[][]> plan;

    /**
     * A loader over {@code units}.
     *
     * @param length a unit's length in tokens (for grouping and packing)
     * @param maker builds a batch from its rows of unit indices
     */
    public DataLoader(int[] units, IntUnaryOperator length, Options opt, Function<int[][], B> maker) {
        if (opt.batchSize() < 1) {
            throw new BadInputException("batch_size: must be at least 1, got " + opt.batchSize());
        }
        if (opt.packing() && (opt.maxLength() == null || opt.maxLength() < 2)) {
            throw new BadInputException("packing: needs max_length");
        }
        this.units = units.clone();
        this.length = length;
        this.opt = opt;
        this.maker = maker;
        this.rng = new SeededRandom(opt.seed());
        startEpoch();
    }

    /** SFT batches (one example per row, or packed rows). */
    public static DataLoader<TokenBatch> sft(TokenizedDataset ds, int[] indices, Options opt, long padId) {
        require(ds, Format.Kind.SFT);
        return new DataLoader<>(indices == null ? Splits.all(ds.size()) : indices, ds::length, opt,
                rows -> Batches.sft(ds, rows, padId));
    }

    /** Preference batches of {@code batchSize} pairs. */
    public static DataLoader<PreferenceBatch> preference(TokenizedDataset ds, int[] indices, Options opt, long padId) {
        require(ds, Format.Kind.PREFERENCE);
        return new DataLoader<>(indices == null ? Splits.all(ds.size()) : indices, ds::length, opt.withPacking(false, null),
                rows -> Batches.preference(ds, flat(rows), padId));
    }

    /** Reward-model batches of {@code batchSize} whole groups (ranking data, or preference pairs as groups). */
    public static DataLoader<RankingBatch> ranking(TokenizedDataset ds, int[] indices, Options opt, long padId) {
        if (ds.kind() != Format.Kind.RANKING && ds.kind() != Format.Kind.PREFERENCE) {
            require(ds, Format.Kind.RANKING);
        }
        return new DataLoader<>(indices == null ? Splits.all(ds.size()) : indices, ds::length, opt.withPacking(false, null),
                rows -> Batches.ranking(ds, flat(rows), padId));
    }

    /** Unpaired-preference batches. */
    public static DataLoader<UnpairedBatch> unpaired(TokenizedDataset ds, int[] indices, Options opt, long padId) {
        require(ds, Format.Kind.UNPAIRED);
        return new DataLoader<>(indices == null ? Splits.all(ds.size()) : indices, ds::length, opt.withPacking(false, null),
                rows -> Batches.unpaired(ds, flat(rows), padId));
    }

    private static void require(TokenizedDataset ds, Format.Kind kind) {
        if (ds.kind() != kind) {
            throw new AlignException(ds.report().file() + ": " + ds.format().id() + " data cannot make "
                    + kind.name().toLowerCase(java.util.Locale.ROOT) + " batches");
        }
    }

    private static int[] flat(int[][] rows) {
        int[] out = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = rows[i][0];
        }
        return out;
    }

    /** The next batch (a new epoch starts when this one is used up). */
    public B next() {
        return maker.apply(nextPlan());
    }

    /** The next batch's rows of unit indices, without building it. */
    public int[][] nextPlan() {
        if (plan.isEmpty()) {
            throw new AlignException("the data loader has no batches (no examples, or fewer than one batch with drop_last)");
        }
        if (offset == plan.size()) {
            epoch++;
            startEpoch();
        }
        return plan.get(offset++);
    }

    /** Batches in one epoch. */
    public int batchesPerEpoch() {
        return plan.size();
    }

    public int epoch() {
        return epoch;
    }

    /** Batches of the current epoch handed out so far. */
    public int offset() {
        return offset;
    }

    /** The place to save in a checkpoint. */
    public LoaderState state() {
        return new LoaderState(opt.seed(), epoch, offset, epochStart);
    }

    /** Continues from a saved place: the following batches are exactly those an uninterrupted run would give. */
    public void restore(LoaderState s) {
        if (s.seed() != opt.seed()) {
            throw new BadInputException("data loader state: saved with seed " + s.seed() + ", this run uses "
                    + opt.seed());
        }
        rng.setState(s.rng());
        epoch = s.epoch();
        startEpoch();
        if (s.offset() < 0 || s.offset() > plan.size()) {
            throw new BadInputException("data loader state: offset " + s.offset() + " is outside the epoch's "
                    + plan.size() + " batches (was the data changed?)");
        }
        offset = s.offset();
    }

    private void startEpoch() {
        epochStart = rng.state();
        plan = buildPlan();
        offset = 0;
    }

    private List<int[][]> buildPlan() {
        int[] order = units.clone();
        if (opt.shuffle()) {
            rng.shuffle(order);
        }
        int bs = opt.batchSize();
        List<int[][]> batches = new ArrayList<>();
        if (opt.packing()) {
            List<int[]> rows = Packing.bestFitDecreasing(order, length, opt.maxLength());
            if (opt.shuffle()) {
                rng.shuffle(rows);
            }
            for (int i = 0; i < rows.size(); i += bs) {
                batches.add(rows.subList(i, Math.min(rows.size(), i + bs)).toArray(new int[0][]));
            }
        } else if (opt.groupByLength()) {
            int mega = bs * LENGTH_GROUP_BATCHES;
            for (int m = 0; m < order.length; m += mega) {
                Integer[] chunk = Arrays.stream(order, m, Math.min(order.length, m + mega)).boxed().toArray(Integer[]::new);
                Arrays.sort(chunk, Comparator.comparingInt((Integer u) -> -length.applyAsInt(u)));
                for (int i = 0; i < chunk.length; i += bs) {
                    batches.add(rowsOf(chunk, i, Math.min(chunk.length, i + bs)));
                }
            }
            if (opt.shuffle()) {
                rng.shuffle(batches);
            }
        } else {
            Integer[] all = Arrays.stream(order).boxed().toArray(Integer[]::new);
            for (int i = 0; i < all.length; i += bs) {
                batches.add(rowsOf(all, i, Math.min(all.length, i + bs)));
            }
        }
        if (opt.dropLast()) {
            batches.removeIf(b -> b.length < bs);
        }
        return batches;
    }

    private static int[][] rowsOf(Integer[] units, int from, int to) {
        int[][] rows = new int[to - from][];
        for (int i = from; i < to; i++) {
            rows[i - from] = new int[] {units[i]};
        }
        return rows;
    }
}
