package dev.align.datasets.tokenize;

import dev.align.core.tokenizer.ChatTemplate;
import dev.align.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer's Jinja chat template ({@code core.tokenizer.ChatTemplate}) as a {@link ChatRenderer}.
 *
 * <p>Templates with {@code {% generation %}} blocks report their assistant spans, which become the
 * assistant mask directly; for the others the mask is found by rendering the conversation prefix by
 * prefix ({@link AssistantMask}).
 */
final class TemplateRenderer implements ChatRenderer {
    private final Tokenizer tokenizer;

    TemplateRenderer(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public Rendering render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        ChatTemplate.Rendered r = tokenizer.chatTemplate().render(messages, addGenerationPrompt, Map.of());
        List<int[]> spans = new ArrayList<>();
        for (ChatTemplate.Span s : r.generation()) {
            spans.add(new int[] {s.start(), s.end()});
        }
        return new Rendering(r.text(), spans);
    }

    @Override
    public boolean hasGenerationTag() {
        return tokenizer.chatTemplate().hasGenerationTag();
    }

    @Override
    public String id() {
        String src = tokenizer.chatTemplateSource();
        return "template:" + (src == null ? "none" : Integer.toHexString(src.hashCode()) + ":" + src.length());
    }
}
