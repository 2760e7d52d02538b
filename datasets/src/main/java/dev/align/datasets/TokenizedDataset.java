package dev.align.datasets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.data.TokenRows.Piece;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.datasets.format.Format;
import dev.align.datasets.format.RankedPair;
import dev.align.datasets.store.ExampleStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated, tokenized data file. Examples stay on disk ({@link ExampleStore}) and are read by index;
 * the typed view that fits the format's {@link Format.Kind} gives them as records.
 */
public final class TokenizedDataset implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ExampleStore store;
    private final Format format;
    private final boolean conversational;
    private final DataReport report;
    private final boolean deleteOnClose;

    TokenizedDataset(ExampleStore store, Format format, boolean conversational, DataReport report, boolean deleteOnClose) {
        this.store = store;
        this.format = format;
        this.conversational = conversational;
        this.report = report;
        this.deleteOnClose = deleteOnClose;
    }

    public Format format() {
        return format;
    }

    public Format.Kind kind() {
        return format.kind();
    }

    public boolean conversational() {
        return conversational;
    }

    /** What loading found: counts, problems (when bad records were skipped), lengths, truncation. */
    public DataReport report() {
        return report;
    }

    /** Number of examples (groups for rankings). */
    public int size() {
        return store.size();
    }

    /** The length of example i's longest sequence (after truncation). */
    public int length(int i) {
        return store.longest(i);
    }

    /** The longest sequence of any example (0 when empty). */
    public int longest() {
        int longest = 0;
        for (int i = 0; i < size(); i++) {
            longest = Math.max(longest, length(i));
        }
        return longest;
    }

    /** All of example i's tokens (a preference pair's two sequences, a group's K). */
    public int tokens(int i) {
        return store.totalTokens(i);
    }

    /** The file the tokenized examples are stored in (the cache file when caching). */
    public Path storeFile() {
        return store.file();
    }

    private ExampleStore.Stored get(int i, Format.Kind... kinds) {
        for (Format.Kind k : kinds) {
            if (k == kind()) {
                return store.get(i);
            }
        }
        throw new AlignException(report.file() + ": this is " + format.id() + " data; the " + kinds[0].name()
                .toLowerCase(java.util.Locale.ROOT) + " view does not apply");
    }

    /** Example i of an SFT-kind dataset (language modelling, prompt-completion, Alpaca). */
    public SftExample sft(int i) {
        ExampleStore.Stored s = get(i, Format.Kind.SFT);
        Piece p = s.seqs().get(0);
        return new SftExample(s.line(), p.ids(), p.targets());
    }

    /** Pair i of a preference dataset. */
    public PreferencePair pair(int i) {
        ExampleStore.Stored s = get(i, Format.Kind.PREFERENCE);
        return new PreferencePair(s.line(), pc(s.seqs().get(0)), pc(s.seqs().get(1)), s.numbers()[0]);
    }

    /** Group i of a ranking dataset, or pair i of a preference dataset as a group of 2 with one pair. */
    public RankingGroup group(int i) {
        ExampleStore.Stored s = get(i, Format.Kind.RANKING, Format.Kind.PREFERENCE);
        List<PromptCompletion> rs = new ArrayList<>();
        for (Piece p : s.seqs()) {
            rs.add(pc(p));
        }
        List<RankedPair> pairs = new ArrayList<>();
        if (kind() == Format.Kind.PREFERENCE) {
            pairs.add(new RankedPair(0, 1, s.numbers()[0]));
        } else {
            double[] n = s.numbers();
            for (int k = 0; k < n.length; k += 3) {
                pairs.add(new RankedPair((int) n[k], (int) n[k + 1], n[k + 2]));
            }
        }
        return new RankingGroup(s.line(), rs, pairs);
    }

    /** Example i of an unpaired-preference dataset. */
    public UnpairedExample unpaired(int i) {
        ExampleStore.Stored s = get(i, Format.Kind.UNPAIRED);
        return new UnpairedExample(s.line(), pc(s.seqs().get(0)), s.numbers()[0] != 0);
    }

    /** Prompt i of a prompt-only dataset. */
    public PromptExample prompt(int i) {
        ExampleStore.Stored s = get(i, Format.Kind.PROMPT);
        try {
            JsonNode x = JSON.readTree(s.extra());
            return new PromptExample(s.line(), s.seqs().get(0).ids(), x.path("text").asText(), (ObjectNode) x.get("extra"));
        } catch (JsonProcessingException e) {
            throw new AlignException(store.file() + ": corrupt prompt record: " + e.getMessage(), e);
        }
    }

    /** A sequence whose targets run from its first target to the end, as prompt + completion. */
    private static PromptCompletion pc(Piece p) {
        boolean[] t = p.targets();
        int first = 0;
        while (first < t.length && !t[first]) {
            first++;
        }
        return new PromptCompletion(p.ids(), first);
    }

    @Override
    public void close() {
        store.close();
        if (deleteOnClose) {
            try {
                Files.deleteIfExists(store.file());
            } catch (IOException ignored) {
                // a temporary file; deleteOnExit was also requested
            }
        }
    }
}
