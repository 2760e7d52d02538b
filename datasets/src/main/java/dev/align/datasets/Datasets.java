package dev.align.datasets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.io.AtomicFiles;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.format.Format;
import dev.align.datasets.read.RecordSource;
import dev.align.datasets.store.CacheKey;
import dev.align.datasets.store.ExampleStore;
import dev.align.datasets.tokenize.ChatRenderer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: a user's data file → a validated, tokenized dataset, or a {@link BadInputException}
 * listing every bad record as {@code FILE:LINE: field: reason}. Every training command calls
 * {@link #load} before it loads a model; {@code align data check} calls {@link #check}.
 *
 * <p>The file is streamed once (records are validated and tokenized one at a time and written to disk),
 * so files larger than memory work. With caching on, the tokenized result is kept under
 * {@link DataSettings#cachePath()} keyed by {@link CacheKey} and a second load reads it back without
 * tokenizing.
 */
public final class Datasets {
    private static final Logger LOG = LoggerFactory.getLogger(Datasets.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<Path> PAD_WARNED = ConcurrentHashMap.newKeySet();

    private Datasets() {}

    /** Loads with the tokenizer's own chat template. */
    public static TokenizedDataset load(Path file, DataSettings settings, Tokenizer tok) {
        return load(file, settings, tok, null);
    }

    /**
     * Reads, validates and tokenizes {@code file} (or reads the cached result).
     *
     * @param renderer the chat renderer for conversations; null for the tokenizer's template
     * @throws BadInputException listing every problem, when any record is bad and
     *     {@code skip_bad_records} is off, or when no record is usable
     */
    public static TokenizedDataset load(Path file, DataSettings settings, Tokenizer tok, ChatRenderer renderer) {
        settings.validate();
        requireFile(file);
        ChatRenderer r = renderer != null ? renderer : ChatRenderer.of(tok);
        if (!settings.cache()) {
            Path tmp;
            try {
                tmp = Files.createTempFile("align-data-", ".alds");
            } catch (IOException e) {
                throw new AlignException("cannot create a temporary file: " + e.getMessage(), e);
            }
            tmp.toFile().deleteOnExit();
            DataReport rep = build(file, settings, tok, r, renderer != null, tmp);
            return open(tmp, rep, true);
        }
        Path dir = settings.cachePath();
        String key = CacheKey.of(file, tok.dir(), settings.tokenizationKey(), r.id());
        Path cached = dir.resolve(key + ".alds");
        if (Files.isRegularFile(cached)) {
            try {
                return open(cached, null, false);
            } catch (AlignException e) {
                LOG.warn("{}: unreadable cache entry, tokenizing again ({})", cached, e.getMessage());
                deleteQuietly(cached);
            }
        }
        Path tmp = dir.resolve("." + key + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
        DataReport rep = build(file, settings, tok, r, renderer != null, tmp);
        try {
            AtomicFiles.move(tmp, cached);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new AlignException(cached + ": cannot write the tokenization cache: " + e.getMessage(), e);
        }
        return open(cached, rep, false);
    }

    /**
     * Reads and validates the whole file as {@link #load} does, keeping nothing: the report of counts,
     * lengths, truncation and every problem. Bad records never throw; a file that cannot be read at all
     * (not found, unknown format, no chat template for conversations) does.
     */
    public static DataReport check(Path file, DataSettings settings, Tokenizer tok, ChatRenderer renderer) {
        DataSettings s = settings.withSkipBadRecords(true).validate();
        requireFile(file);
        ChatRenderer r = renderer != null ? renderer : ChatRenderer.of(tok);
        Pipeline p = new Pipeline(file, s, tok, r, renderer != null, null);
        RecordSource.read(file, p::row, p::readerProblem);
        return p.report();
    }

    /**
     * The padding id: the tokenizer's pad token, else its eos token (said once per tokenizer, as a
     * warning), else 0 (also said). Padding is never attended to and never takes loss, so its value
     * does not change results.
     */
    public static long padId(Tokenizer tok) {
        Integer pad = tok.padId();
        if (pad != null) {
            return pad;
        }
        Integer eos = tok.eosId();
        if (PAD_WARNED.add(tok.dir().toAbsolutePath())) {
            if (eos != null) {
                LOG.warn("{}: the tokenizer has no pad_token; padding with the eos token {} (id {})", tok.dir(),
                        tok.eosToken(), eos);
            } else {
                LOG.warn("{}: the tokenizer has neither pad_token nor eos_token; padding with id 0", tok.dir());
            }
        }
        return eos != null ? eos : 0;
    }

    /**
     * {@link #load(Path, DataSettings, Tokenizer)}, then {@link #requireKind}: the file must hold one of
     * {@code kinds} (closed again when it does not).
     *
     * @param command what needs the data, for the message
     */
    public static TokenizedDataset load(Path file, DataSettings settings, Tokenizer tok, String command,
            Format.Kind... kinds) {
        TokenizedDataset ds = load(file, settings, tok);
        try {
            return requireKind(ds, command, kinds);
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
    }

    /**
     * Fails, naming the key and the file, when an example of {@code ds} is longer than the model's
     * {@code max_position_embeddings}: it would fail inside the forward, after the long work has started.
     *
     * @param ds the data, or null (passes)
     * @param maxPositions the model's positions; 0 or less: no limit
     * @param key the config key that named the file ({@code train_file}, {@code eval_file})
     */
    public static void requireFits(TokenizedDataset ds, int maxPositions, String key) {
        if (ds == null || maxPositions <= 0) {
            return;
        }
        int longest = ds.longest();
        if (longest > maxPositions) {
            throw new BadInputException(key + ": " + ds.report().file() + ": the longest sequence has " + longest
                    + " tokens, more than the model's max_position_embeddings " + maxPositions + " (set max_length)");
        }
    }

    /** Fails, naming the file and the formats that would do, unless {@code ds} is of one of {@code kinds}. */
    public static TokenizedDataset requireKind(TokenizedDataset ds, String command, Format.Kind... kinds) {
        for (Format.Kind k : kinds) {
            if (ds.kind() == k) {
                return ds;
            }
        }
        List<String> ok = new ArrayList<>();
        for (Format f : Format.values()) {
            if (Arrays.asList(kinds).contains(f.kind())) {
                ok.add(f.id());
            }
        }
        throw new BadInputException(ds.report().file() + ": " + command + " needs " + String.join(" or ", ok)
                + " data; this file is " + ds.format().id());
    }

    private static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(file + ": file not found");
        }
    }

    private static DataReport build(Path file, DataSettings s, Tokenizer tok, ChatRenderer r, boolean rendererGiven,
            Path out) {
        boolean ok = false;
        try (ExampleStore.Writer w = ExampleStore.create(out)) {
            Pipeline p = new Pipeline(file, s, tok, r, rendererGiven, w);
            RecordSource.read(file, p::row, p::readerProblem);
            DataReport rep = p.report();
            if (rep.records() == 0) {
                throw new BadInputException(file + ": no records");
            }
            if (rep.badRecords() > 0 && !s.skipBadRecords()) {
                List<String> all = new ArrayList<>(rep.problems());
                all.add(file + ": " + rep.badRecords() + " of " + rep.records()
                        + " records are bad (fix them, or skip them with --skip-bad-records / skip_bad_records: true)");
                throw new BadInputException(all);
            }
            if (rep.examples() == 0) {
                throw new BadInputException(file + ": no usable records (" + rep.badRecords() + " bad, "
                        + rep.droppedTotal() + " dropped at max_length " + rep.maxLength() + ")");
            }
            ObjectNode meta = JSON.createObjectNode();
            meta.put("version", CacheKey.VERSION);
            meta.put("format", p.detected().format().id());
            meta.put("conversational", p.detected().conversational());
            meta.set("report", JSON.valueToTree(rep));
            w.finish(meta.toString());
            if (rep.badRecords() > 0) {
                LOG.warn("{}: skipped {} bad records of {}", file, rep.badRecords(), rep.records());
            }
            ok = true;
            return rep;
        } finally {
            if (!ok) {
                deleteQuietly(out);
            }
        }
    }

    private static TokenizedDataset open(Path storeFile, DataReport fresh, boolean deleteOnClose) {
        ExampleStore store = ExampleStore.open(storeFile);
        try {
            JsonNode meta = JSON.readTree(store.meta());
            if (meta.path("version").asInt() != CacheKey.VERSION) {
                throw new AlignException(storeFile + ": tokenized data of another version");
            }
            Format format = Format.parse(meta.path("format").asText());
            DataReport rep = fresh != null ? fresh : JSON.treeToValue(meta.get("report"), DataReport.class).fromCache(true);
            return new TokenizedDataset(store, format, meta.path("conversational").asBoolean(), rep, deleteOnClose);
        } catch (JsonProcessingException | RuntimeException e) {
            store.close();
            throw e instanceof AlignException a ? a
                    : new AlignException(storeFile + ": unreadable metadata: " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
