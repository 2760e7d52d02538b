package dev.align.core.nd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.align.core.Engines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link NativeHeap} returns freed tensor memory that glibc keeps in the middle of its heap, and its
 * trimmer runs until closed.
 */
class NativeHeapTest {
    private static final int BLOCKS = 40;
    private static final long FLOATS = 1 << 20; // 4 MiB a block

    @Test
    void trimReturnsFreedBlocksInTheMiddleOfTheHeap() throws IOException {
        Path status = Path.of("/proc/self/status");
        assumeTrue(Files.isReadable(status), "needs Linux's /proc");
        assumeTrue(!System.getenv().getOrDefault("LD_PRELOAD", "").contains("jemalloc"), "glibc's malloc only");
        assumeTrue(!NativeHeap.trim().isEmpty(), "needs glibc and the JVM's System.trim_native_heap");
        try (NDManager m = Engines.newManager()) {
            // Freeing a 16 MiB block raises glibc's dynamic mmap threshold above the 4 MiB blocks below,
            // so they come from the heap (as every tensor does under the launcher's settings).
            m.ones(new Shape(4 * FLOATS)).close();
            List<NDArray> blocks = new ArrayList<>();
            for (int i = 0; i < BLOCKS; i++) {
                blocks.add(m.ones(new Shape(FLOATS))); // written, so resident
            }
            for (int i = 0; i < BLOCKS; i += 2) {
                blocks.get(i).close(); // 80 MiB of holes between live blocks: free() cannot shrink the heap
            }
            long before = rssKb(status);
            String report = NativeHeap.trim();
            long after = rssKb(status);
            assertTrue(report.startsWith("Trim native heap: RSS"), report);
            assertTrue(before - after > 40 * 1024,
                    "resident set " + before + " -> " + after + " KiB after freeing 80 MiB of holes: " + report);
            for (int i = 1; i < BLOCKS; i += 2) {
                assertEquals(1f, blocks.get(i).getFloat(FLOATS - 1), "a live block survives the trim");
                blocks.get(i).close();
            }
        }
    }

    @Test
    void trimmerTrimsOnlyWhenTheResidentSetGrowsPastItsBound() throws InterruptedException {
        assumeTrue(NativeHeap.residentPages() > 0, "needs Linux's /proc");
        assumeTrue(!NativeHeap.trim().isEmpty(), "needs glibc and the JVM's System.trim_native_heap");
        try (NDManager m = Engines.newManager(); NativeHeap.Trimmer t = NativeHeap.trimAbove(0.25, 10)) {
            awaitTrims(t, 1); // the first look trims: nothing measured yet
            Thread.sleep(300);
            assertEquals(1, t.trims(), "no growth, no trim");
            long target = NativeHeap.residentPages() * 3 / 2; // 50% more, past the 25% bound
            List<NDArray> blocks = new ArrayList<>();
            while (NativeHeap.residentPages() < target && blocks.size() < 1000) {
                blocks.add(m.ones(new Shape(FLOATS))); // 4 MiB, written, so resident
            }
            awaitTrims(t, 2);
            t.close();
            long done = t.trims();
            Thread.sleep(100);
            assertEquals(done, t.trims(), "no trims after close");
            blocks.forEach(NDArray::close);
        }
    }

    @Test
    void boundMustBeSensible() {
        assertThrows(IllegalArgumentException.class, () -> NativeHeap.trimAbove(-0.1, 50));
        assertThrows(IllegalArgumentException.class, () -> NativeHeap.trimAbove(Double.NaN, 50));
        assertThrows(IllegalArgumentException.class, () -> NativeHeap.trimAbove(0.1, 0));
    }

    private static void awaitTrims(NativeHeap.Trimmer t, long n) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (t.trims() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(t.trims() >= n, "trims within 10 s: " + t.trims() + ", expected " + n);
    }

    private static long rssKb(Path status) throws IOException {
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in " + status);
    }
}
