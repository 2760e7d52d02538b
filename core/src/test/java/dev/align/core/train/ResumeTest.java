package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Resume exactness: 6 steps, a checkpoint, a fresh process state built from the checkpoint alone, 6 more
 * steps — the losses, gradient norms and final weights equal an uninterrupted 12-step run bit for bit.
 * With a F32 model (llama_gqa) and a BF16-stored one (qwen2_tied_bf16, restored from master weights).
 * A save killed part-way leaves the previous checkpoint as the latest and complete one.
 */
class ResumeTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "qwen2_tied_bf16"})
    void resumedRunEqualsUninterruptedRun(String fixture, @TempDir Path tmp) throws IOException {
        TinyRecipe.Trace straight = new TinyRecipe(tmp.resolve("straight"), fixture).run(false, -1, s -> false);
        assertEquals(TinyRecipe.TOTAL_STEPS, straight.losses.size());
        assertTrue(straight.losses.get(11) < straight.losses.get(0), "the tiny model should learn: " + straight.losses);

        Path out = tmp.resolve("resumed");
        TinyRecipe recipe = new TinyRecipe(out, fixture);
        TinyRecipe.Trace first = recipe.run(false, 6, s -> false);
        assertEquals(6, first.lastStep);
        Path ckpt6 = out.resolve("checkpoint-6");
        assertEquals(ckpt6, Checkpointer.latest(out).orElseThrow());
        assertComplete(ckpt6, fixture.contains("bf16"));

        simulateKilledSaves(out, fixture);
        assertEquals(ckpt6, Checkpointer.latest(out).orElseThrow(), "a killed save must not become the latest");

        TinyRecipe.Trace second = recipe.run(true, -1, s -> false);
        List<Double> losses = new ArrayList<>(first.losses);
        losses.addAll(second.losses);
        List<Double> norms = new ArrayList<>(first.gradNorms);
        norms.addAll(second.gradNorms);
        assertEquals(straight.losses, losses, "loss sequence");
        assertEquals(straight.gradNorms, norms, "grad norm sequence");
        assertArrayEquals(straight.finalWeights, second.finalWeights, 0f, "final weights");

        // temporary directories cleaned, only the last two checkpoints kept; the stray directory that is
        // not a checkpoint is ignored and left alone
        try (Stream<Path> s = Files.list(out)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("checkpoint-12", "checkpoint-9", "checkpoint-99", "loss.png", "metrics.jsonl",
                    "provenance.json"), names);
        }
        // metrics: one line per logging step across both processes
        List<Long> steps = Metrics.read(out.resolve(Metrics.FILE)).stream().map(n -> n.get("step").asLong()).toList();
        assertEquals(List.of(2L, 4L, 6L, 8L, 10L, 12L), steps);
        JsonNode last = Metrics.read(out.resolve(Metrics.FILE)).get(5);
        assertEquals((straight.losses.get(10) + straight.losses.get(11)) / 2, last.get("loss").asDouble(), 1e-12);
    }

    /** A save that fails part-way (cleaned up) and one killed hard (its temporary directory left behind). */
    private static void simulateKilledSaves(Path out, String fixture) throws IOException {
        Checkpointer ck = new Checkpointer(out, 3, 2);
        try (NDManager root = Engines.newManager();
                DecoderLM model = DecoderLM.load(out.resolve("checkpoint-6"), root);
                AdamW opt = new AdamW(model.parameters(), AdamW.Options.withWeightDecay(0.1))) {
            TrainingState st = new TrainingState(9, 0.75, 9, null, new Rng(1), -1, 0, 0, null);
            RuntimeException e = assertThrows(RuntimeException.class, () -> ck.save(st, opt, dir -> {
                model.save(dir);
                throw new IllegalStateException("killed while writing");
            }));
            assertEquals("killed while writing", e.getMessage());
        }
        assertFalse(Files.exists(out.resolve("checkpoint-9")));
        // a hard kill leaves a partial temporary directory
        Path dead = out.resolve(".tmp-checkpoint-9-dead");
        Files.createDirectories(dead.resolve(Checkpointer.STATE_DIR));
        Files.copy(Fixtures.reference(fixture).resolve("config.json"), dead.resolve("config.json"));
        Files.writeString(dead.resolve(Checkpointer.STATE_DIR).resolve("optimizer.json"), "{\"type\": \"ada");
        // and a stray checkpoint-named directory without a training state is not a checkpoint either
        Files.createDirectories(out.resolve("checkpoint-99"));
    }

    private static void assertComplete(Path ckpt, boolean masterWeights) {
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "provenance.json", "training_state/optimizer.safetensors", "training_state/optimizer.json",
                "training_state/trainer_state.json")) {
            assertTrue(Files.isRegularFile(ckpt.resolve(f)), ckpt + " lacks " + f);
        }
        assertEquals(masterWeights, Files.isRegularFile(ckpt.resolve("training_state/master_weights.safetensors")));
        TrainingState st = TrainingState.read(ckpt.resolve(Checkpointer.STATE_DIR));
        assertEquals(6, st.globalStep());
        assertEquals(6, st.schedulerStep());
        assertEquals(12, st.rng().position(), "two micro-batches drawn per step");
        assertEquals(st.rng().position(), st.dataLoader().get("batches_drawn").asLong());
    }
}
