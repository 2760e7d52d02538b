package dev.align.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chat template API: errors, sandbox bounds, generation spans, variables and inputs. */
class ChatTemplateTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration GUARD = Duration.ofSeconds(60); // a hang would otherwise stall the build

    private static List<Map<String, Object>> chat(String... roleContent) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < roleContent.length; i += 2) {
            out.add(Map.of("role", roleContent[i], "content", roleContent[i + 1]));
        }
        return out;
    }

    private static ChatTemplate template(String source) {
        return ChatTemplate.of(source, "test.jinja", Map.of("bos_token", "<s>", "eos_token", "</s>"));
    }

    private static AlignException failure(String source) {
        return assertTimeoutPreemptively(GUARD, () -> assertThrows(AlignException.class,
                () -> template(source).render(chat("user", "hi"), false)));
    }

    /** A tokenizer directory (the gpt2 reference tokenizer) whose chat template is {@code template}. */
    private static Path tokenizerDir(Path dir, String template) throws IOException {
        Path ref = Fixtures.reference("gpt2");
        Files.copy(ref.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        ObjectNode cfg = (ObjectNode) JSON.readTree(ref.resolve("tokenizer_config.json").toFile());
        cfg.put("chat_template", template);
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
        return dir;
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessageAndTheTokenizerDirectory(@TempDir Path tmp) throws IOException {
        String mistral = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
                + "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
                + "user/assistant/user/assistant/...') }}{% endif %}{{ message['content'] }}{% endfor %}";
        try (Tokenizer tok = Tokenizer.load(tokenizerDir(tmp, mistral))) {
            ChatTemplate t = tok.chatTemplate();
            assertEquals("<s>ab", t.render(chat("user", "a", "assistant", "b"), false));
            AlignException e = assertThrows(AlignException.class,
                    () -> t.render(chat("user", "a", "user", "b"), false));
            assertEquals(tmp + ": line 1: chat template error: Conversation roles must alternate "
                    + "user/assistant/user/assistant/...", e.getMessage());
        }
    }

    @Test
    void syntaxErrorsNameTheTokenizerDirectoryAndLine(@TempDir Path tmp) throws IOException {
        try (Tokenizer tok = Tokenizer.load(tokenizerDir(tmp, "{% for m in messages %}\n{{ m.content }}\n"))) {
            AlignException e = assertThrows(AlignException.class, tok::chatTemplate);
            assertTrue(e.getMessage().startsWith(tmp + ": line 1: chat template syntax error: "), e.getMessage());
            assertTrue(e.getMessage().contains("endfor"), e.getMessage());
        }
        assertTrue(assertThrows(AlignException.class, () -> template("a\n{{ x "))
                .getMessage().startsWith("test.jinja: line 2: chat template syntax error: "));
        assertTrue(assertThrows(AlignException.class, () -> template("{% include 'other.jinja' %}"))
                .getMessage().contains("unknown tag 'include'"));
        assertTrue(assertThrows(AlignException.class, () -> template("{% endif %}"))
                .getMessage().contains("unknown tag 'endif'"));
        assertTrue(failure("{{ messages|no_such_filter }}").getMessage().contains("No filter named 'no_such_filter'."));
        assertTrue(failure("{{ messages is no_such_test }}").getMessage().contains("No test named 'no_such_test'."));
        assertTrue(failure("{{ 'a' + 1 }}").getMessage().contains("can only concatenate str"));
        assertTrue(failure("{{ missing.attr }}").getMessage().contains("'missing' is undefined"));
    }

    @Test
    void hostileTemplatesFailFastWithAClearError() {
        assertTrue(failure("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
                .getMessage().contains("exceeded its budget of " + JinjaEngine.MAX_STEPS + " steps"));
        assertTrue(failure("{% for i in range(10**9) %}{% endfor %}").getMessage().contains("Range too big"));
        assertTrue(failure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
                .getMessage().contains("recursion"));
        assertTrue(failure("{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}"
                + "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}").getMessage().contains("longer than"));
        assertTrue(failure("{{ 'x'.center(10**10) }}").getMessage().contains("longer than"));
        assertTrue(failure("{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}"
                + "{% endfor %}").getMessage().contains("longer than"));
    }

    @Test
    void templatesCannotReachJavaObjectsFilesOrTheCallersData() {
        List<Map<String, Object>> messages = new ArrayList<>();
        Map<String, Object> m = new HashMap<>();
        m.put("role", "user");
        m.put("content", "hi");
        messages.add(m);
        assertTrue(assertThrows(AlignException.class, () -> template("{{ messages.append(1) }}").render(messages, false))
                .getMessage().contains("SecurityError: access to attribute 'append' of 'list' object is unsafe."));
        assertTrue(failure("{{ messages[0].clear() }}").getMessage().contains("unsafe"));
        assertTrue(failure("{{ 'a'.getClass() }}").getMessage().contains("'str' object has no attribute 'getClass'"));
        assertTrue(failure("{{ messages[0].getClass().getName() }}").getMessage().contains("no attribute 'getClass'"));
        assertEquals("", template("{{ ''.__class__ }}{{ messages.__class__ }}").render(messages, false));
        assertTrue(failure("{{ messages|fromjson }}").getMessage().contains("fromjson"));
        // {% set %} in the template rebinds its own copy; the caller's list and maps are untouched
        template("{% set messages = [] %}{% set m = namespace(x=1) %}").render(messages, false);
        assertEquals(List.of(Map.of("role", "user", "content", "hi")), messages);
    }

    @Test
    void generationSpansCoverExactlyTheAssistantText() {
        ChatTemplate t = template("{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' }}"
                + "{% if m.role == 'assistant' %}{% generation %}{{ m.content + '<|im_end|>' }}{% endgeneration %}"
                + "{{ '\\n' }}{% else %}{{ m.content + '<|im_end|>\\n' }}{% endif %}{% endfor %}");
        assertTrue(t.hasGenerationTag());
        assertFalse(template("{{ messages[0].content }}").hasGenerationTag());
        ChatTemplate.Rendered r = t.render(chat("user", "Hi \uD83D\uDE00", "assistant", "Hello \uD83D\uDC4B",
                "user", "Bye", "assistant", "Ciao"), false, Map.of());
        assertEquals("<|im_start|>user\nHi \uD83D\uDE00<|im_end|>\n<|im_start|>assistant\nHello \uD83D\uDC4B<|im_end|>\n"
                + "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\nCiao<|im_end|>\n", r.text());
        assertEquals(2, r.generation().size());
        List<String> covered = new ArrayList<>();
        for (ChatTemplate.Span s : r.generation()) {
            covered.add(r.text().substring(s.start(), s.end()));
        }
        assertEquals(List.of("Hello \uD83D\uDC4B<|im_end|>", "Ciao<|im_end|>"), covered);
        assertEquals(r.text().indexOf("Hello"), r.generation().get(0).start());
        assertEquals(List.of(), template("{{ messages[0].content }}").render(chat("user", "x"), false, Map.of())
                .generation());
    }

    @Test
    void variablesFollowTransformers() {
        ChatTemplate t = template("{{ bos_token }}|{{ eos_token }}|{{ pad_token is defined }}|{{ tools is none }}|"
                + "{{ add_generation_prompt }}|{{ enable_thinking }}|{{ eos_token }}");
        assertEquals("<s>|</s>|False|True|True|False|</s>",
                t.render(chat("user", "x"), true, Map.of("enable_thinking", false)).text());
        // extra variables override the special tokens, as keyword arguments do in transformers
        assertEquals("<s>|E|False|True|False||E", t.render(chat("user", "x"), false, Map.of("eos_token", "E")).text());
        assertThrows(AlignException.class, () -> t.render(chat("user", "x"), false, Map.of("messages", List.of())));
        assertTrue(assertThrows(AlignException.class, () -> t.render(List.of(), false)).getMessage()
                .contains("empty conversation"));
    }

    @Test
    void acceptsJacksonTrees() throws IOException {
        JsonNode conv = JSON.readTree("[{\"role\":\"user\",\"content\":\"hi\",\"n\":3,\"x\":1.5,\"ok\":true,"
                + "\"none\":null,\"args\":{\"a\":[1,2]}}]");
        List<Map<String, Object>> messages = new ArrayList<>();
        for (JsonNode n : conv) {
            messages.add(Map.of("role", n.get("role"), "content", n.get("content"), "rest", n));
        }
        assertEquals("hi 3 1.5 True True {\"a\": [1, 2]}",
                template("{% set m = messages[0] %}{{ m.content }} {{ m.rest.n }} {{ m.rest.x }} {{ m.rest.ok }} "
                        + "{{ m.rest.none is none }} {{ m.rest.args|tojson }}").render(messages, false));
    }

    @Test
    void rendersConcurrentlyFromOneInstance() throws Exception {
        String src = ChatTemplateGoldenTest.template("qwen3_training.jinja");
        ChatTemplate t = ChatTemplate.of(src, "qwen3_training.jinja", Map.of("eos_token", "<|im_end|>"));
        List<List<Map<String, Object>>> convs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            convs.add(chat("system", "s" + i, "user", "q" + i, "assistant", "<think>r" + i + "</think>a" + i));
        }
        List<ChatTemplate.Rendered> expected = new ArrayList<>();
        for (List<Map<String, Object>> c : convs) {
            expected.add(t.render(c, false, Map.of()));
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Boolean>> futures = new ArrayList<>();
            for (int k = 0; k < 8; k++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < convs.size(); i++) {
                        if (!expected.get(i).equals(t.render(convs.get(i), false, Map.of()))) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (java.util.concurrent.Future<Boolean> f : futures) {
                assertTrue(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, expected.get(3).generation().size());
    }

    @Test
    void qwen3RendersAConversationWithReasoning() {
        try (Tokenizer tok = Tokenizer.load(Fixtures.qwen3Tokenizer())) {
            ChatTemplate t = tok.chatTemplate();
            List<Map<String, Object>> conv = chat("system", "S", "user", "Q",
                    "assistant", "<think>\nR\n</think>\n\nA");
            assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n"
                    + "<|im_start|>assistant\n<think>\nR\n</think>\n\nA<|im_end|>\n", t.render(conv, false));
            assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n"
                    + "<|im_start|>assistant\n<think>\n\n</think>\n\n",
                    t.render(chat("system", "S", "user", "Q"), true, Map.of("enable_thinking", false)).text());
        }
    }
}
