package dev.align.core.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Streams a JSON Lines file one record at a time (nothing but the current line is held), with strict
 * UTF-8: a malformed line, a line that is not an object or bad UTF-8 is reported as
 * {@code FILE:LINE: reason} to the error sink and skipped. Blank lines are skipped silently.
 */
public final class JsonlReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One parsed line. */
    public record Line(int number, JsonNode json) {}

    private JsonlReader() {}

    /**
     * Reads {@code file}, passing each object line to {@code records} and each problem (already
     * formatted with file and line) to {@code errors}.
     */
    public static void read(Path file, Consumer<Line> records, Consumer<String> errors) {
        if (!Files.isRegularFile(file)) {
            throw new AlignException(file + ": file not found");
        }
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(file), dec))) {
            int n = 0;
            while (true) {
                String line;
                try {
                    line = r.readLine();
                } catch (CharacterCodingException e) {
                    errors.accept(file + ":" + (n + 1) + ": invalid UTF-8 (reading stopped here)");
                    return;
                }
                if (line == null) {
                    return;
                }
                n++;
                if (n == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    errors.accept(file + ":" + n + ": malformed JSON: " + e.getOriginalMessage());
                    continue;
                }
                if (node == null || !node.isObject()) {
                    errors.accept(file + ":" + n + ": expected a JSON object");
                    continue;
                }
                records.accept(new Line(n, node));
            }
        } catch (IOException e) {
            throw new AlignException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
