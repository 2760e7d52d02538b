package dev.align.rm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.io.SafeTensors;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA reward models: the score head trains beside the adapters and is saved with them as PEFT's
 * {@code modules_to_save}; the adapter directory, the merged model and a PEFT-made adapter
 * (src/test/resources/reference/make_peft_rm.py) all score as they should; resume is exact.
 */
class RmLoraTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private List<String> lora(Path out, String... more) {
        List<String> o = RmTrainTest.common(tmp, out, "lora_r=4", "lora_alpha=8", "lora_target_modules=[q_proj, v_proj]",
                "lora_dropout=0.1", "merge_lora=true", "max_steps=3");
        o.addAll(List.of(more));
        return o;
    }

    private static Path resource(String name) {
        return Path.of(System.getProperty("align.testdata")).getParent()
                .resolve("reward-model/src/test/resources/reference").resolve(name);
    }

    @Test
    void trainsAdaptersAndHeadAndSavesBoth() {
        Path out = tmp.resolve("lora");
        RmRecipe.run(RmRecipe.config(null, lora(out)));
        JsonNode cfg = Fixtures.json(out.resolve("adapter_config.json"));
        assertEquals("SEQ_CLS", cfg.get("task_type").asText());
        assertEquals("score", cfg.get("modules_to_save").get(0).asText());
        assertFalse(Files.exists(out.resolve("model.safetensors")), "the adapter directory holds no full model");
        float[] head = RmTrainTest.weights(out.resolve("adapter_model.safetensors"), "base_model.model.score.weight");
        float[] fresh;
        try (NDManager root = Engines.newManager();
                DecoderLM m = RewardModels.load(Fixtures.reference("llama_gqa"), root, null, 3)) {
            fresh = m.parameter(RewardModels.SCORE).value().toFloatArray();
        }
        assertEquals(64, head.length);
        double moved = 0;
        for (int i = 0; i < head.length; i++) {
            moved = Math.max(moved, Math.abs(head[i] - fresh[i]));
        }
        assertTrue(moved > 1e-4, "the score head trained (it moved " + moved + " from its initialisation)");
        assertTrue(RmTrainTest.weights(out.resolve("adapter_model.safetensors"),
                "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight")[0] != 0, "lora_B trained");

        List<String> prompts = List.of("bega bozi", "bega bozi", "beti");
        List<String> completions = List.of(" bere bisu", " bufo", " bike beta");
        float[] viaAdapter;
        float[] viaMerged;
        try (RewardScorer s = RewardScorer.load(out)) {
            viaAdapter = s.score(prompts, completions);
        }
        try (RewardScorer s = RewardScorer.load(out.resolve(RmRecipe.MERGED_DIR))) {
            viaMerged = s.score(prompts, completions);
        }
        assertArrayEquals(viaAdapter, viaMerged, 1e-5f);
    }

    @Test
    void resumesExactlyWithDropout() throws IOException {
        Path full = tmp.resolve("full");
        RmRecipe.run(RmRecipe.config(null, lora(full)));
        Path cut = tmp.resolve("cut");
        RmTrainTest.copyDir(full.resolve("checkpoint-2"), cut.resolve("checkpoint-2"));
        RmRecipe.run(RmRecipe.config(null, lora(cut, "resume_from_checkpoint=latest")));
        for (String name : new String[] {"base_model.model.score.weight",
            "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight",
            "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"}) {
            assertArrayEquals(RmTrainTest.weights(full.resolve("adapter_model.safetensors"), name),
                    RmTrainTest.weights(cut.resolve("adapter_model.safetensors"), name), name);
        }
    }

    @Test
    void loadsAPeftRewardAdapter() throws IOException {
        Path dir = tmp.resolve("peft_rm");
        Files.createDirectories(dir);
        Files.copy(resource("peft_rm/adapter_model.safetensors"), dir.resolve("adapter_model.safetensors"));
        ObjectNode cfg = (ObjectNode) JSON.readTree(resource("peft_rm/adapter_config.json").toFile());
        cfg.put("base_model_name_or_path", Fixtures.reference("llama_gqa").toString());
        Files.writeString(dir.resolve("adapter_config.json"), cfg.toString());
        List<JsonNode> expected = new ArrayList<>();
        JSON.readTree(resource("peft_rm_rewards.json").toFile()).forEach(expected::add);
        List<String> prompts = new ArrayList<>();
        List<String> completions = new ArrayList<>();
        expected.forEach(e -> {
            prompts.add(e.get("prompt").asText());
            completions.add(e.get("completion").asText());
        });
        float[] got;
        try (RewardScorer s = RewardScorer.load(dir, 4)) { // tokenizer from the base: the adapter has none
            got = s.score(prompts, completions);
        }
        for (int i = 0; i < got.length; i++) {
            assertEquals(expected.get(i).get("reward").asDouble(), got[i], 1e-4, "record " + i);
        }
    }

    @Test
    void refusesToStackLoraOnAnAdapterAndScoringACausalLm() {
        Path out = tmp.resolve("first");
        RmRecipe.run(RmRecipe.config(null, lora(out, "merge_lora=false", "max_steps=1")));
        List<String> again = lora(tmp.resolve("second"));
        again.add("model=" + out);
        BadInputException e = assertThrows(BadInputException.class, () -> RmRecipe.run(RmRecipe.config(null, again)));
        assertTrue(e.getMessage().contains("is a LoRA adapter"), e.getMessage());
        dev.align.core.AlignException notRm = assertThrows(dev.align.core.AlignException.class,
                () -> RewardScorer.load(Fixtures.reference("llama_gqa")));
        assertTrue(notRm.getMessage().contains("not a reward model"), notRm.getMessage());
    }
}
