package dev.align.datasets.format;

/**
 * {@code {"prompt", "completion"}}, both strings or both message lists. Problems: missing or wrongly
 * typed field, an empty (or whitespace-only) completion, an empty prompt message list, message
 * problems. An empty prompt string is allowed (the completion is then predicted from bos alone).
 */
public final class PromptCompletionFormat {
    private PromptCompletionFormat() {}

    static Sample.PromptCompletion parse(Fields f, boolean conversational) {
        Content p = f.content("prompt", conversational);
        Content c = f.content("completion", conversational);
        if (p != null && conversational && p.isEmpty()) {
            f.problem(f.column("prompt"), "no messages");
        }
        checkCompletion(f, "completion", c);
        return f.bad() ? null : new Sample.PromptCompletion(f.row().origin(), p, c);
    }

    /** Reports an empty completion: "", whitespace only, no messages, or messages with only empty content. */
    static void checkCompletion(Fields f, String field, Content c) {
        if (c == null) {
            return;
        }
        if (!c.conversational()) {
            if (c.text().isBlank()) {
                f.problem(f.column(field), "empty completion");
            }
            return;
        }
        if (c.messages().isEmpty()) {
            f.problem(f.column(field), "empty completion (no messages)");
            return;
        }
        boolean allEmpty = true;
        for (Message m : c.messages()) {
            allEmpty &= m.content().isBlank();
        }
        if (allEmpty) {
            f.problem(f.column(field), "empty completion (every message's content is empty)");
        }
    }
}
