package dev.align.datasets;

import dev.align.core.tokenizer.PromptCompletion;

/**
 * One tokenized preference pair: two sequences under the shared convention (prompt + completion + eos),
 * whose prompt ids are the same.
 *
 * @param line the record's line in the file
 * @param margin the record's margin, NaN when it has none
 */
public record PreferencePair(int line, PromptCompletion chosen, PromptCompletion rejected, double margin) {}
