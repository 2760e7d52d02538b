package dev.align.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.Engines;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A seeded random stream whose whole state is two longs, so it can be saved in a checkpoint and
 * restored exactly: SplitMix64 (the generator behind {@link java.util.SplittableRandom}), where draw
 * number k is {@code mix64(seed + k·γ)}. {@link #position()} counts the draws; {@link #at} resumes at
 * any position in O(1).
 *
 * <p>Conventions for recipes: shuffle epoch e with {@code rng.fork("epoch", e).permutation(n)} (a pure
 * function of the seed and the epoch, so the data-loader state is just "epoch, index"); seed libtorch at
 * the start of every optimizer step with {@link #seedTorch(long)} if the step uses libtorch randomness
 * (dropout, sampling). libtorch's generator state cannot be read through DJL, so re-seeding per step is
 * what makes a resumed run draw the same numbers as an uninterrupted one.
 */
public final class Rng {
    private static final long GAMMA = 0x9e3779b97f4a7c15L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long seed;
    private long position;

    /** A stream at position 0. */
    public Rng(long seed) {
        this(seed, 0);
    }

    private Rng(long seed, long position) {
        this.seed = seed;
        this.position = position;
    }

    /** The stream of {@code seed} after {@code position} draws (exactly where a saved stream stood). */
    public static Rng at(long seed, long position) {
        if (position < 0) {
            throw new IllegalArgumentException("negative stream position " + position);
        }
        return new Rng(seed, position);
    }

    /** The seed. */
    public long seed() {
        return seed;
    }

    /** Number of 64-bit draws taken so far. */
    public long position() {
        return position;
    }

    /** The next 64 random bits. */
    public long nextLong() {
        position++;
        return mix64(seed + position * GAMMA);
    }

    /** Uniform in [0, bound), without modulo bias. */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive: " + bound);
        }
        long limit = Long.MAX_VALUE - (Long.MAX_VALUE % bound + 1) % bound; // largest multiple of bound, minus 1
        while (true) {
            long r = nextLong() >>> 1;
            if (r <= limit) {
                return (int) (r % bound);
            }
        }
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, 1) with 24 random bits. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        shuffle(p);
        return p;
    }

    /** Shuffles {@code a} in place (Fisher–Yates). */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Shuffles {@code list} in place (Fisher–Yates). */
    public <T> void shuffle(List<T> list) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            T t = list.get(i);
            list.set(i, list.get(j));
            list.set(j, t);
        }
    }

    /**
     * An independent stream named by {@code name} and {@code index}, derived from the seed alone: it does
     * not advance this stream and is the same whatever this stream's position.
     */
    public Rng fork(String name, long index) {
        long h = 0xcbf29ce484222325L; // FNV-1a over the name's UTF-8 bytes
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return new Rng(mix64(seed ^ mix64(h + GAMMA * (index + 1))));
    }

    /** The libtorch seed for optimizer step {@code step}: a non-negative function of the seed and step. */
    public long torchSeed(long step) {
        return fork("torch", step).seed() >>> 1;
    }

    /** Seeds libtorch's generator with {@link #torchSeed(long)} and returns that seed. */
    public long seedTorch(long step) {
        long s = torchSeed(step);
        Engines.seed(s);
        return s;
    }

    /** {@code {"seed": ..., "position": ...}}. */
    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("seed", seed);
        n.put("position", position);
        return n;
    }

    /** The stream saved by {@link #toJson()}. */
    public static Rng fromJson(JsonNode n) {
        if (n == null || !n.path("seed").canConvertToLong() || !n.path("position").canConvertToLong()) {
            throw new IllegalArgumentException("an rng state needs integer \"seed\" and \"position\": " + n);
        }
        return at(n.get("seed").asLong(), n.get("position").asLong());
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
