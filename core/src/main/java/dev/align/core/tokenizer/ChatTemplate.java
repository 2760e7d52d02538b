package dev.align.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.AlignException;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A Hugging Face chat template (Jinja), rendered as transformers' {@code apply_chat_template(...,
 * tokenize=False)} renders it: the same jinja2 environment ({@code trim_blocks}, {@code lstrip_blocks},
 * immutable sandbox, loop controls, {@code raise_exception}, {@code strftime_now}, transformers'
 * {@code tojson}), the same variables ({@code messages}, {@code add_generation_prompt}, {@code tools} and
 * {@code documents} (None unless given), the tokenizer's special tokens such as {@code bos_token} and
 * {@code eos_token}, then any extra keyword arguments such as {@code enable_thinking}), and the
 * {@code {% generation %}} block whose spans give the assistant-only loss mask
 * ({@code return_assistant_tokens_mask}).
 *
 * <p>Differences from Python a template could notice: a {@code None} value and an undefined one are the
 * same here ({@code x is defined} is false for a key whose value is None, and both print as nothing);
 * recursive {@code for} loops, chained comparisons ({@code a < b < c}), {@code %} string formatting and
 * the {@code format}, {@code center}, {@code indent} and {@code wordwrap} filters are not supported (an
 * error, never a silent difference). Renders are bounded (steps, output size, string and list sizes,
 * macro recursion); a template that exceeds a bound fails with an {@link AlignException}. One instance
 * may be shared between threads.
 */
public final class ChatTemplate {
    /** A character span {@code [start, end)} of the rendered text, in Java {@code char} offsets. */
    public record Span(int start, int end) {
        public Span {
            if (start < 0 || end < start) {
                throw new IllegalArgumentException("bad span [" + start + ", " + end + ")");
            }
        }

        /** {@code end - start}. */
        public int length() {
            return end - start;
        }
    }

    /**
     * A rendered conversation: the text, and the spans produced by {@code {% generation %}} blocks in
     * the order they open (empty when the template has none). The spans cover exactly the text
     * transformers marks as assistant-generated; a token belongs to the mask when it overlaps a span.
     */
    public record Rendered(String text, List<Span> generation) {
        public Rendered {
            Objects.requireNonNull(text, "text");
            generation = List.copyOf(generation);
        }
    }

    private final String source;
    private final String origin;
    private final Map<String, String> specialTokens;
    private final JinjaEngine.Compiled compiled;
    private final Clock clock;

    ChatTemplate(String source, Tokenizer tokenizer) {
        this(source, String.valueOf(tokenizer.dir()), specialTokens(tokenizer), null);
    }

    private ChatTemplate(String source, String origin, Map<String, String> specialTokens, Clock clock) {
        this.source = Objects.requireNonNull(source, "source");
        this.origin = origin;
        this.specialTokens = Map.copyOf(specialTokens);
        this.clock = clock;
        try {
            this.compiled = JinjaEngine.compile(source);
        } catch (JinjaEngine.TemplateFailure e) {
            throw new AlignException(where(e.line) + "chat template syntax error: " + e.getMessage());
        }
    }

    private ChatTemplate(ChatTemplate base, Clock clock) {
        this.source = base.source;
        this.origin = base.origin;
        this.specialTokens = base.specialTokens;
        this.compiled = base.compiled;
        this.clock = clock;
    }

    /**
     * A template from its source.
     *
     * @param origin where it came from (a file or directory), named in error messages
     * @param specialTokens template variables such as {@code bos_token} and {@code eos_token}; null values
     *     are left out (undefined in the template), as transformers does
     */
    public static ChatTemplate of(String source, String origin, Map<String, String> specialTokens) {
        Map<String, String> tokens = new LinkedHashMap<>();
        specialTokens.forEach((k, v) -> {
            if (v != null) {
                tokens.put(k, v);
            }
        });
        return new ChatTemplate(source, origin, tokens, null);
    }

