package dev.align.datasets.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.datasets.read.RecordSource;
import dev.align.datasets.read.Row;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Typed access to one row's fields, through the field map, that reports every problem as
 * {@code FILE:LINE: column: reason} and remembers that the row is bad. CSV rows hold only strings:
 * lists (messages, responses, rankings) are read from JSON text in the cell, booleans from
 * {@code true}/{@code false}, numbers from their decimal text.
 */
final class Fields {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Row row;
    private final FieldMap map;
    private final Consumer<String> problems;
    private boolean bad;

    Fields(Row row, FieldMap map, Consumer<String> problems) {
        this.row = row;
        this.map = map;
        this.problems = problems;
    }

    Row row() {
        return row;
    }

    boolean bad() {
        return bad;
    }

    String column(String field) {
        return map.column(field);
    }

    /** Whether the row has the column of {@code field} (with a non-null value). */
    boolean has(String field) {
        JsonNode n = row.json().get(map.column(field));
        return n != null && !n.isNull();
    }

    /** Records a problem at {@code path} (a column name, possibly with an index: {@code messages[2].role}). */
    void problem(String path, String reason) {
        bad = true;
        problems.accept(row.origin().problem(path, reason));
    }

    private JsonNode node(String field) {
        JsonNode n = row.json().get(map.column(field));
        if (n == null || n.isNull()) {
            problem(map.column(field), n == null ? "missing field" : "is null");
            return null;
        }
        return n;
    }

    /** A required string. */
    String string(String field) {
        JsonNode n = node(field);
        if (n == null) {
            return null;
        }
        if (!n.isTextual()) {
            problem(map.column(field), "expected a string, got " + RecordSource.kind(n));
            return null;
        }
        return n.asText();
    }

