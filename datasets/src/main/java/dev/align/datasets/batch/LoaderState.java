package dev.align.datasets.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.BadInputException;

/**
 * Where a {@link DataLoader} is: enough to continue with exactly the batches an uninterrupted run
 * would have seen. Serialises to a small JSON object for checkpoints:
 * {@code {"seed": 42, "epoch": 1, "offset": 17, "rng": "9e3779b97f4a7c15"}}.
 *
 * @param seed the loader's seed (checked on restore)
 * @param epoch the current epoch (0-based)
 * @param offset batches of this epoch already handed out
 * @param rng the random state at the start of this epoch (the epoch's order is rebuilt from it)
 */
public record LoaderState(long seed, int epoch, int offset, long rng) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The JSON object. */
    public ObjectNode toJsonNode() {
        ObjectNode n = JSON.createObjectNode();
        n.put("seed", seed);
        n.put("epoch", epoch);
        n.put("offset", offset);
        n.put("rng", Long.toHexString(rng));
        return n;
    }

    /** The JSON text. */
    public String toJson() {
        return toJsonNode().toString();
    }

    /** Parses what {@link #toJsonNode} wrote; errors name the source. */
    public static LoaderState fromJson(JsonNode n, String source) {
        if (n == null || !n.isObject() || !n.path("seed").isIntegralNumber() || !n.path("epoch").isInt()
                || !n.path("offset").isInt() || !n.path("rng").isTextual()) {
            throw new BadInputException(source + ": data loader state: expected {\"seed\", \"epoch\", \"offset\", \"rng\"}, got "
                    + n);
        }
        long rng;
        try {
            rng = Long.parseUnsignedLong(n.get("rng").asText(), 16);
        } catch (NumberFormatException e) {
            throw new BadInputException(source + ": data loader state: rng: not a hex number");
        }
        return new LoaderState(n.get("seed").asLong(), n.get("epoch").asInt(), n.get("offset").asInt(), rng);
    }

    /** Parses JSON text. */
    public static LoaderState fromJson(String json, String source) {
        try {
            return fromJson(JSON.readTree(json), source);
        } catch (JsonProcessingException e) {
            throw new BadInputException(source + ": data loader state: malformed JSON: " + e.getOriginalMessage());
        }
    }
}
