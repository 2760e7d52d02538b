package dev.align.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.datasets.testing.ChatML;
import dev.align.datasets.testing.TestFiles;
import dev.align.datasets.tokenize.ChatRenderer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Conversations against transformers: token ids and assistant masks of {@code apply_chat_template(...,
 * return_assistant_tokens_mask=True)}, and TRL's completion masks for conversational prompt/completion
 * (goldens made by {@code src/test/resources/chat/make_goldens.py} with the llama_gqa tokenizer). Both
 * ways of finding assistant turns must give the same masks: {@code {% generation %}} spans, and
 * prefix-by-prefix rendering.
 */
class ConversationalTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static JsonNode goldens() throws IOException {
        try (InputStream in = ConversationalTest.class.getResourceAsStream("/chat/goldens.json")) {
            return JSON.readTree(in);
        }
    }

    private static ChatRenderer renderer(String kind) {
        return kind.equals("generation") ? ChatML.withGenerationTag() : ChatML.plain();
    }

    private static long[] longs(JsonNode arr) {
        long[] out = new long[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asLong();
        }
        return out;
    }

    private static boolean[] bools(JsonNode arr) {
        boolean[] out = new boolean[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt() == 1;
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"generation", "prefix"})
    void assistantOnlyMasksMatchTransformers(String kind) throws IOException {
        JsonNode cases = goldens().get("messages");
        List<String> lines = new ArrayList<>();
        for (JsonNode c : cases) {
            lines.add(JSON.createObjectNode().set("messages", c.get("messages")).toString());
            List<Map<String, Object>> msgs = JSON.convertValue(c.get("messages"), new TypeReference<>() { });
            assertEquals(c.get("text").asText(), renderer(kind).render(msgs, false).text(),
                    "the test renderer is the template");
        }
        Path f = Files.write(dir.resolve("chat.jsonl"), lines);
        DataSettings s = DataSettings.defaults().withCache(false, null);
        try (TokenizedDataset ds = Datasets.load(f, s, TestFiles.llama(), renderer(kind))) {
            assertEquals(cases.size(), ds.size());
            for (int i = 0; i < cases.size(); i++) {
                SftExample e = ds.sft(i);
                assertArrayEquals(longs(cases.get(i).get("input_ids")), e.ids(), "ids of conversation " + i);
                assertArrayEquals(bools(cases.get(i).get("assistant_masks")), e.targets(), "mask of conversation " + i);
            }
        }
        // assistant_only_loss off: every token takes loss
        try (TokenizedDataset ds = Datasets.load(f, s.withLoss(true, false), TestFiles.llama(), renderer(kind))) {
            boolean[] t = ds.sft(1).targets();
            for (boolean b : t) {
                assertEquals(true, b);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"generation", "prefix"})
    void promptCompletionMatchesTrl(String kind) throws IOException {
        JsonNode cases = goldens().get("prompt_completion");
        List<String> lines = new ArrayList<>();
        for (JsonNode c : cases) {
            lines.add(JSON.createObjectNode().<com.fasterxml.jackson.databind.node.ObjectNode>set("prompt", c.get("prompt"))
                    .set("completion", c.get("completion")).toString());
        }
        Path f = Files.write(dir.resolve("pc.jsonl"), lines);
        try (TokenizedDataset ds = Datasets.load(f, DataSettings.defaults().withCache(false, null), TestFiles.llama(),
                renderer(kind))) {
            assertEquals("prompt_completion", ds.format().id());
            for (int i = 0; i < cases.size(); i++) {
                SftExample e = ds.sft(i);
                assertArrayEquals(longs(cases.get(i).get("input_ids")), e.ids());
                assertArrayEquals(bools(cases.get(i).get("completion_mask")), e.targets());
            }
        }
    }
}
