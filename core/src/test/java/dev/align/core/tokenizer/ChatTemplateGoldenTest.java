package dev.align.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import dev.align.core.testing.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Renders real chat templates (TRL's copies of the templates shipped with Llama 3.x, Qwen 2.5/3,
 * Gemma 1-4, Phi 3, DeepSeek, Cohere, GLM, GPT-OSS, Nemotron, LFM2, ...; their {@code _training}
 * variants with {@code {% generation %}} blocks; Mistral/Mixtral v0.1, Zephyr and ChatML from public
 * {@code tokenizer_config.json} files) and the tokenizer directories of {@code testdata/}, and compares
 * text, generation spans, errors and token ids exactly with transformers' output
 * ({@code chat_templates/goldens.json}, written by {@code make_goldens.py}).
 */
class ChatTemplateGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Tokenizer> TOKENIZERS = new java.util.concurrent.ConcurrentHashMap<>();
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2024-07-26T10:30:00Z"), ZoneOffset.UTC);

    @AfterAll
    static void closeTokenizers() {
        TOKENIZERS.values().forEach(Tokenizer::close);
        TOKENIZERS.clear();
    }

    static JsonNode goldens() {
        try (InputStream in = ChatTemplateGoldenTest.class.getResourceAsStream("/chat_templates/goldens.json")) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static String template(String name) {
        try (InputStream in = ChatTemplateGoldenTest.class.getResourceAsStream("/chat_templates/templates/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static List<Map<String, Object>> messages(JsonNode g, String conversation) {
        return JSON.convertValue(g.path("conversations").path(conversation),
                new TypeReference<List<Map<String, Object>>>() {});
    }

    static Map<String, Object> extra(JsonNode c) {
        return JSON.convertValue(c.path("extra"), new TypeReference<Map<String, Object>>() {});
    }

    @TestFactory
    Stream<DynamicTest> templatesRenderAsTransformers() {
        JsonNode g = goldens();
        Map<String, String> specials = JSON.convertValue(g.path("specials"),
                new TypeReference<Map<String, String>>() {});
        Map<String, ChatTemplate> compiled = new HashMap<>();
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : g.path("templates")) {
            String name = c.path("template").asText();
            String label = name + " " + c.path("conversation").asText() + " agp="
                    + c.path("add_generation_prompt").asBoolean() + " " + c.path("extra").toString();
            tests.add(dynamicTest(label, () -> {
                ChatTemplate t = compiled.computeIfAbsent(name,
                        n -> ChatTemplate.of(template(n), "templates/" + n, specials).withClock(CLOCK));
                List<Map<String, Object>> msgs = messages(g, c.path("conversation").asText());
                boolean agp = c.path("add_generation_prompt").asBoolean();
                if (c.has("error")) {
                    AlignException e = assertThrows(AlignException.class, () -> t.render(msgs, agp, extra(c)));
                    if (c.path("error_type").asText().equals("TemplateError")) {
                        assertTrue(e.getMessage().contains(c.path("error").asText()), e.getMessage());
                    }
                    assertTrue(e.getMessage().startsWith("templates/" + name + ": "), e.getMessage());
                    return;
                }
                ChatTemplate.Rendered r = t.render(msgs, agp, extra(c));
                assertEquals(c.path("text").asText(), r.text());
                List<List<Integer>> spans = new ArrayList<>();
                for (ChatTemplate.Span s : r.generation()) {
                    spans.add(List.of(s.start(), s.end()));
                }
                assertEquals(JSON.convertValue(c.path("spans"), new TypeReference<List<List<Integer>>>() {}), spans);
                assertEquals(c.path("spans").size() > 0 || t.hasGenerationTag(), t.hasGenerationTag());
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> pythonBehavioursMatchJinja2() {
        JsonNode g = goldens();
        Map<String, String> specials = JSON.convertValue(g.path("specials"),
                new TypeReference<Map<String, String>>() {});
        List<Map<String, Object>> msgs = JSON.convertValue(g.path("feature_messages"),
                new TypeReference<List<Map<String, Object>>>() {});
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : g.path("features")) {
            String name = c.path("name").asText();
            tests.add(dynamicTest(name, () -> {
                ChatTemplate t = ChatTemplate.of(c.path("template").asText(), name, specials).withClock(CLOCK);
                if (c.has("error")) {
                    AlignException e = assertThrows(AlignException.class, () -> t.render(msgs, false, extra(c)));
                    assertTrue(e.getMessage().contains(c.path("error").asText()), e.getMessage());
                    return;
                }
                ChatTemplate.Rendered r = t.render(msgs, false, extra(c));
                assertEquals(c.path("text").asText(), r.text());
                List<List<Integer>> spans = new ArrayList<>();
                for (ChatTemplate.Span s : r.generation()) {
                    spans.add(List.of(s.start(), s.end()));
                }
                assertEquals(JSON.convertValue(c.path("spans"), new TypeReference<List<List<Integer>>>() {}), spans);
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> tokenizerDirectoriesRenderAndTokenizeAsTransformers() {
        JsonNode g = goldens();
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : g.path("tokenizers")) {
            String dir = c.path("tokenizer").asText();
            String label = dir + " " + c.path("conversation").asText() + " agp="
                    + c.path("add_generation_prompt").asBoolean() + " " + c.path("extra").toString();
            tests.add(dynamicTest(label, () -> {
                Tokenizer tok = TOKENIZERS.computeIfAbsent(dir, d -> Tokenizer.load(Fixtures.root().getParent().resolve(d)));
                {
                    ChatTemplate t = tok.chatTemplate();
                    String text = t.render(messages(g, c.path("conversation").asText()),
                            c.path("add_generation_prompt").asBoolean(), extra(c)).text();
                    assertEquals(c.path("text").asText(), text);
                    // apply_chat_template(tokenize=True) encodes with add_special_tokens=False
                    long[] ids = tok.encodePlain(text);
                    assertArrayEquals(JSON.convertValue(c.path("ids_tokenizer_json"), long[].class), ids);
                    if (dir.endsWith("qwen3")) {
                        // transformers' own ids (for qwen2_tied_bf16, transformers 5 rebuilds the tokenizer
                        // from its vocabulary instead of running tokenizer.json, so only the above applies)
                        assertArrayEquals(JSON.convertValue(c.path("ids"), long[].class), ids);
                        Integer imStart = tok.tokenId("<|im_start|>");
                        Integer imEnd = tok.tokenId("<|im_end|>");
                        long starts = java.util.Arrays.stream(ids).filter(i -> i == imStart).count();
                        assertEquals(text.split("<\\|im_start\\|>", -1).length - 1, starts);
                        assertEquals(text.split("<\\|im_end\\|>", -1).length - 1,
                                java.util.Arrays.stream(ids).filter(i -> i == imEnd).count());
                    }
                }
            }));
        }
        return tests.stream();
    }
}