    /** This template with {@code strftime_now} reading {@code clock} (for reproducible renders). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(this, Objects.requireNonNull(clock, "clock"));
    }

    private static Map<String, String> specialTokens(Tokenizer tokenizer) {
        Map<String, String> m = new LinkedHashMap<>();
        put(m, "bos_token", tokenizer.bosToken());
        put(m, "eos_token", tokenizer.eosToken());
        put(m, "unk_token", tokenizer.unkToken());
        put(m, "pad_token", tokenizer.padToken());
        for (String key : List.of("sep_token", "cls_token", "mask_token")) {
            JsonNode n = tokenizer.config().get(key);
            if (n != null && !n.isNull()) {
                put(m, key, n.isObject() ? n.path("content").asText(null) : n.asText());
            }
        }
        return m;
    }

    private static void put(Map<String, String> m, String k, String v) {
        if (v != null) {
            m.put(k, v);
        }
    }

    /** The template's Jinja source. */
    public String source() {
        return source;
    }

    /** True if the template marks assistant output with {@code {% generation %}} blocks. */
    public boolean hasGenerationTag() {
        return compiled.hasGeneration();
    }

    /** Renders {@code messages} (maps with role, content and optional keys such as tool_calls). */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of()).text();
    }

    /**
     * Renders {@code messages} with extra template variables ({@code tools}, {@code documents},
     * {@code enable_thinking}, ...; they override the special tokens, as keyword arguments do in
     * transformers) and returns the text with the generation spans.
     *
     * @throws AlignException naming the template's origin when the template fails (a syntax or type
     *     error, {@code raise_exception(msg)} with msg in the message, a sandbox bound)
     */
    public Rendered render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        if (messages == null || messages.isEmpty()) {
            throw new AlignException(where(-1) + "cannot apply the chat template to an empty conversation");
        }
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("messages", PyValues.plain(messages, "messages"));
        vars.put("tools", null);
        vars.put("documents", null);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.putAll(specialTokens);
        if (extra != null) {
            for (Map.Entry<String, Object> e : extra.entrySet()) {
                if (e.getKey().equals("messages") || e.getKey().equals("add_generation_prompt")) {
                    throw new AlignException(where(-1) + "'" + e.getKey() + "' cannot be passed as an extra variable");
                }
                vars.put(e.getKey(), PyValues.plain(e.getValue(), e.getKey()));
            }
        }
        long nonce = ThreadLocalRandom.current().nextLong();
        String open = "\uFDD0" + Long.toHexString(nonce) + "\uFDD1";
        String close = "\uFDD2" + Long.toHexString(nonce) + "\uFDD3";
        Clock c = clock;
        JinjaEngine.RenderState state = new JinjaEngine.RenderState(
                c == null ? null : () -> ZonedDateTime.now(c), new String[] {open, close});
        String raw;
        try {
            raw = JinjaEngine.render(compiled, vars, state);
        } catch (JinjaEngine.TemplateFailure e) {
            throw new AlignException(where(e.line) + "chat template error: " + e.getMessage());
        }
        if (!compiled.hasGeneration()) {
            return new Rendered(raw, List.of());
        }
        return extractSpans(raw, open, close);
    }

    /** Removes the generation markers from {@code raw}, recording where they stood. */
    private Rendered extractSpans(String raw, String open, String close) {
        StringBuilder text = new StringBuilder(raw.length());
        List<int[]> spans = new ArrayList<>();
        Deque<int[]> stack = new ArrayDeque<>();
        int i = 0;
        while (i < raw.length()) {
            if (raw.startsWith(open, i)) {
                int[] s = {text.length(), -1};
                spans.add(s);
                stack.push(s);
                i += open.length();
            } else if (raw.startsWith(close, i)) {
                if (stack.isEmpty()) {
                    throw new AlignException(where(-1) + "chat template error: generation markers out of order");
                }
                stack.pop()[1] = text.length();
                i += close.length();
            } else {
                text.append(raw.charAt(i++));
            }
        }
        if (!stack.isEmpty()) {
            throw new AlignException(where(-1) + "chat template error: a generation block's output was cut");
        }
        List<Span> out = new ArrayList<>(spans.size());
        for (int[] s : spans) {
            out.add(new Span(s[0], s[1]));
        }
        return new Rendered(text.toString(), out);
    }

    private String where(int line) {
        String o = origin == null ? "" : origin + ": ";
        return line > 0 ? o + "line " + line + ": " : o;
    }
}
