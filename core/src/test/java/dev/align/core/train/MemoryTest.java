package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 1,000 training steps (forward, backward, clipping, AdamW, zeroing) on the tiny llama fixture hold
 * native memory flat: the number of live NDArrays after warm-up equals the number at the end, and the
 * resident set grows by less than 24 MiB (a leak of one logits-sized array per step would be ~90 MiB).
 */
@Tag("memory") // runs in its own JVM with a pinned heap (see the parent pom)
class MemoryTest {
    private static final int WARMUP = 100;
    private static final int STEPS = 1000;

    @Test
    void thousandStepsHoldMemoryFlat() {
        List<TokenBatch> data = TrainTesting.batches(5, 4, 3, 8, 16, 512, 1);
        try (NDManager root = Engines.newManager();
                DecoderLM model = DecoderLM.load(Fixtures.reference("llama_gqa"), root);
                AdamW optimizer = new AdamW(model.parameters(), AdamW.Options.withWeightDecay(0.01))) {
            model.setTrainable(true);
            LrSchedule schedule = LrSchedule.of("linear", 1e-3, 10, STEPS);
            long arraysAfterWarmup = 0;
            long rssAfterWarmup = 0;
            double firstLoss = Double.NaN;
            double lastLoss = Double.NaN;
            long start = System.nanoTime();
            for (int step = 1; step <= STEPS; step++) {
                TokenBatch b = data.get(step % data.size());
                double loss = TrainTesting.microStep(model, root, b, b.labelCount(), 1f);
                double norm = GradClip.clipGlobalNorm(model.parameters(), 1.0);
                assertTrue(Double.isFinite(loss) && Double.isFinite(norm), "step " + step);
                optimizer.step(schedule.lr(optimizer.updates()));
                optimizer.zeroGrad();
                if (step == 1) {
                    firstLoss = loss;
                }
                lastLoss = loss;
                if (step == WARMUP) {
                    arraysAfterWarmup = liveArrays(root);
                    rssAfterWarmup = rssKb();
                }
            }
            long arraysAtEnd = liveArrays(root);
            long rssAtEnd = rssKb();
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("memory test: %d steps in %.1f s; live arrays %d -> %d; RSS %d -> %d KiB; loss %.3f -> %.3f%n",
                    STEPS, seconds, arraysAfterWarmup, arraysAtEnd, rssAfterWarmup, rssAtEnd, firstLoss, lastLoss);
            assertEquals(arraysAfterWarmup, arraysAtEnd, "live NDArrays");
            assertTrue(rssAtEnd - rssAfterWarmup < 24 * 1024,
                    "RSS grew from " + rssAfterWarmup + " KiB to " + rssAtEnd + " KiB");
            assertTrue(lastLoss < firstLoss, "the model should fit the 4 batches");
        }
    }

    /** Arrays alive in every manager of the engine (the system manager holds them all, recursively). */
    private static long liveArrays(NDManager root) {
        return root.getParentManager().getManagedArrays().size();
    }

    /** VmRSS of this process in KiB, after a GC so the Java heap's garbage does not count. */
    private static long rssKb() {
        System.gc();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/status", e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
