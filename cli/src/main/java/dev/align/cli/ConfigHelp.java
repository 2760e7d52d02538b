package dev.align.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.config.Configs;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/** Help text for training commands, generated from their config records. */
final class ConfigHelp {
    private ConfigHelp() {}

    /** A help section (picocli format string): every key of {@code defaults} (a config record) with its default. */
    static String keys(String title, Object defaults) {
        ObjectNode tree = Configs.toTree(defaults);
        StringBuilder sb = new StringBuilder("%n").append(title).append(":%n");
        for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            sb.append(String.format(Locale.ROOT, "  %-28s %s%%n", e.getKey(), show(e.getValue()).replace("%", "%%")));
        }
        return sb.toString();
    }

    /** The help footer: every key and its default, by group, generated from the config records. */
    static String recordKeys(Object... defaults) {
        StringBuilder sb = new StringBuilder("%nKeys (defaults; set in the config file or as key=value):%n");
        for (Object d : defaults) {
            sb.append("  ").append(d.getClass().getSimpleName()).append(":%n");
            ObjectNode t = Configs.toTree(d);
            t.fields().forEachRemaining(e -> sb.append("    ").append(e.getKey()).append(" = ")
                    .append(show(e.getValue()).replace("%", "%%")).append("%n"));
        }
        return sb.toString();
    }

    /** A default as help shows it: (none) for null or an object of nulls, text unquoted, else JSON. */
    private static String show(JsonNode v) {
        if (v.isNull() || (v.isObject() && !v.elements().hasNext())) {
            return "(none)";
        }
        if (v.isObject()) {
            boolean allNull = true;
            for (JsonNode e : v) {
                allNull &= e.isNull();
            }
            if (allNull) {
                return "(none)";
            }
        }
        return v.isTextual() ? v.asText() : v.toString();
    }
}
