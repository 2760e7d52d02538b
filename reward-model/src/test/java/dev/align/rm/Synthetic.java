package dev.align.rm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded synthetic ranking data in the vocabulary of the llama_gqa / rm_llama fixture tokenizer (a
 * WordLevel vocabulary of made-up words such as {@code bebu}): a prompt of 2–4 words and K = 4 responses of
 * 2–5 filler words with one marker word somewhere; the marker decides the rank (marker i → rank i). A
 * reward model has to learn to find the marker from the last token.
 */
final class Synthetic {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> WORDS = words();
    static final List<String> MARKERS = WORDS.subList(0, 4);
    static final List<String> FILLERS = WORDS.subList(4, 44);

    private Synthetic() {}

    private static List<String> words() {
        try {
            JsonNode vocab = JSON.readTree(Fixtures.reference("llama_gqa/tokenizer.json").toFile()).path("model").path("vocab");
            List<String> w = new ArrayList<>();
            for (Iterator<String> it = vocab.fieldNames(); it.hasNext(); ) {
                String s = it.next();
                if (s.matches("b[a-z]{3}")) {
                    w.add(s);
                }
            }
            w.sort(null);
            return List.copyOf(w);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String words(SplittableRandom r, int min, int max) {
        StringBuilder sb = new StringBuilder();
        int n = min + r.nextInt(max - min + 1);
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : " ").append(FILLERS.get(r.nextInt(FILLERS.size())));
        }
        return sb.toString();
    }

    /** A ranking record: {"prompt", "responses", "ranking"}. */
    static ObjectNode ranking(SplittableRandom r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("prompt", words(r, 2, 4));
        int[] perm = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        ArrayNode responses = o.putArray("responses");
        ArrayNode ranking = o.putArray("ranking");
        for (int rank : perm) {
            String[] parts = words(r, 2, 5).split(" ");
            int at = r.nextInt(parts.length + 1);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i <= parts.length; i++) {
                if (i == at) {
                    sb.append(' ').append(MARKERS.get(rank));
                }
                if (i < parts.length) {
                    sb.append(' ').append(parts[i]);
                }
            }
            responses.add(sb.toString());
            ranking.add(rank);
        }
        return o;
    }

    /** Writes {@code n} ranking records drawn from {@code seed}. */
    static Path rankings(Path file, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(ranking(r)).append('\n');
        }
        try {
            Files.writeString(file, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