    /** An optional string (null if absent). */
    String optionalString(String field) {
        JsonNode n = row.json().get(map.column(field));
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            problem(map.column(field), "expected a string, got " + RecordSource.kind(n));
            return null;
        }
        return n.asText();
    }

    /** Whether {@code field} holds a message list (a JSON array, or in CSV a cell of JSON array text). */
    boolean looksConversational(String field) {
        JsonNode n = row.json().get(map.column(field));
        if (n == null) {
            return false;
        }
        if (n.isArray()) {
            return true;
        }
        if (!row.textual() || !n.isTextual()) {
            return false;
        }
        JsonNode arr = parseArray(n.asText());
        return arr != null && arr.size() > 0 && arr.get(0).isObject();
    }

    private static JsonNode parseArray(String s) {
        String t = s.trim();
        if (!t.startsWith("[")) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(t);
            return n != null && n.isArray() ? n : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** The node of a list field, reading JSON text in CSV cells; reports and returns null when it is not a list. */
    private JsonNode list(String field, String what) {
        JsonNode n = node(field);
        if (n == null) {
            return null;
        }
        if (row.textual() && n.isTextual()) {
            String t = n.asText().trim();
            try {
                n = JSON.readTree(t);
            } catch (JsonProcessingException e) {
                problem(map.column(field), "expected " + what + " as JSON text in the cell: " + e.getOriginalMessage());
                return null;
            }
            if (n == null) {
                problem(map.column(field), "expected " + what + ", got an empty cell");
                return null;
            }
        }
        if (!n.isArray()) {
            problem(map.column(field), "expected " + what + ", got " + RecordSource.kind(n));
            return null;
        }
        return n;
    }

    /**
     * A text or a message list.
     *
     * @param conversational what the file holds (from its first record): true for message lists,
     *     false for text
     */
    Content content(String field, boolean conversational) {
        return conversational ? messages(field, map.column(field)) : textContent(field);
    }

    private Content textContent(String field) {
        JsonNode n = node(field);
        if (n == null) {
            return null;
        }
        if (!n.isTextual()) {
            problem(map.column(field), "expected a string (the file's first record has text here), got "
                    + RecordSource.kind(n));
            return null;
        }
        return Content.of(n.asText());
    }

    private Content messages(String field, String path) {
        JsonNode n = row.json().get(map.column(field));
        if (n != null && n.isTextual() && !row.textual()) {
            problem(path, "expected a list of messages (the file's first record has messages here), got string");
            return null;
        }
        JsonNode arr = list(field, "a list of messages");
        return arr == null ? null : messagesOf(arr, path);
    }

    /** Parses a JSON array of messages; every problem names {@code path[i].key}. */
    Content messagesOf(JsonNode arr, String path) {
        List<Message> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < arr.size(); i++) {
            JsonNode m = arr.get(i);
            String at = path + "[" + i + "]";
            if (!m.isObject()) {
                problem(at, "expected a message object {\"role\", \"content\"}, got " + RecordSource.kind(m));
                ok = false;
                continue;
            }
            JsonNode role = m.get("role");
            JsonNode content = m.get("content");
            if (role == null || role.isNull()) {
                problem(at + ".role", "missing field");
                ok = false;
            } else if (!role.isTextual()) {
                problem(at + ".role", "expected a string, got " + RecordSource.kind(role));
                ok = false;
            } else if (!Message.ROLES.contains(role.asText())) {
                problem(at + ".role", "unknown role '" + role.asText() + "' (expected one of "
                        + String.join(", ", new TreeSet<>(Message.ROLES)) + ")");
                ok = false;
            }
            if (content == null || content.isNull()) {
                problem(at + ".content", "missing field");
                ok = false;
            } else if (!content.isTextual()) {
                problem(at + ".content", "expected a string, got " + RecordSource.kind(content));
                ok = false;
            }
            if (ok) {
                Map<String, Object> fields = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : m.properties()) {
                    fields.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
                }
                out.add(new Message(role.asText(), content.asText(), fields));
            }
        }
        return ok ? Content.of(out) : null;
    }

    /** A list of texts or of message lists (ranking responses). */
    List<Content> contents(String field, boolean conversational) {
        JsonNode arr = list(field, conversational ? "a list of responses (each a list of messages)"
                : "a list of responses (strings)");
        if (arr == null) {
            return null;
        }
        List<Content> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < arr.size(); i++) {
            JsonNode r = arr.get(i);
            String at = map.column(field) + "[" + i + "]";
            if (conversational) {
                if (!r.isArray()) {
                    problem(at, "expected a list of messages, got " + RecordSource.kind(r));
                    ok = false;
                    continue;
                }
                Content c = messagesOf(r, at);
                if (c == null) {
                    ok = false;
                } else {
                    out.add(c);
                }
            } else {
                if (!r.isTextual()) {
                    problem(at, "expected a string, got " + RecordSource.kind(r));
                    ok = false;
                    continue;
                }
                out.add(Content.of(r.asText()));
            }
        }
        return ok ? out : null;
    }

    /** A list of integers. */
    int[] ints(String field) {
        JsonNode arr = list(field, "a list of integers");
        if (arr == null) {
            return null;
        }
        int[] out = new int[arr.size()];
        for (int i = 0; i < arr.size(); i++) {
            JsonNode v = arr.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                problem(map.column(field) + "[" + i + "]", "expected an integer, got " + RecordSource.kind(v)
                        + (v.isNumber() ? " " + v.asText() : ""));
                return null;
            }
            out[i] = v.asInt();
        }
        return out;
    }

    /** A list of finite numbers. */
    double[] doubles(String field) {
        JsonNode arr = list(field, "a list of numbers");
        if (arr == null) {
            return null;
        }
        double[] out = new double[arr.size()];
        for (int i = 0; i < arr.size(); i++) {
            JsonNode v = arr.get(i);
            if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
                problem(map.column(field) + "[" + i + "]", "expected a finite number, got " + RecordSource.kind(v));
                return null;
            }
            out[i] = v.asDouble();
        }
        return out;
    }

    /** A required boolean ({@code true}/{@code false}; in CSV also {@code 1}/{@code 0}). */
    Boolean bool(String field) {
        JsonNode n = node(field);
        if (n == null) {
            return null;
        }
        if (n.isBoolean()) {
            return n.asBoolean();
        }
        if (row.textual() && n.isTextual()) {
            switch (n.asText().trim().toLowerCase(Locale.ROOT)) {
                case "true", "1":
                    return true;
                case "false", "0":
                    return false;
                default:
                    break;
            }
        }
        problem(map.column(field), "expected true or false, got " + RecordSource.kind(n)
                + (n.isValueNode() ? " " + n.toString() : ""));
        return null;
    }

    /** An optional finite number (NaN if absent). */
    double optionalNumber(String field) {
        JsonNode n = row.json().get(map.column(field));
        if (n == null || n.isNull() || (row.textual() && n.asText().isBlank())) {
            return Double.NaN;
        }
        if (row.textual() && n.isTextual()) {
            try {
                double d = Double.parseDouble(n.asText().trim());
                if (Double.isFinite(d)) {
                    return d;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        } else if (n.isNumber() && Double.isFinite(n.asDouble())) {
            return n.asDouble();
        }
        problem(map.column(field), "expected a finite number, got " + RecordSource.kind(n)
                + (n.isValueNode() ? " " + n.toString() : ""));
        return Double.NaN;
    }
}
