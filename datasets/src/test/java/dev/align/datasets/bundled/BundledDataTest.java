package dev.align.datasets.bundled;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.DataReport;
import dev.align.datasets.DataSettings;
import dev.align.datasets.Datasets;
import dev.align.datasets.RankingGroup;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.batch.SeededRandom;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checked-in bundled data: reproducible byte for byte, consistent, and fully covered by its tokenizer. */
class BundledDataTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static Tokenizer tok;

    @BeforeAll
    static void extract() {
        Bundled.extractTo(dir);
        tok = Tokenizer.load(dir);
    }

    private static List<JsonNode> jsonl(String name) {
        List<JsonNode> out = new ArrayList<>();
        for (String line : new String(Bundled.read(name), StandardCharsets.UTF_8).split("\n")) {
            try {
                out.add(JSON.readTree(line));
            } catch (IOException e) {
                throw new AssertionError(name + ": " + e.getMessage());
            }
        }
        return out;
    }

    @Test
    void regenerationWithTheDefaultSeedReproducesTheCheckedInFiles() {
        Map<String, byte[]> fresh = BundledGenerator.generate(BundledGenerator.DEFAULT_SEED);
        List<String> expectedNames = new ArrayList<>(fresh.keySet());
        expectedNames.add("README.md");
        assertEquals(new TreeSet<>(expectedNames), new TreeSet<>(Bundled.FILES));
        for (Map.Entry<String, byte[]> f : fresh.entrySet()) {
            assertArrayEquals(Bundled.read(f.getKey()), f.getValue(), f.getKey() + " differs from a regeneration;"
                    + " run ./align data generate-bundled --out datasets/src/main/resources/bundled");
        }
        long total = 0;
        for (String f : Bundled.FILES) {
            total += Bundled.read(f).length;
        }
        assertTrue(total < 4_000_000, "bundled data stays small: " + total + " bytes");
        assertFalse(java.util.Arrays.equals(fresh.get("qa_train.jsonl"),
                BundledGenerator.generate(7).get("qa_train.jsonl")), "another seed, another world");
    }

    /** Every string of every file, and every corpus line. */
    private static List<String> allTexts() {
        List<String> texts = new ArrayList<>(List.of(new String(Bundled.read("corpus.txt"), StandardCharsets.UTF_8)
                .split("\n")));
        for (String f : Bundled.FILES) {
            if (f.endsWith(".jsonl")) {
                for (JsonNode n : jsonl(f)) {
                    collect(n, texts);
                }
            }
        }
        return texts;
    }

    private static void collect(JsonNode n, List<String> out) {
        if (n.isTextual()) {
            out.add(n.asText());
        } else if (n.isContainerNode()) {
            n.forEach(c -> collect(c, out));
        }
    }

    @Test
    void theTokenizerCoversEveryWordAndRoundTrips() {
        assertEquals("<s>", tok.bosToken());
        assertEquals("</s>", tok.eosToken());
        assertEquals(1, tok.padId());
        assertEquals(3, tok.eosId());
        assertTrue(tok.chatTemplateSource().contains("{% generation %}"));
        int texts = 0;
        for (String t : allTexts()) {
            long[] ids = tok.encode(t);
            assertEquals(2, ids[0], "bos first");
            for (long id : ids) {
                assertTrue(id != 0, "<unk> in: " + t);
            }
            List<String> words = new ArrayList<>();
            Matcher m = BundledGenerator.WORD.matcher(t);
            while (m.find()) {
                words.add(m.group());
            }
            assertEquals(String.join(" ", words), tok.decode(ids, true), t);
            texts++;
        }
        assertTrue(texts > 15_000);
        // chat specials are single tokens
        assertArrayEquals(new long[] {4, tok.tokenId("user"), 5}, tok.encodePlain("<|im_start|>user<|im_end|>"));
    }

    @Test
    void everyFileLoadsCleanlyInItsFormat() {
        DataSettings s = DataSettings.defaults().withCache(false, null);
        Map<String, String> formats = Map.of(
                "pretrain_train.jsonl", "language_modeling", "pretrain_test.jsonl", "language_modeling",
                "qa_train.jsonl", "prompt_completion", "qa_test.jsonl", "prompt_completion",
                "rankings_train.jsonl", "ranking", "rankings_test.jsonl", "ranking",
                "preferences_train.jsonl", "preference", "preferences_test.jsonl", "preference",
                "verifiable_train.jsonl", "prompt_only", "verifiable_test.jsonl", "prompt_only");
        for (String f : new TreeSet<>(formats.keySet())) {
            try (TokenizedDataset ds = Datasets.load(dir.resolve(f), s, tok)) {
                DataReport r = ds.report();
                assertEquals(formats.get(f), r.format(), f);
                assertEquals(0, r.badRecords(), f);
                assertEquals(r.records(), r.examples(), f);
                if (f.startsWith("rankings")) {
                    assertEquals(6 * r.examples(), r.pairs(), f);
                }
            }
        }
        try (TokenizedDataset ds = Datasets.load(dir.resolve("verifiable_test.jsonl"), s, tok)) {
            for (int i = 0; i < ds.size(); i++) {
                String text = ds.prompt(i).text();
                String[] w = text.replace("?", " ?").split(" ");
                int a = Integer.parseInt(w[3]);
                int b = Integer.parseInt(w[5]);
                int expected = switch (w[4]) {
                    case "plus" -> a + b;
                    case "minus" -> a - b;
                    default -> a * b;
                };
                assertEquals(Integer.toString(expected), ds.prompt(i).extra().get("answer").asText(), text);
            }
        }
    }

    @Test
    void heldOutQuestionsAskAboutFactsTheCorpusStatesAndTrainingDoesNotAsk() {
        World w = World.create(new SeededRandom(BundledGenerator.DEFAULT_SEED), BundledGenerator.ENTITIES);
        Set<String> trainPrompts = new HashSet<>();
        jsonl("qa_train.jsonl").forEach(n -> trainPrompts.add(n.get("prompt").asText()));
        String corpus = new String(Bundled.read("corpus.txt"), StandardCharsets.UTF_8);
        Map<String, World.Entity> byName = new java.util.HashMap<>();
        w.entities().forEach(e -> byName.put(e.name(), e));
        Map<String, String> kinds = Map.of("What color", "color", "Where does", "home", "What does", "food",
                "How big", "size");
        int facts = 0;
        for (JsonNode n : jsonl("qa_test.jsonl")) {
            String prompt = n.get("prompt").asText();
            assertFalse(trainPrompts.contains(prompt), prompt);
            String q = prompt.substring("Question: ".length(), prompt.indexOf('?'));
            String[] words = q.split(" ");
            String kind = kinds.get(words[0] + " " + words[1]);
            if (kind == null) {
                assertTrue(q.startsWith("What is "), q);
                continue;
            }
            World.Entity e = byName.get(words[words.length - (kind.equals("home") || kind.equals("food") ? 2 : 1)]);
            String value = e.get(kind);
            assertTrue(n.get("completion").asText().contains(" " + value + "."), n.toString());
            boolean stated = false;
            for (String form : Texts.FACT_FORMS.get(kind)) {
                stated |= corpus.contains(Texts.fill(form, e.name(), value, null));
            }
            assertTrue(stated, "the corpus states " + e.name() + " " + kind + " " + value);
            facts++;
        }
        assertEquals(BundledGenerator.ENTITIES, facts, "one held-out fact per animal");
    }

    @Test
    void rankingsPutThePoliteCorrectAnswerFirstAndPreferencesFollowThem() throws IOException {
        List<JsonNode> qa = jsonl("qa_train.jsonl");
        List<JsonNode> rk = jsonl("rankings_train.jsonl");
        List<JsonNode> pref = jsonl("preferences_train.jsonl");
        assertEquals(qa.size(), rk.size());
        for (int i = 0; i < rk.size(); i++) {
            JsonNode r = rk.get(i);
            assertEquals(qa.get(i).get("prompt"), r.get("prompt"));
            String[] byRank = new String[4];
            for (int k = 0; k < 4; k++) {
                byRank[r.get("ranking").get(k).asInt()] = r.get("responses").get(k).asText();
            }
            String correct = qa.get(i).get("completion").asText();
            assertTrue(byRank[0].contains(correct), byRank[0]);
            assertTrue(Texts.POLITE_OPENINGS.stream().anyMatch(p -> byRank[0].startsWith(" " + p)), byRank[0]);
            assertTrue(byRank[1].length() < correct.length(), "curt: " + byRank[1]);
            assertTrue(Texts.EVASIVE.contains(byRank[2].substring(1)), byRank[2]);
            assertTrue(!byRank[3].contains(correct) || Texts.RUDE.stream().anyMatch(p -> byRank[3].startsWith(" " + p)),
                    "wrong and/or rude: " + byRank[3]);
            assertEquals(byRank[0], pref.get(i).get("chosen").asText());
            assertEquals(byRank[1 + i % 3], pref.get(i).get("rejected").asText());
        }
        try (TokenizedDataset ds = Datasets.load(dir.resolve("rankings_test.jsonl"),
                DataSettings.defaults().withCache(false, null), tok)) {
            RankingGroup g = ds.group(0);
            assertEquals(4, g.responses().size());
            assertEquals(6, g.pairs().size());
        }
        assertTrue(Files.size(dir.resolve("README.md")) > 0);
    }
}
