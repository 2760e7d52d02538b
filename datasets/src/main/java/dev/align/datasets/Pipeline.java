package dev.align.datasets;

import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.data.TokenRows.Piece;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.format.FieldMap;
import dev.align.datasets.format.Format;
import dev.align.datasets.format.Formats;
import dev.align.datasets.format.Sample;
import dev.align.datasets.read.Row;
import dev.align.datasets.store.ExampleStore;
import dev.align.datasets.tokenize.ChatRenderer;
import dev.align.datasets.tokenize.Encoder;
import dev.align.datasets.tokenize.Truncation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One pass over a data file: detect the format on the first record, then per record parse and
 * validate, tokenize, truncate, and store what is kept; count everything for the {@link DataReport}.
 */
final class Pipeline {
    private final Path file;
    private final DataSettings settings;
    private final Tokenizer tok;
    private final ChatRenderer renderer;
    private final boolean rendererGiven;
    private final ExampleStore.Writer writer;
    private final FieldMap fields;
    private final Format forced;
    private final Integer maxLength;
    private final TruncationMode mode;
    private final Encoder encoder;

    private Formats.Detected detected;
    private final List<String> problems = new ArrayList<>();
    private int records;
    private int bad;
    private int examples;
    private int sequences;
    private int pairs;
    private int ties;
    private int truncated;
    private int pairsRemoved;
    private final Map<String, Integer> dropped = new TreeMap<>();
    private int[] lengths = new int[1024];
    private int nLengths;

    Pipeline(Path file, DataSettings settings, Tokenizer tok, ChatRenderer renderer, boolean rendererGiven,
            ExampleStore.Writer writer) {
        this.file = file;
        this.settings = settings;
        this.tok = tok;
        this.renderer = renderer;
        this.rendererGiven = rendererGiven;
        this.writer = writer;
        this.fields = settings.fieldMap();
        this.forced = settings.forcedFormat();
        this.maxLength = settings.maxLength();
        this.mode = settings.mode();
        this.encoder = new Encoder(tok, () -> renderer, fields,
                new Encoder.Options(settings.appendEos(), settings.completionOnlyLoss(), settings.assistantOnlyLoss()));
    }

    Formats.Detected detected() {
        return detected;
    }

    /** A problem the reader found (a record that could not be read). */
    void readerProblem(String p) {
        records++;
        bad++;
        problems.add(p);
    }

    /** One record. */
    void row(Row r) {
        records++;
        if (detected == null) {
            detected = Formats.detect(r, fields, forced);
            checkTokenizer();
        }
        int before = problems.size();
        Sample s = Formats.parse(detected, r, fields, problems::add);
        if (s != null) {
            Encoder.Encoded e = encoder.encode(s, problems::add);
            if (e != null) {
                keep(r, s, e);
            }
        }
        if (problems.size() > before) {
            bad++;
        }
    }

    private void checkTokenizer() {
        if (detected.conversational() && !rendererGiven && tok.chatTemplateSource() == null) {
            throw new BadInputException(file + ": the records are conversations (message lists), but the tokenizer in "
                    + tok.dir() + " has no chat_template to render them");
        }
        if (settings.appendEos() && !detected.conversational() && tok.eosToken() == null
                && detected.format() != Format.PROMPT_ONLY) {
            throw new AlignException(tok.dir() + ": the tokenizer has no eos_token to append (set append_eos: false)");
        }
    }

    private void keep(Row r, Sample s, Encoder.Encoded e) {
        for (Piece p : e.seqs()) {
            if (nLengths == lengths.length) {
                lengths = Arrays.copyOf(lengths, nLengths * 2);
            }
            lengths[nLengths++] = p.length();
        }
        if (s instanceof Sample.Ranking rk) {
            int k = rk.responses().size();
            ties += k * (k - 1) / 2 - rk.pairs().size();
        }
        Truncation.Result t = Truncation.apply(detected.format().kind(), e, maxLength, mode);
        if (t.truncated()) {
            truncated++;
        }
        pairsRemoved += t.pairsRemoved();
        if (t.kept() == null) {
            dropped.merge(t.dropReason(), 1, Integer::sum);
            return;
        }
        examples++;
        sequences += t.kept().seqs().size();
        Format.Kind kind = detected.format().kind();
        if (kind == Format.Kind.PREFERENCE) {
            pairs++;
        } else if (kind == Format.Kind.RANKING) {
            pairs += t.kept().numbers().length / 3;
        }
        if (writer != null) {
            writer.add(r.origin().line(), t.kept());
        }
    }

    DataReport report() {
        return new DataReport(file.toString(), detected == null ? "unknown" : detected.format().id(),
                detected != null && detected.conversational(), records, bad, problems, examples, sequences, pairs, ties,
                truncated, dropped, pairsRemoved, maxLength, mode.id(), LengthStats.of(lengths, nLengths), false);
    }
}
