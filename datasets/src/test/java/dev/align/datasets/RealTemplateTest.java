package dev.align.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.bundled.Bundled;
import dev.align.datasets.testing.ChatML;
import dev.align.datasets.testing.TestFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conversational goldens through the tokenizer's own Jinja template ({@code core.tokenizer.ChatTemplate},
 * reached through {@code ChatRenderer.of}), instead of the test renderer; and the bundled tokenizer's
 * template (with {@code {% generation %}} blocks). Runs once ChatTemplate renders: while it is still
 * the placeholder that throws "not implemented yet", the assumption below skips these tests.
 */
class RealTemplateTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @BeforeEach
    void requireRealTemplate() {
        boolean real;
        try {
            TestFiles.llama().chatTemplate().render(List.of(Map.of("role", "user", "content", "bidu")), false);
            real = true;
        } catch (AlignException e) {
            if (!String.valueOf(e.getMessage()).contains("not implemented yet")) {
                throw e;
            }
            real = false;
        }
        assumeTrue(real, "core.tokenizer.ChatTemplate is still the placeholder");
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

    @Test
    void goldensThroughTheTokenizersTemplate() throws IOException {
        JsonNode g;
        try (InputStream in = RealTemplateTest.class.getResourceAsStream("/chat/goldens.json")) {
            g = JSON.readTree(in);
        }
        List<String> lines = new ArrayList<>();
        for (JsonNode c : g.get("messages")) {
            lines.add(JSON.createObjectNode().set("messages", c.get("messages")).toString());
        }
        Path f = Files.write(dir.resolve("chat.jsonl"), lines);
        DataSettings s = DataSettings.defaults().withCache(false, null);
        try (TokenizedDataset ds = Datasets.load(f, s, TestFiles.llama())) {
            for (int i = 0; i < ds.size(); i++) {
                assertArrayEquals(longs(g.get("messages").get(i).get("input_ids")), ds.sft(i).ids());
                assertArrayEquals(bools(g.get("messages").get(i).get("assistant_masks")), ds.sft(i).targets());
            }
        }
        lines.clear();
        for (JsonNode c : g.get("prompt_completion")) {
            lines.add(JSON.createObjectNode().<ObjectNode>set("prompt", c.get("prompt"))
                    .set("completion", c.get("completion")).toString());
        }
        Path pc = Files.write(dir.resolve("pc.jsonl"), lines);
        try (TokenizedDataset ds = Datasets.load(pc, s, TestFiles.llama())) {
            for (int i = 0; i < ds.size(); i++) {
                assertArrayEquals(longs(g.get("prompt_completion").get(i).get("input_ids")), ds.sft(i).ids());
                assertArrayEquals(bools(g.get("prompt_completion").get(i).get("completion_mask")), ds.sft(i).targets());
            }
        }
    }

    @Test
    void bundledTemplateWithGenerationBlocks() throws IOException {
        Path tokDir = Bundled.extractTo(dir.resolve("bundled"));
        Path f = Files.writeString(dir.resolve("chat.jsonl"), "{\"messages\": ["
                + "{\"role\": \"user\", \"content\": \"What color is the noosh?\"},"
                + "{\"role\": \"assistant\", \"content\": \"The noosh is blue.\"},"
                + "{\"role\": \"user\", \"content\": \"What is 3 plus 5?\"},"
                + "{\"role\": \"assistant\", \"content\": \"8.\"}]}\n");
        DataSettings s = DataSettings.defaults().withCache(false, null);
        try (Tokenizer tok = Tokenizer.load(tokDir);
                TokenizedDataset real = Datasets.load(f, s, tok);
                TokenizedDataset expected = Datasets.load(f, s, tok, ChatML.withGenerationTag())) {
            assertEquals(1, real.size());
            assertArrayEquals(expected.sft(0).ids(), real.sft(0).ids());
            assertArrayEquals(expected.sft(0).targets(), real.sft(0).targets());
        }
    }
}
