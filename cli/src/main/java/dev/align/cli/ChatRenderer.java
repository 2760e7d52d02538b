package dev.align.cli;

import dev.align.core.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;

/** Renders a conversation to prompt text: the tokenizer's chat template, or a stand-in in tests. */
@FunctionalInterface
interface ChatRenderer {
    String render(List<Map<String, Object>> messages, boolean addGenerationPrompt);

    /** The tokenizer's own Jinja chat template. */
    static ChatRenderer of(Tokenizer tok) {
        return (messages, addGenerationPrompt) -> tok.chatTemplate().render(messages, addGenerationPrompt);
    }
}
