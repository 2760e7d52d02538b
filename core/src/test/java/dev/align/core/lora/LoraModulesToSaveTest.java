package dev.align.core.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.io.SafeTensors;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reward model's score head saved beside its adapters as PEFT's {@code modules_to_save}
 * ({@code base_model.model.score.weight}, listed in adapter_config.json) and restored by {@link LoraAdapters#load}.
 */
class LoraModulesToSaveTest {
    @TempDir
    Path tmp;

    @Test
    void scoreHeadRoundTrips() {
        Path dir = tmp.resolve("adapter");
        float[] head;
        try (NDManager root = Engines.newManager(); DecoderLM rm = DecoderLM.load(Fixtures.reference("rm_llama"), root)) {
            LoraAdapters lora = LoraAdapters.create(rm, new LoraConfig(2, 4, 0, List.of("q_proj")), 1);
            NDArray score = rm.parameter("score").value();
            try (NDArray noise = root.randomNormal(0f, 1f, score.getShape(), DataType.FLOAT32)) {
                score.addi(noise);
            }
            head = score.toFloatArray();
            lora.save(dir, "rm_llama", Map.of("score", score));
            lora.close();
        }
        JsonNode cfg = Fixtures.json(dir.resolve("adapter_config.json"));
        assertEquals("SEQ_CLS", cfg.get("task_type").asText());
        assertEquals("score", cfg.get("modules_to_save").get(0).asText());
        try (SafeTensors.Reader r = SafeTensors.open(dir.resolve("adapter_model.safetensors"))) {
            assertArrayEquals(new long[] {1, 64}, r.entry("base_model.model.score.weight").shape());
        }
        try (NDManager root = Engines.newManager(); DecoderLM rm = DecoderLM.load(Fixtures.reference("rm_llama"), root)) {
            assertFalse(Arrays.equals(head, rm.parameter("score").value().toFloatArray()));
            try (LoraAdapters lora = LoraAdapters.load(dir, rm)) {
                assertArrayEquals(head, rm.parameter("score").value().toFloatArray());
            }
        }
        // a causal LM cannot take a score head
        try (NDManager root = Engines.newManager(); DecoderLM lm = DecoderLM.load(Fixtures.reference("llama_gqa"), root)) {
            AlignException e = assertThrows(AlignException.class, () -> LoraAdapters.load(dir, lm));
            assertTrue(e.getMessage().contains("modules_to_save 'score'"), e.getMessage());
        }
    }
}
