package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The saved-and-restored random stream. */
class RngTest {

    @Test
    void isSplitMix64AsTheJdkImplementsIt() {
        for (long seed : new long[] {0, 42, -7, Long.MAX_VALUE}) {
            SplittableRandom jdk = new SplittableRandom(seed);
            Rng rng = new Rng(seed);
            for (int i = 0; i < 100; i++) {
                assertEquals(jdk.nextLong(), rng.nextLong(), "seed " + seed + " draw " + i);
            }
        }
    }

    @Test
    void restoresExactlyFromSeedAndPosition() {
        Rng a = new Rng(123);
        for (int i = 0; i < 37; i++) {
            a.nextInt(10);
        }
        Rng b = Rng.fromJson(a.toJson());
        assertEquals(a.position(), b.position());
        for (int i = 0; i < 50; i++) {
            assertEquals(a.nextLong(), b.nextLong());
            assertEquals(a.nextDouble(), b.nextDouble());
        }
    }

    @Test
    void forksDependOnlyOnSeedAndName() {
        Rng a = new Rng(5);
        int[] p1 = a.fork("epoch", 1).permutation(50);
        a.nextLong();
        a.nextLong();
        assertArrayEquals(p1, a.fork("epoch", 1).permutation(50));
        assertNotEquals(Arrays.toString(p1), Arrays.toString(a.fork("epoch", 2).permutation(50)));
        int[] sorted = p1.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        assertEquals(a.torchSeed(3), new Rng(5).torchSeed(3));
        assertTrue(a.torchSeed(3) >= 0);
        assertNotEquals(a.torchSeed(3), a.torchSeed(4));
    }

    @Test
    void boundedDrawsAreInRangeAndRoughlyUniform() {
        Rng r = new Rng(9);
        int[] counts = new int[7];
        for (int i = 0; i < 70_000; i++) {
            counts[r.nextInt(7)]++;
        }
        for (int c : counts) {
            assertTrue(Math.abs(c - 10_000) < 500, Arrays.toString(counts));
        }
        for (int i = 0; i < 1000; i++) {
            double d = r.nextDouble();
            float f = r.nextFloat();
            assertTrue(d >= 0 && d < 1 && f >= 0 && f < 1);
        }
    }
}
