package dev.align.datasets.format;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code {"prompt", ...}}: prompts for generation (GRPO, PPO). Every other column is kept as
 * {@code extra} for reward functions (e.g. {@code "answer"}). Problems: missing, wrongly typed or empty
 * prompt, message problems.
 */
public final class PromptOnlyFormat {
    private PromptOnlyFormat() {}

    static Sample.Prompt parse(Fields f, boolean conversational) {
        Content p = f.content("prompt", conversational);
        if (p != null && (conversational ? p.isEmpty() : p.text().isBlank())) {
            f.problem(f.column("prompt"), conversational ? "no messages" : "empty prompt");
        }
        if (f.bad()) {
            return null;
        }
        ObjectNode extra = f.row().json().deepCopy();
        extra.remove(f.column("prompt"));
        return new Sample.Prompt(f.row().origin(), p, extra);
    }
}
