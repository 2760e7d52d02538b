package dev.align.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a run stands, saved in every checkpoint as {@code training_state/trainer_state.json} and read
 * back by {@code --resume} (the optimizer's moments are saved beside it by {@link AdamW#save}).
 *
 * @param globalStep optimizer steps done (skipped non-finite steps included)
 * @param epoch fractional epoch, as transformers logs it ({@code epoch + (step + 1) / steps_per_epoch})
 * @param schedulerStep the learning-rate schedule's position: updates applied ({@link AdamW#updates()})
 * @param dataLoader the recipe's data-loader state, opaque here (e.g. {@code {"epoch": 1, "index": 96}})
 * @param rng the recipe's random stream (seed and position)
 * @param torchSeed the seed libtorch was last given ({@link Rng#seedTorch}); -1 if never
 * @param nanSkipped steps skipped by {@link NanGuard} so far
 * @param tokensSeen tokens processed so far (for tokens/s and logs)
 * @param extra anything else the recipe must restore (e.g. an adaptive KL coefficient), or null
 */
public record TrainingState(long globalStep, double epoch, long schedulerStep, JsonNode dataLoader, Rng rng,
        long torchSeed, long nanSkipped, long tokensSeen, JsonNode extra) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The file name inside {@code training_state/}. */
    public static final String FILE = "trainer_state.json";
    /** Format version written to the file. */
    public static final int VERSION = 1;

    public TrainingState {
        if (rng == null) {
            throw new IllegalArgumentException("a training state needs its rng");
        }
        rng = Rng.at(rng.seed(), rng.position()); // a snapshot: the recipe's stream moves on
    }

    /** A copy of the saved stream, positioned where the run stood (drawing from it leaves this state alone). */
    @Override
    public Rng rng() {
        return Rng.at(rng.seed(), rng.position());
    }

    /** The state before the first step of a run seeded with {@code seed}. */
    public static TrainingState start(long seed) {
        return new TrainingState(0, 0.0, 0, NullNode.getInstance(), new Rng(seed), -1, 0, 0, NullNode.getInstance());
    }

    /** The state as JSON. */
    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("version", VERSION);
        n.put("global_step", globalStep);
        n.put("epoch", epoch);
        n.put("scheduler_step", schedulerStep);
        n.set("data_loader", dataLoader == null ? NullNode.getInstance() : dataLoader);
        n.set("rng", rng.toJson());
        n.put("torch_seed", torchSeed);
        n.put("nan_skipped", nanSkipped);
        n.put("tokens_seen", tokensSeen);
        n.set("extra", extra == null ? NullNode.getInstance() : extra);
        return n;
    }

    /** Writes {@code dir/trainer_state.json} atomically. */
    public void write(Path dir) {
        Path f = dir.resolve(FILE);
        try {
            AtomicFiles.writeString(f, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n");
        } catch (IOException e) {
            throw new AlignException(f + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Reads {@code dir/trainer_state.json}; a missing or malformed field is an error naming it. */
    public static TrainingState read(Path dir) {
        Path f = dir.resolve(FILE);
        JsonNode n;
        try {
            n = JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new AlignException(f + ": cannot read training state: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new AlignException(f + ": not a JSON object");
        }
        if (n.path("version").asInt(-1) != VERSION) {
            throw new AlignException(f + ": version: expected " + VERSION + ", found " + n.get("version"));
        }
        Rng rng;
        try {
            rng = Rng.fromJson(n.get("rng"));
        } catch (IllegalArgumentException e) {
            throw new AlignException(f + ": rng: " + e.getMessage());
        }
        return new TrainingState(
                longField(f, n, "global_step"),
                doubleField(f, n, "epoch"),
                longField(f, n, "scheduler_step"),
                n.path("data_loader").isMissingNode() ? NullNode.getInstance() : n.get("data_loader"),
                rng,
                longField(f, n, "torch_seed"),
                longField(f, n, "nan_skipped"),
                longField(f, n, "tokens_seen"),
                n.path("extra").isMissingNode() ? NullNode.getInstance() : n.get("extra"));
    }

    private static long longField(Path f, JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToLong() || !v.isIntegralNumber()) {
            throw new AlignException(f + ": " + field + ": expected an integer, found " + v);
        }
        return v.asLong();
    }

    private static double doubleField(Path f, JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isNumber()) {
            throw new AlignException(f + ": " + field + ": expected a number, found " + v);
        }
        return v.asDouble();
    }
}
