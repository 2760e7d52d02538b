package dev.align.datasets.format;

import dev.align.core.BadInputException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which column of the file holds each field the formats know, e.g. {@code prompt → question},
 * {@code completion → answer}. Unmapped fields are read from the column of their own name.
 */
public final class FieldMap {
    /** The field names the formats read. */
    public static final List<String> FIELDS = List.of("text", "messages", "prompt", "completion", "chosen",
            "rejected", "label", "responses", "ranking", "scores", "margin", "instruction", "input", "output");

    private final Map<String, String> columns;

    private FieldMap(Map<String, String> columns) {
        this.columns = columns;
    }

    /** The identity mapping. */
    public static FieldMap identity() {
        return new FieldMap(Map.of());
    }

    /** A mapping from field name to column name; unknown field names are an error. */
    public static FieldMap of(Map<String, String> fieldToColumn) {
        Map<String, String> m = new TreeMap<>();
        if (fieldToColumn != null) {
            for (Map.Entry<String, String> e : fieldToColumn.entrySet()) {
                if (!FIELDS.contains(e.getKey())) {
                    throw new BadInputException("dataset_fields: unknown field '" + e.getKey() + "' (expected one of "
                            + String.join(", ", FIELDS) + ")");
                }
                if (e.getValue() == null || e.getValue().isEmpty()) {
                    throw new BadInputException("dataset_fields: " + e.getKey() + ": empty column name");
                }
                m.put(e.getKey(), e.getValue());
            }
        }
        return new FieldMap(Map.copyOf(m));
    }

    /** The column that holds {@code field}. */
    public String column(String field) {
        return columns.getOrDefault(field, field);
    }

    /** The explicit mappings (field → column), sorted by field. */
    public Map<String, String> asMap() {
        return new TreeMap<>(columns);
    }
}
