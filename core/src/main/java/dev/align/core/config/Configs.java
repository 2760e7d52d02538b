package dev.align.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Binds run configurations: Java records with snake_case keys, filled from defaults, then a YAML file,
 * then {@code key=value} overrides from the command line (the command line wins). Unknown keys and
 * wrongly typed values are errors that name the source and the key; the resolved config is written
 * into every run's output directory.
 */
public final class Configs {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private Configs() {}

    /**
     * Resolves a config of {@code type}.
     *
     * @param defaults the defaults (every key present)
     * @param file a YAML file or null
     * @param overrides {@code key=value} strings (values parsed as YAML scalars or flow lists)
     */
    public static <T> T load(Class<T> type, T defaults, Path file, List<String> overrides) {
        ObjectNode tree = YAML.valueToTree(defaults);
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new BadInputException(file + ": config file not found");
            }
            JsonNode f;
            try {
                f = YAML.readTree(file.toFile());
            } catch (IOException e) {
                throw new BadInputException(file + ": not valid YAML: " + e.getMessage());
            }
            if (f != null && !f.isMissingNode() && !f.isNull()) {
                if (!f.isObject()) {
                    throw new BadInputException(file + ": expected a mapping of keys to values");
                }
                merge(tree, (ObjectNode) f, file.toString(), tree);
            }
        }
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new BadInputException("command line: '" + o + "' is not key=value");
            }
            String key = o.substring(0, eq).trim();
            String raw = o.substring(eq + 1);
            JsonNode value;
            try {
                value = raw.isEmpty() ? YAML.getNodeFactory().textNode("") : YAML.readTree(raw);
            } catch (JsonProcessingException e) {
                value = YAML.getNodeFactory().textNode(raw);
            }
            if (value == null || value.isMissingNode()) {
                value = YAML.getNodeFactory().nullNode();
            }
            ObjectNode target = tree;
            String[] parts = key.split("\\.");
            for (int i = 0; i < parts.length - 1; i++) {
                JsonNode child = target.get(parts[i]);
                if (child == null || !child.isObject()) {
                    throw unknown("command line", key, target.fieldNames());
                }
                target = (ObjectNode) child;
            }
            String leaf = parts[parts.length - 1];
            if (!target.has(leaf)) {
                throw unknown("command line", key, target.fieldNames());
            }
            target.set(leaf, value);
        }
        return bind(tree, type, file != null ? file.toString() : "command line");
    }

    /** Binds {@code tree} to {@code type}; every binding error is a {@link BadInputException} naming the key. */
    private static <T> T bind(ObjectNode tree, Class<T> type, String source) {
        try {
            return YAML.treeToValue(tree, type);
        } catch (UnrecognizedPropertyException e) {
            throw unknown(source, e.getPropertyName(), tree.fieldNames());
        } catch (InvalidFormatException e) {
            throw new BadInputException(source + ": key '" + path(e) + "': cannot use '" + e.getValue() + "' as "
                    + e.getTargetType().getSimpleName().toLowerCase());
        } catch (MismatchedInputException e) {
            throw new BadInputException(source + ": key '" + path(e) + "': " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new BadInputException(source + ": " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new BadInputException(source + ": " + c.getMessage());
        }
    }

    /**
     * Several config records bound from ONE flat namespace (e.g. the shared training arguments and a
     * method's own arguments, as TRL's DPOConfig extends TrainingArguments): defaults of all records are
     * merged (their keys must not collide), then the file and the overrides are applied with unknown
     * keys checked against the union, then each record takes its own keys.
     */
    public static Resolved loadAll(Path file, List<String> overrides, Object... defaults) {
        ObjectNode merged = YAML.createObjectNode();
        for (Object d : defaults) {
            ObjectNode t = YAML.valueToTree(d);
            t.fieldNames().forEachRemaining(k -> {
                if (merged.has(k)) {
                    throw new IllegalArgumentException("config key '" + k + "' defined twice");
                }
            });
            merged.setAll(t);
        }
        ObjectNode resolved = load(ObjectNode.class, merged, file, overrides);
        java.util.Map<Class<?>, Object> out = new java.util.LinkedHashMap<>();
        String source = file != null ? file.toString() : "command line";
        for (Object d : defaults) {
            ObjectNode own = YAML.createObjectNode();
            YAML.valueToTree(d).fieldNames().forEachRemaining(k -> own.set(k, resolved.get(k)));
            out.put(d.getClass(), bind(own, d.getClass(), source));
        }
        return new Resolved(resolved, out);
    }

    /**
     * Records bound by {@link #loadAll}, and the flat tree they came from (what a run writes out).
     *
     * @param tree the resolved flat key/value tree
     * @param records each record by its class
     */
    public record Resolved(ObjectNode tree, java.util.Map<Class<?>, Object> records) {
        /** The record of {@code type}. */
        public <T> T get(Class<T> type) {
            return type.cast(records.get(type));
        }

        /** The resolved config as YAML. */
        public String yaml() {
            return toYaml(tree);
        }
    }

    private static String path(MismatchedInputException e) {
        return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    private static void merge(ObjectNode into, ObjectNode from, String source, ObjectNode scope) {
        for (Iterator<Map.Entry<String, JsonNode>> it = from.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode existing = into.get(e.getKey());
            if (existing == null) {
                throw unknown(source, e.getKey(), into.fieldNames());
            }
            if (existing.isObject() && e.getValue().isObject()) {
                merge((ObjectNode) existing, (ObjectNode) e.getValue(), source, scope);
            } else {
                into.set(e.getKey(), e.getValue());
            }
        }
    }

    private static BadInputException unknown(String source, String key, Iterator<String> known) {
        List<String> keys = new ArrayList<>();
        known.forEachRemaining(keys::add);
        String best = closest(key.substring(key.lastIndexOf('.') + 1), keys);
        return new BadInputException(source + ": unknown key '" + key + "'"
                + (best != null ? " (did you mean '" + best + "'?)" : "")
                + "; known keys: " + String.join(", ", keys));
    }

    private static String closest(String key, Collection<String> keys) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String k : keys) {
            int d = distance(key, k);
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return bestD <= Math.max(2, key.length() / 3) ? best : null;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** The config as YAML text (snake_case keys). */
    public static String toYaml(Object config) {
        try {
            return YAML.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new AlignException("cannot write config: " + e.getMessage(), e);
        }
    }

    /** The config as a JSON tree (snake_case keys). */
    public static ObjectNode toTree(Object config) {
        return YAML.valueToTree(config);
    }

    /** Writes the resolved config as YAML, atomically. */
    public static void write(Object config, Path file) {
        AtomicFiles.writeString(file, toYaml(config));
    }
}
