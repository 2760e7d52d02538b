package dev.align.datasets.tokenize;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import dev.align.core.AlignException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds the assistant turns of a rendered conversation by rendering, never by searching the text for a
 * response marker:
 *
 * <ul>
 *   <li>when the template has {@code {% generation %}} blocks, the assistant text is exactly those
 *       blocks' spans;
 *   <li>otherwise, for each assistant message i, the template renders {@code messages[:i]} with the
 *       generation prompt (text a) and {@code messages[:i+1]} without it (text b): the turn is the chars
 *       [len(a), len(b)) of the whole rendering, provided a is a prefix of b and b a prefix of the whole
 *       (a template that rewrites earlier turns fails here, and is reported as a template failure).
 *       When the assistant message is the first one, a is instead the text before the first difference
 *       between two renderings of that message with different contents (an empty conversation is not
 *       rendered).
 * </ul>
 *
 * Char spans become token masks through the tokenizer's char offsets: a token is an assistant token
 * when its chars overlap a span.
 */
public final class AssistantMask {
    private AssistantMask() {}

    /** A chat template whose renderings are inconsistent with one another. */
    public static final class TemplateMismatch extends AlignException {
        private static final long serialVersionUID = 1L;

        TemplateMismatch(String message) {
            super(message);
        }
    }

    /**
     * The char spans [start, end) of the assistant turns in {@code full} (the rendering of all of
     * {@code messages} without generation prompt).
     */
    public static List<int[]> spans(ChatRenderer renderer, List<Map<String, Object>> messages,
            ChatRenderer.Rendering full) {
        if (renderer.hasGenerationTag()) {
            return full.generationSpans();
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            if (!"assistant".equals(messages.get(i).get("role"))) {
                continue;
            }
            String b = renderer.render(messages.subList(0, i + 1), false).text();
            String a = i > 0 ? renderer.render(messages.subList(0, i), true).text() : firstTurnStart(renderer, messages.get(0));
            if (!b.startsWith(a)) {
                throw new TemplateMismatch("rendering messages[0:" + i + "] with the generation prompt is not a"
                        + " prefix of rendering messages[0:" + (i + 1) + "]");
            }
            if (!full.text().startsWith(b)) {
                throw new TemplateMismatch("rendering messages[0:" + (i + 1) + "] is not a prefix of rendering the"
                        + " whole conversation (the template changes earlier turns; give it {% generation %} blocks)");
            }
            if (b.length() > a.length()) {
                out.add(new int[] {a.length(), b.length()});
            }
        }
        return out;
    }

    /**
     * Where the content of a conversation's first message, an assistant turn, starts: rendering an empty
     * conversation (the prefix before it) is an error for some templates, so the first message is
     * rendered twice with two different contents, and the text before the first difference is the
     * turn's prefix.
     */
    private static String firstTurnStart(ChatRenderer renderer, Map<String, Object> first) {
        Map<String, Object> x = new java.util.LinkedHashMap<>(first);
        Map<String, Object> y = new java.util.LinkedHashMap<>(first);
        x.put("content", "A");
        y.put("content", "B");
        String rx = renderer.render(List.of(x), false).text();
        String ry = renderer.render(List.of(y), false).text();
        int n = 0;
        while (n < rx.length() && n < ry.length() && rx.charAt(n) == ry.charAt(n)) {
            n++;
        }
        return rx.substring(0, n);
    }

    /**
     * Per token of {@code enc} (an encoding of {@code text}), whether its chars overlap one of
     * {@code spans}. Tokens added by the post-processor (no chars) never do.
     */
    public static boolean[] tokens(Encoding enc, String text, List<int[]> spans) {
        CharSpan[] cs = enc.getCharTokenSpans();
        int[] toChar = codePointToChar(text);
        boolean[] out = new boolean[cs.length];
        for (int t = 0; t < cs.length; t++) {
            if (cs[t] == null) {
                continue;
            }
            int s = toChar == null ? cs[t].getStart() : toChar[cs[t].getStart()];
            int e = toChar == null ? cs[t].getEnd() : toChar[cs[t].getEnd()];
            for (int[] sp : spans) {
                if (s < sp[1] && e > sp[0]) {
                    out[t] = true;
                    break;
                }
            }
        }
        return out;
    }

    /**
     * The tokenizer reports char offsets in code points; Java strings index UTF-16 chars. The map from
     * code point index to char index, or null when the two agree (no chars outside the BMP).
     */
    static int[] codePointToChar(String text) {
        int cps = text.codePointCount(0, text.length());
        if (cps == text.length()) {
            return null;
        }
        int[] map = new int[cps + 1];
        int c = 0;
        for (int i = 0; i < cps; i++) {
            map[i] = c;
            c += Character.charCount(text.codePointAt(c));
        }
        map[cps] = c;
        return map;
    }
}
