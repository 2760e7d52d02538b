package dev.align.datasets;

import dev.align.core.tokenizer.PromptCompletion;
import dev.align.datasets.format.RankedPair;
import java.util.List;

/**
 * One prompt's ranked responses, each tokenized once (prompt + response + eos), and the ordered pairs
 * among them: the structure a reward model trains on (score each response once, then form every pair
 * from the indices). A preference pair is a group of 2 responses (chosen = 0, rejected = 1) and 1 pair.
 *
 * @param line the record's line in the file
 * @param responses the K sequences
 * @param pairs (better, worse, margin) as indices into {@code responses}
 */
public record RankingGroup(int line, List<PromptCompletion> responses, List<RankedPair> pairs) {}
