package dev.align.datasets.testing;

import dev.align.datasets.tokenize.ChatRenderer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A test-only ChatML renderer that renders exactly what the llama_gqa reference tokenizer's Jinja
 * template renders ({@code <s>} then {@code <|im_start|>role\ncontent<|im_end|>\n} per message, and
 * {@code <|im_start|>assistant\n} as generation prompt); with {@code generationTag} it also reports the
 * spans of {@code {% generation %}} blocks around each assistant message's content and
 * {@code <|im_end|>}, as the golden file's template places them.
 *
 * <p>Variants for failures: {@link #rewriting()} drops the content of every assistant turn but the
 * last (a template that changes earlier turns), and a message whose content is {@code FAIL} makes it
 * throw, as a template error would.
 */
public final class ChatML implements ChatRenderer {
    private final boolean generationTag;
    private final boolean rewrite;

    private ChatML(boolean generationTag, boolean rewrite) {
        this.generationTag = generationTag;
        this.rewrite = rewrite;
    }

    /** Without generation spans: assistant masks come from prefix rendering. */
    public static ChatML plain() {
        return new ChatML(false, false);
    }

    /** With {@code {% generation %}} spans. */
    public static ChatML withGenerationTag() {
        return new ChatML(true, false);
    }

    /** Rewrites earlier assistant turns (not prefix-consistent). */
    public static ChatML rewriting() {
        return new ChatML(false, true);
    }

    @Override
    public Rendering render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder("<s>");
        List<int[]> spans = new ArrayList<>();
        int lastAssistant = -1;
        for (int i = 0; i < messages.size(); i++) {
            if ("assistant".equals(messages.get(i).get("role"))) {
                lastAssistant = i;
            }
        }
        for (int i = 0; i < messages.size(); i++) {
            Map<String, Object> m = messages.get(i);
            String role = (String) m.get("role");
            String content = (String) m.get("content");
            if ("FAIL".equals(content)) {
                throw new IllegalStateException("template error: cannot render this message");
            }
            if (rewrite && "assistant".equals(role) && i != lastAssistant) {
                content = "";
            }
            sb.append("<|im_start|>").append(role).append('\n');
            int start = sb.length();
            sb.append(content).append("<|im_end|>");
            if ("assistant".equals(role)) {
                spans.add(new int[] {start, sb.length()});
            }
            sb.append('\n');
        }
        if (addGenerationPrompt) {
            sb.append("<|im_start|>assistant\n");
        }
        return new Rendering(sb.toString(), generationTag ? spans : List.of());
    }

    @Override
    public boolean hasGenerationTag() {
        return generationTag;
    }

    @Override
    public String id() {
        return "test-chatml:" + generationTag + ":" + rewrite;
    }
}
