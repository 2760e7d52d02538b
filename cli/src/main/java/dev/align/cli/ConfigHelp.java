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
            JsonNode n = e.getValue();
            String v = n.isNull() ? "(none)" : n.isObject() ? "{}" : n.isTextual() ? n.asText() : n.toString();
            sb.append(String.format(Locale.ROOT, "  %-28s %s%%n", e.getKey(), v.replace("%", "%%")));
        }
        return sb.toString();
    }
}
