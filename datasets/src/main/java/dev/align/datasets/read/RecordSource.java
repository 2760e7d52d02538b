package dev.align.datasets.read;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.DuplicateHeaderMode;

/**
 * Streams the records of a data file: JSON Lines ({@code .jsonl}, {@code .ndjson}, or {@code .json}
 * that does not start with {@code [}), a JSON array of objects ({@code .json}), or CSV with a header
 * row ({@code .csv}). Only the current record is held in memory.
 *
 * <p>Problems are reported to the sink as {@code FILE:LINE: reason}, each once, and reading goes on
 * with the next record where the format allows it: bad UTF-8 (strict; the record holding it is
 * skipped), malformed JSON, a JSON value that is not an object, a CSV row with the wrong number of
 * columns. A JSON array or CSV file that cannot be parsed further stops there, saying so.
 */
public final class RecordSource {
    /** For JSON Lines: one value per line, trailing text is an error. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** For JSON arrays, read element by element from one parser. */
    private static final ObjectMapper STREAM = new ObjectMapper();

    /** The file types read. */
    public enum FileType {
        JSONL,
        JSON,
        CSV;

        /** The type of {@code file} from its extension (and, for .json, its first character). */
        public static FileType of(Path file) {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
                return JSONL;
            }
            if (name.endsWith(".csv")) {
                return CSV;
            }
            if (name.endsWith(".json")) {
                return startsWithBracket(file) ? JSON : JSONL;
            }
            throw new BadInputException(file + ": unsupported file type (expected .jsonl, .json or .csv)");
        }
    }

    private RecordSource() {}

    /** Reads {@code file}, passing every object record to {@code rows} and every problem to {@code problems}. */
    public static void read(Path file, Consumer<Row> rows, Consumer<String> problems) {
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(file + ": file not found");
        }
        FileType type = FileType.of(file);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
                StrictUtf8Reader utf8 = new StrictUtf8Reader(raw)) {
            switch (type) {
                case JSONL -> readJsonl(file.toString(), utf8, rows, problems);
                case JSON -> readJsonArray(file.toString(), utf8, rows, problems);
                case CSV -> readCsv(file.toString(), utf8, rows, problems);
                default -> throw new IllegalStateException();
            }
        } catch (IOException e) {
            throw new AlignException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static boolean startsWithBracket(Path file) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            int c;
            do {
                c = in.read();
            } while (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0xEF || c == 0xBB || c == 0xBF);
            return c == '[';
        } catch (IOException e) {
            throw new AlignException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void readJsonl(String name, StrictUtf8Reader utf8, Consumer<Row> rows, Consumer<String> problems)
            throws IOException {
        BufferedReader r = new BufferedReader(utf8, 1 << 16);
        int n = 0;
        String line;
        while ((line = r.readLine()) != null) {
            n++;
            if (n == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                line = line.substring(1);
            }
            Origin at = new Origin(name, n, "");
            if (utf8.isBad(n)) {
                problems.accept(at.problem("", "invalid UTF-8"));
                continue;
            }
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                problems.accept(at.problem("", "malformed JSON: " + jsonReason(e)));
                continue;
            }
            if (node == null || !node.isObject()) {
                problems.accept(at.problem("", "expected a JSON object, got " + kind(node)));
                continue;
            }
            rows.accept(new Row(at, (ObjectNode) node, false));
        }
    }

    private static void readJsonArray(String name, StrictUtf8Reader utf8, Consumer<Row> rows, Consumer<String> problems)
            throws IOException {
        PushbackReader in = new PushbackReader(utf8, 1);
        int first = in.read();
        if (first != '\uFEFF' && first >= 0) {
            in.unread(first);
        }
        int index = 0;
        int line = 1;
        try (JsonParser p = STREAM.createParser(in)) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_ARRAY) {
                problems.accept(new Origin(name, 1, "").problem("", "expected a JSON array of objects"));
                return;
            }
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == null) {
                    problems.accept(new Origin(name, p.currentLocation().getLineNr(), "")
                            .problem("", "malformed JSON: unexpected end of file inside the array"));
                    return;
                }
                line = p.currentTokenLocation().getLineNr();
                Origin at = new Origin(name, line, "[" + index + "]");
                index++;
                if (t != JsonToken.START_OBJECT) {
                    p.skipChildren();
                    problems.accept(at.problem("", "expected a JSON object, got " + t.name().toLowerCase(Locale.ROOT)
                            .replace("start_", "").replace("value_", "")));
                    continue;
                }
                JsonNode node = p.readValueAsTree();
                int end = p.currentLocation().getLineNr();
                if (utf8.anyBad(line, end)) {
                    problems.accept(at.problem("", "invalid UTF-8"));
                    continue;
                }
                rows.accept(new Row(at, (ObjectNode) node, false));
            }
            if (p.nextToken() != null) {
                problems.accept(new Origin(name, p.currentTokenLocation().getLineNr(), "")
                        .problem("", "malformed JSON: content after the end of the array"));
            }
        } catch (JsonProcessingException e) {
            int at = e.getLocation() == null ? line : e.getLocation().getLineNr();
            problems.accept(new Origin(name, at, "").problem("",
                    "malformed JSON: " + jsonReason(e) + " (reading stopped here)"));
        }
    }

    private static void readCsv(String name, StrictUtf8Reader utf8, Consumer<Row> rows, Consumer<String> problems)
            throws IOException {
        PushbackReader in = new PushbackReader(utf8, 1);
        int first = in.read();
        if (first != '\uFEFF' && first >= 0) {
            in.unread(first);
        }
        ObjectMapper json = STREAM;
        CSVFormat format = CSVFormat.DEFAULT.builder()
                .setHeader()
                .setSkipHeaderRecord(true)
                .setIgnoreEmptyLines(true)
                .setDuplicateHeaderMode(DuplicateHeaderMode.DISALLOW)
                .setAllowMissingColumnNames(false)
                .get();
        CSVParser parser;
        try {
            parser = CSVParser.builder().setReader(in).setFormat(format).get();
        } catch (IOException | IllegalArgumentException e) {
            problems.accept(new Origin(name, 1, "").problem("", "bad CSV header: " + e.getMessage()));
            return;
        }
        try (parser) {
            Map<String, Integer> header = parser.getHeaderMap();
            if (utf8.isBad(1)) {
                problems.accept(new Origin(name, 1, "").problem("", "invalid UTF-8 in the header row"));
                return;
            }
            Iterator<CSVRecord> it = parser.iterator();
            while (true) {
                CSVRecord rec;
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    rec = it.next();
                } catch (UncheckedIOException | IllegalStateException e) {
                    problems.accept(new Origin(name, (int) parser.getCurrentLineNumber() + 1, "")
                            .problem("", "malformed CSV: " + rootMessage(e) + " (reading stopped here)"));
                    return;
                }
                int end = (int) parser.getCurrentLineNumber();
                int newlines = 0;
                for (String v : rec) {
                    for (int i = 0; i < v.length(); i++) {
                        if (v.charAt(i) == '\n') {
                            newlines++;
                        }
                    }
                }
                int start = Math.max(2, end - newlines);
                Origin at = new Origin(name, start, "");
                if (utf8.anyBad(start, end)) {
                    problems.accept(at.problem("", "invalid UTF-8"));
                    continue;
                }
                if (rec.size() != header.size()) {
                    problems.accept(at.problem("", "expected " + header.size() + " columns (as the header row), got "
                            + rec.size()));
                    continue;
                }
                ObjectNode node = json.createObjectNode();
                for (Map.Entry<String, Integer> h : header.entrySet()) {
                    node.put(h.getKey(), rec.get(h.getValue()));
                }
                rows.accept(new Row(at, node, true));
            }
        }
    }

    /** Jackson's message without its source-location noise (the line is already in the report). */
    static String jsonReason(JsonProcessingException e) {
        String m = String.valueOf(e.getOriginalMessage());
        m = m.replaceAll("\\s*\\(start marker at \\[Source:[^\\]]*\\]\\)", "");
        m = m.replaceAll("\\s*at \\[Source:[^\\]]*\\]", "");
        return m.replace('\n', ' ').trim();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    /** A JSON value's kind in words: string, number, array, object, boolean, null. */
    public static String kind(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return "null";
        }
        if (n.isTextual()) {
            return "string";
        }
        if (n.isNumber()) {
            return "number";
        }
        if (n.isBoolean()) {
            return "boolean";
        }
        if (n.isArray()) {
            return "array";
        }
        return n.isObject() ? "object" : n.getNodeType().toString().toLowerCase(Locale.ROOT);
    }
}
