package dev.align.datasets.tokenize;

import dev.align.core.tokenizer.ChatTemplate;
import dev.align.core.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer's Jinja chat template ({@code core.tokenizer.ChatTemplate}) as a {@link ChatRenderer}.
 *
 * <p>It renders through {@link ChatTemplate#render(List, boolean)} and reports no generation spans, so
 * assistant masks are found by rendering the conversation prefix by prefix ({@link AssistantMask}),
 * which works for every template whose rendering of a conversation starts with the rendering of each
 * of its prefixes (ChatML, Llama 3, Mistral, Qwen2 and most others). Templates whose
 * {@code {% generation %}} spans should be used instead are served once {@code ChatTemplate} reports
 * them.
 */
final class TemplateRenderer implements ChatRenderer {
    private final Tokenizer tokenizer;

    TemplateRenderer(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public Rendering render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        return new Rendering(tokenizer.chatTemplate().render(messages, addGenerationPrompt), List.of());
    }

    @Override
    public boolean hasGenerationTag() {
        return false;
    }

    @Override
    public String id() {
        String src = tokenizer.chatTemplateSource();
        return "template:" + (src == null ? "none" : Integer.toHexString(src.hashCode()) + ":" + src.length());
    }
}
