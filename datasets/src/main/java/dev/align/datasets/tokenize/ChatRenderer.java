package dev.align.datasets.tokenize;

import dev.align.core.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;

/**
 * Renders a conversation to text with a chat template, the way the datasets module needs it: the text,
 * and where the template marks assistant output with {@code {% generation %}} blocks, those blocks'
 * char spans.
 *
 * <p>{@link #of(Tokenizer)} adapts the tokenizer's own Jinja template; tests may supply their own.
 */
public interface ChatRenderer {
    /**
     * A rendered conversation.
     *
     * @param text the text (special tokens as text, e.g. {@code <|im_start|>}); tokenized without adding
     *     the post-processor's special tokens, as transformers' {@code apply_chat_template} does
     * @param generationSpans char spans [start, end) of the template's {@code {% generation %}} blocks,
     *     in order; empty when the template has none
     */
    record Rendering(String text, List<int[]> generationSpans) {
        public Rendering {
            generationSpans = List.copyOf(generationSpans);
        }
    }

    /** Renders {@code messages} (maps with at least role and content). */
    Rendering render(List<Map<String, Object>> messages, boolean addGenerationPrompt);

    /** Whether {@link Rendering#generationSpans()} marks the assistant output. */
    boolean hasGenerationTag();

    /** A string that changes whenever the rendering would (part of the tokenization cache key). */
    String id();

    /** The tokenizer's chat template. */
    static ChatRenderer of(Tokenizer tokenizer) {
        return new TemplateRenderer(tokenizer);
    }
}
