package dev.align.datasets;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One tokenized prompt for generation (GRPO, PPO).
 *
 * @param line the record's line in the file
 * @param ids the prompt's tokens (the generation prompt included for conversations)
 * @param text the text that was tokenized (for conversations: the rendered template)
 * @param extra the record's other columns, e.g. {@code {"answer": "8"}} for rule-based rewards
 */
public record PromptExample(int line, long[] ids, String text, ObjectNode extra) {}
