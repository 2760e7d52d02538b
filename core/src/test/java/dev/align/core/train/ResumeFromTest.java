package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.align.core.BadInputException;
import dev.align.core.config.Configs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Checkpointer#resumeFrom}: which checkpoint {@code resume_from_checkpoint} names, and its errors. */
class ResumeFromTest {
    private static TrainingArgs args(String resume) {
        return Configs.load(TrainingArgs.class, TrainingArgs.defaults(), null, List.of("resume_from_checkpoint=" + resume));
    }

    @Test
    void resolvesLatestAndNamedCheckpoints(@TempDir Path out) throws IOException {
        assertNull(Checkpointer.resumeFrom(TrainingArgs.defaults(), out), "unset: a fresh start");
        BadInputException none = assertThrows(BadInputException.class, () -> Checkpointer.resumeFrom(args("latest"), out));
        assertTrue(none.getMessage().startsWith("resume_from_checkpoint: no checkpoint in " + out), none.getMessage());
        for (int step : new int[] {5, 10}) {
            Path state = Files.createDirectories(out.resolve("checkpoint-" + step).resolve(Checkpointer.STATE_DIR));
            Files.writeString(state.resolve(TrainingState.FILE), "{}");
        }
        Files.createDirectories(out.resolve("checkpoint-20")); // no training state: not a checkpoint
        assertEquals(out.resolve("checkpoint-10"), Checkpointer.resumeFrom(args("latest"), out));
        Path five = out.resolve("checkpoint-5");
        assertEquals(five, Checkpointer.resumeFrom(args(five.toString()), out));
        Path stray = out.resolve("checkpoint-20");
        BadInputException bad = assertThrows(BadInputException.class,
                () -> Checkpointer.resumeFrom(args(stray.toString()), out));
        assertEquals("resume_from_checkpoint: " + stray + " is not a checkpoint (no training_state/)", bad.getMessage());
    }
}
