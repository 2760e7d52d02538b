package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM.Param;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint naming, pruning, replacement, leftovers and the training-state file. */
class CheckpointerTest {
    private static final Checkpointer.ModelWriter MODEL = dir -> {
        try {
            Files.writeString(dir.resolve("config.json"), "{}");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    };

    @Test
    void savesEveryNAndKeepsTheNewestK(@TempDir Path out) throws IOException {
        try (NDManager m = Engines.newManager()) {
            Param p = TrainTesting.param(m, "w", new float[] {1, 2}, new long[] {2}, true);
            try (AdamW opt = new AdamW(List.of(p), AdamW.Options.DEFAULTS)) {
                Checkpointer ck = new Checkpointer(out, 5, 2);
                int saved = 0;
                for (long step = 1; step <= 23; step++) {
                    if (ck.due(step, step == 23)) {
                        ck.save(state(step), opt, MODEL);
                        saved++;
                        assertFalse(ck.due(step, step == 23), "saved once per step");
                    }
                }
                assertEquals(5, saved); // 5, 10, 15, 20 and the last step, 23
                assertEquals(List.of(out.resolve("checkpoint-20").toAbsolutePath(), out.resolve("checkpoint-23").toAbsolutePath()),
                        Checkpointer.checkpoints(out));
                assertEquals(out.resolve("checkpoint-23").toAbsolutePath(), Checkpointer.latest(out).orElseThrow());
                // saving a step again replaces it
                ck.save(new TrainingState(23, 9.0, 23, null, new Rng(1), -1, 0, 0, null), opt, MODEL);
                assertEquals(9.0, TrainingState.read(out.resolve("checkpoint-23/training_state")).epoch());
                try (var s = Files.list(out)) {
                    assertEquals(2, s.count(), "no temporary or trash directories stay behind");
                }
            }
        }
    }

    @Test
    void numericOrderAndLeftovers(@TempDir Path out) throws IOException {
        for (long step : new long[] {9, 10, 100}) {
            Path d = out.resolve("checkpoint-" + step + "/training_state");
            Files.createDirectories(d);
            state(step).write(d);
        }
        Files.createDirectories(out.resolve(".tmp-checkpoint-200-abc/training_state"));
        Files.createDirectories(out.resolve(".trash-checkpoint-1-abc"));
        assertEquals(out.resolve("checkpoint-100"), Checkpointer.latest(out).orElseThrow());
        new Checkpointer(out, 0, 0);
        assertFalse(Files.exists(out.resolve(".tmp-checkpoint-200-abc")));
        assertFalse(Files.exists(out.resolve(".trash-checkpoint-1-abc")));
        assertTrue(Checkpointer.latest(out.resolve("missing")).isEmpty());
        assertEquals(100, Checkpointer.stepOf(out.resolve("checkpoint-100")));
    }

    @Test
    void trainingStateRoundTripsAndNamesBadFields(@TempDir Path dir) throws IOException {
        Rng rng = new Rng(7);
        rng.nextLong();
        TrainingState s = new TrainingState(12, 1.5, 11, new ObjectMapper().readTree("{\"epoch\": 1, \"index\": 4}"),
                rng, 99, 1, 12345, new ObjectMapper().readTree("{\"kl_coef\": 0.05}"));
        rng.nextLong(); // the state holds a snapshot
        s.write(dir);
        TrainingState r = TrainingState.read(dir);
        assertEquals(s.toJson(), r.toJson());
        assertEquals(1, r.rng().position());
        Files.writeString(dir.resolve(TrainingState.FILE), s.toJson().put("global_step", "twelve").toString());
        AlignException e = assertThrows(AlignException.class, () -> TrainingState.read(dir));
        assertTrue(e.getMessage().contains("trainer_state.json: global_step: expected an integer"), e.getMessage());
    }

    private static TrainingState state(long step) {
        return new TrainingState(step, step / 10.0, step, null, new Rng(1), -1, 0, 0, null);
    }
}
