package dev.align.core.train;

import dev.align.core.AlignException;
import java.nio.file.Path;

/**
 * Skips optimizer steps whose loss or gradient norm is not finite, and stops the run when that happens
 * too often in a row. A skipped step applies no update (the recipe zeroes its gradients as after every
 * step) but still counts as a step: its data is consumed and checkpoints stay on their schedule.
 *
 * <pre>
 *   double gradNorm = GradClip.clipGlobalNorm(params, maxGradNorm);
 *   if (guard.check(step, loss, gradNorm)) {
 *       optimizer.step(schedule.lr(optimizer.updates()));
 *   }
 *   optimizer.zeroGrad();
 * </pre>
 */
public final class NanGuard {
    /** Default number of consecutive non-finite steps that stops a run. */
    public static final int DEFAULT_MAX_CONSECUTIVE = 5;

    private final int maxConsecutive;
    private final Path outputDir;
    private long skipped;
    private int consecutive;

    /**
     * @param maxConsecutive stop after this many non-finite steps in a row (≥ 1)
     * @param outputDir where checkpoints go, to name the last good one in the stop message (may be null)
     */
    public NanGuard(int maxConsecutive, Path outputDir) {
        if (maxConsecutive < 1) {
            throw new IllegalArgumentException("max consecutive non-finite steps must be >= 1: " + maxConsecutive);
        }
        this.maxConsecutive = maxConsecutive;
        this.outputDir = outputDir;
    }

    /** {@link #DEFAULT_MAX_CONSECUTIVE} in a row stop the run. */
    public NanGuard(Path outputDir) {
        this(DEFAULT_MAX_CONSECUTIVE, outputDir);
    }

    /**
     * Whether step {@code step} may update the parameters: true when both values are finite. Otherwise
     * the step is counted as skipped, and the {@code maxConsecutive}-th non-finite step in a row throws.
     *
     * @throws AlignException when the run must stop; the message names the last checkpoint, which is
     *     intact because nothing is written after a non-finite step
     */
    public boolean check(long step, double loss, double gradNorm) {
        if (Double.isFinite(loss) && Double.isFinite(gradNorm)) {
            consecutive = 0;
            return true;
        }
        skipped++;
        consecutive++;
        if (consecutive >= maxConsecutive) {
            String last = outputDir == null ? null
                    : Checkpointer.latest(outputDir).map(Path::toString).orElse(null);
            throw new AlignException("step " + step + ": loss " + loss + ", grad_norm " + gradNorm + ": the loss or "
                    + "gradient norm was not finite for " + consecutive + " steps in a row (" + skipped
                    + " skipped in all); stopping. No update was applied from those steps. "
                    + (last != null ? "The last good checkpoint is " + last + " (resume from it with a lower "
                            + "learning rate or after checking the data)."
                            : "No checkpoint was written yet."));
        }
        return false;
    }

    /** Steps skipped so far in this run (including before a resume, see {@link #restore}). */
    public long skipped() {
        return skipped;
    }

    /** Non-finite steps in a row right now. */
    public int consecutive() {
        return consecutive;
    }

    /** Continues the count of a resumed run. */
    public void restore(long skippedSoFar) {
        this.skipped = skippedSoFar;
        this.consecutive = 0;
    }
}
