package dev.align.po.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What a reward function sees: N completions, each with its prompt and its record's other columns.
 *
 * @param prompts the prompt texts (for conversations: the rendered chat template, generation prompt
 *     included)
 * @param completions the generated texts (special tokens and eos left out, cut before a stop string)
 * @param completionTokens the completions' lengths in tokens (eos included when generated)
 * @param extras per completion, the prompt record's other columns (e.g. {@code {"answer": "8"}}); an
 *     empty object when there are none
 */
public record RewardBatch(List<String> prompts, List<String> completions, int[] completionTokens,
        List<ObjectNode> extras) {

    public RewardBatch {
        int n = completions.size();
        if (prompts.size() != n || completionTokens.length != n || extras.size() != n) {
            throw new IllegalArgumentException("a reward batch needs one prompt, token count and extra per completion: "
                    + prompts.size() + ", " + completionTokens.length + ", " + extras.size() + " for " + n);
        }
    }

    /** Number of completions. */
    public int size() {
        return completions.size();
    }

    /** Completion i's extra column {@code name} as text, or null when the record has none. */
    public String field(int i, String name) {
        JsonNode v = extras.get(i).get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        return v.isTextual() ? v.asText() : v.toString();
    }
}
