package dev.align.core.tokenizer;

import dev.align.core.AlignException;
import java.util.List;
import java.util.Map;

/**
 * A tokenizer's Jinja chat template. (Placeholder body replaced by the Jinjava implementation.)
 */
public final class ChatTemplate {
    private final String source;
    private final Tokenizer tokenizer;

    ChatTemplate(String source, Tokenizer tokenizer) {
        this.source = source;
        this.tokenizer = tokenizer;
    }

    /** Renders {@code messages} (each a map with role and content). */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        throw new AlignException("chat templates are not implemented yet");
    }
}
