package dev.align.core.nd;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives the C heap's free pages back to the operating system: glibc's {@code malloc_trim(0)}, through
 * the JVM's {@code System.trim_native_heap} diagnostic command.
 *
 * <p>libtorch allocates tensors with {@code malloc}. glibc keeps freed blocks for reuse, and a training
 * step frees and reallocates blocks of many sizes, so its heap fragments: the blocks of a step spread
 * over ~1.4× the memory the step holds at its peak, and all of it stays resident. {@code malloc_trim}
 * returns the pages of every free range, in the middle of the heap too (glibc's own trimming only
 * shortens its top). {@link #trimAbove} trims when the resident set passes a bound a little above the
 * memory in use, which keeps the peak near that bound (~1.15× the memory model of a training step
 * instead of ~1.4×) for the page faults of reusing what was returned (docs/performance.md, "Memory").
 * Returning each large block as it is freed ({@code MALLOC_MMAP_THRESHOLD_=1 MB}) would fault in far
 * more: every allocation.
 *
 * <p>Where the command is missing (an older JDK, a C library other than glibc) {@link #trim()} does
 * nothing and says so once at debug level; it never throws. Under a preloaded jemalloc it trims glibc's
 * empty heap: harmless, and the launcher does not start the trimmer then.
 */
public final class NativeHeap {
    private static final Logger LOG = LoggerFactory.getLogger(NativeHeap.class);
    private static final Path STATM = Path.of("/proc/self/statm");
    private static volatile boolean unavailable;
    private static MBeanServer server;
    private static ObjectName command;

    private NativeHeap() {
    }

    /**
     * Returns the C heap's free pages to the operating system now.
     *
     * @return the JVM's report ({@code "Trim native heap: RSS+Swap: 1.6G->1.2G (-400M)"}), or an empty
     *     string where trimming is unavailable
     */
    public static String trim() {
        if (unavailable) {
            return "";
        }
        try {
            MBeanServer s;
            ObjectName c;
            synchronized (NativeHeap.class) {
                if (server == null) {
                    command = new ObjectName("com.sun.management:type=DiagnosticCommand");
                    server = ManagementFactory.getPlatformMBeanServer();
                }
                s = server;
                c = command;
            }
            String report = String.valueOf(s.invoke(c, "systemTrimNativeHeap", new Object[] {new String[0]},
                    new String[] {String[].class.getName()})).trim();
            if (!report.startsWith("Trim native heap: RSS")) { // "Not available." off glibc
                unavailable = true;
                LOG.debug("native heap trimming unavailable: {}", report);
                return "";
            }
            return report;
        } catch (Exception | LinkageError e) {
            unavailable = true;
            LOG.debug("native heap trimming unavailable", e);
            return "";
        }
    }

    /**
     * Starts trimming whenever the resident set exceeds {@code 1 + slack} times the largest resident set
     * measured right after a trim, looking every {@code pollMs} milliseconds, on a daemon thread until
     * the returned handle is closed. Right after a trim the resident set is the memory in use plus what
     * cannot be returned, so this bounds the peak at about {@code 1 + slack} times the peak in use, and
     * it trims only when freed memory has piled up — mostly near the peak, when little is free, so few
     * pages have to be faulted in again.
     *
     * @param slack resident memory allowed above the largest post-trim resident set, as a fraction (0.1)
     * @param pollMs milliseconds between looks at the resident set, positive
     * @return the running trimmer; it stops by itself where {@code /proc/self/statm} or trimming is missing
     */
    public static Trimmer trimAbove(double slack, long pollMs) {
        if (!(slack >= 0) || pollMs <= 0) {
            throw new IllegalArgumentException("slack must be >= 0 and the poll interval positive, got "
                    + slack + " and " + pollMs + " ms");
        }
        return new Trimmer(pollMs, slack);
    }

    /** Resident pages of this process, or -1 where {@code /proc/self/statm} cannot be read. */
    static long residentPages() {
        try {
            String[] f = Files.readString(STATM).trim().split(" ");
            return Long.parseLong(f[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** A daemon thread that trims when the resident set grows past its bound; {@link #close()} stops it. */
    public static final class Trimmer implements AutoCloseable {
        private final Thread thread;
        private final AtomicLong trims = new AtomicLong();

        private Trimmer(long pollMs, double slack) {
            thread = new Thread(() -> {
                long floor = 0; // the largest resident set right after a trim, pages
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        Thread.sleep(pollMs);
                        long rss = residentPages();
                        if (rss < 0) {
                            return; // no /proc: nothing to go by
                        }
                        if (rss <= floor * (1 + slack)) {
                            continue;
                        }
                        String report = trim();
                        if (report.isEmpty()) {
                            return; // unavailable: nothing to do
                        }
                        trims.incrementAndGet();
                        floor = Math.max(floor, residentPages());
                        LOG.debug("{}; next above {} pages", report, (long) (floor * (1 + slack)));
                    }
                } catch (InterruptedException e) {
                    // closed
                }
            }, "align-native-heap-trim");
            thread.setDaemon(true);
            thread.start();
        }

        /** Trims done so far. */
        public long trims() {
            return trims.get();
        }

        @Override
        public void close() {
            thread.interrupt();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
