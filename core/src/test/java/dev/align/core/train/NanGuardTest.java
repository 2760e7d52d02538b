package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Non-finite steps are skipped and counted; K in a row stop the run with the last checkpoint intact. */
class NanGuardTest {

    @Test
    void countsAndStops() {
        NanGuard g = new NanGuard(3, null);
        assertTrue(g.check(1, 1.0, 2.0));
        assertFalse(g.check(2, Double.NaN, 2.0));
        assertFalse(g.check(3, 1.0, Double.POSITIVE_INFINITY));
        assertEquals(2, g.consecutive());
        assertTrue(g.check(4, 1.0, 1.0));
        assertEquals(0, g.consecutive());
        assertEquals(2, g.skipped());
        assertFalse(g.check(5, Double.NaN, Double.NaN));
        assertFalse(g.check(6, Double.NaN, Double.NaN));
        AlignException e = assertThrows(AlignException.class, () -> g.check(7, Double.NaN, Double.NaN));
        assertTrue(e.getMessage().startsWith("step 7: "), e.getMessage());
        assertTrue(e.getMessage().contains("3 steps in a row"), e.getMessage());
        assertEquals(5, g.skipped());
    }

    @Test
    void skippedStepLeavesTheModelAloneAndTheRunGoesOn(@TempDir Path out) {
        TinyRecipe.Trace clean = new TinyRecipe(out.resolve("clean"), "llama_gqa").run(false, 4, s -> false);
        TinyRecipe.Trace nan = new TinyRecipe(out.resolve("nan"), "llama_gqa").run(false, 4, s -> s == 4);
        assertTrue(Double.isNaN(nan.losses.get(3)));
        assertTrue(Double.isNaN(nan.gradNorms.get(3)));
        // after 3 good steps and a skipped one, the weights are those after the same 3 good steps
        TinyRecipe.Trace three = new TinyRecipe(out.resolve("three"), "llama_gqa").run(false, 3, s -> false);
        assertArrayEquals(three.finalWeights, nan.finalWeights, 0f);
        assertEquals(clean.losses.subList(0, 3), nan.losses.subList(0, 3));
        for (float w : nan.finalWeights) {
            assertTrue(Float.isFinite(w));
        }
        // the run goes on; the skip is counted in the checkpoint and did not advance the schedule
        TinyRecipe.Trace on = new TinyRecipe(out.resolve("nan6"), "llama_gqa").run(false, 6, s -> s == 4);
        assertEquals(6, on.lastStep);
        assertTrue(Double.isFinite(on.losses.get(4)) && Double.isFinite(on.losses.get(5)));
        TrainingState st = TrainingState.read(out.resolve("nan6/checkpoint-6/training_state"));
        assertEquals(1, st.nanSkipped());
        assertEquals(5, st.schedulerStep());
        assertEquals(6, st.globalStep());
    }

    @Test
    void fiveInARowStopWithTheLastCheckpointIntact(@TempDir Path out) {
        TinyRecipe recipe = new TinyRecipe(out, "llama_gqa");
        AlignException e = assertThrows(AlignException.class, () -> recipe.run(false, -1, s -> s >= 5));
        assertTrue(e.getMessage().startsWith("step 9: "), e.getMessage());
        assertTrue(e.getMessage().contains("5 steps in a row"), e.getMessage());
        Path last = out.resolve("checkpoint-6");
        assertTrue(e.getMessage().contains(last.toString()), e.getMessage());
        assertEquals(last, Checkpointer.latest(out).orElseThrow());
        TrainingState st = TrainingState.read(last.resolve(Checkpointer.STATE_DIR));
        assertEquals(6, st.globalStep());
        assertEquals(2, st.nanSkipped());
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.load(last, root)) {
            for (float w : TrainTesting.weights(model)) {
                assertTrue(Float.isFinite(w));
            }
        }
        assertTrue(Fixtures.reference("llama_gqa").toFile().isDirectory());
    }
}
