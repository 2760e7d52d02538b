package dev.align.datasets;

import dev.align.core.BadInputException;
import dev.align.datasets.format.FieldMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which column holds each field, for files whose columns have other names (null: the field's own name).
 * A record so that configs can set it key by key ({@code dataset_fields: {prompt: question, completion: answer}})
 * and misspelt field names are caught.
 */
public record FieldNames(
        String text,
        String messages,
        String prompt,
        String completion,
        String chosen,
        String rejected,
        String label,
        String responses,
        String ranking,
        String scores,
        String margin,
        String instruction,
        String input,
        String output) {

    /** No renames. */
    public static FieldNames none() {
        return new FieldNames(null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** From field → column pairs; an unknown field name is an error. */
    public static FieldNames of(Map<String, String> m) {
        Map<String, String> f = FieldMap.of(m).asMap();
        return new FieldNames(f.get("text"), f.get("messages"), f.get("prompt"), f.get("completion"), f.get("chosen"),
                f.get("rejected"), f.get("label"), f.get("responses"), f.get("ranking"), f.get("scores"), f.get("margin"),
                f.get("instruction"), f.get("input"), f.get("output"));
    }

    /** The renames, field → column, in {@link FieldMap#FIELDS} order. */
    public Map<String, String> asMap() {
        String[] v = {text, messages, prompt, completion, chosen, rejected, label, responses, ranking, scores, margin,
            instruction, input, output};
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < v.length; i++) {
            if (v[i] != null) {
                if (v[i].isEmpty()) {
                    throw new BadInputException("dataset_fields: " + FieldMap.FIELDS.get(i) + ": empty column name");
                }
                m.put(FieldMap.FIELDS.get(i), v[i]);
            }
        }
        return m;
    }
}
