package dev.align.datasets;

import dev.align.core.tokenizer.PromptCompletion;

/**
 * One tokenized unpaired-preference example (KTO).
 *
 * @param line the record's line in the file
 * @param label true for a desirable completion
 */
public record UnpairedExample(int line, PromptCompletion seq, boolean label) {}
