package dev.align.datasets;

import static dev.align.datasets.testing.TestFiles.BAD_UTF8;
import static dev.align.datasets.testing.TestFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.align.core.BadInputException;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.format.AlpacaFormat;
import dev.align.datasets.format.RankedPair;
import dev.align.datasets.testing.ChatML;
import dev.align.datasets.testing.TestFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every format on small files, good records and every kind of bad record, with the exact
 * {@code FILE:LINE: field: reason} messages.
 */
class FormatValidationTest {
    @TempDir
    Path dir;

    private static final DataSettings NO_CACHE = DataSettings.defaults().withCache(false, null);

    private static Tokenizer tok() {
        return TestFiles.llama();
    }

    private DataReport check(Path f, DataSettings s) {
        return Datasets.check(f, s, tok(), ChatML.plain());
    }

    /** The problems with the file prefix removed: "LINE: field: reason". */
    private static List<String> problems(Path f, DataReport r) {
        return r.problems().stream().map(p -> {
            assertTrue(p.startsWith(f + ":"), p);
            return p.substring(f.toString().length() + 1);
        }).toList();
    }

    @Test
    void languageModellingText() {
        Path f = write(dir, "lm.jsonl",
                "{\"text\": \"bidu bulu\"}",
                "{\"text\": \"\"}",
                "{\"text\": 5}",
                "{\"txt\": \"bidu\"}",
                "{not json",
                "[1, 2]",
                BAD_UTF8,
                "",
                "{\"text\": \"bena\"} trailing",
                "{\"text\": null}",
                "{\"text\": \"bena boko\"}");
        DataReport r = check(f, NO_CACHE);
        assertEquals("language_modeling", r.format());
        assertFalse(r.conversational());
        List<String> p = problems(f, r);
        assertEquals(8, p.size(), p.toString());
        assertEquals("2: text: empty text", p.get(0));
        assertEquals("3: text: expected a string, got number", p.get(1));
        assertEquals("4: text: missing field", p.get(2));
        assertEquals("5: malformed JSON: Unexpected character ('n' (code 110)): was expecting double-quote to start"
                + " field name", p.get(3));
        assertEquals("6: expected a JSON object, got array", p.get(4));
        assertEquals("7: invalid UTF-8", p.get(5));
        assertTrue(p.get(6).startsWith("9: malformed JSON: ") && !p.get(6).contains("Source"), p.get(6));
        assertEquals("10: text: is null", p.get(7));
        assertEquals(10, r.records());
        assertEquals(8, r.badRecords());
        assertEquals(2, r.examples());

        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true), tok())) {
            assertEquals(2, ds.size());
            SftExample e = ds.sft(0);
            assertEquals(1, e.line());
            // <s> bidu bulu </s>, every token a target
            assertArrayEquals(tok().encode("bidu bulu</s>"), e.ids());
            assertEquals(4, e.ids().length);
            assertEquals(3, e.lossTokens());
            assertEquals(11, ds.sft(1).line());
        }
        BadInputException ex = assertThrows(BadInputException.class, () -> Datasets.load(f, NO_CACHE, tok()));
        assertEquals(9, ex.problems().size());
        assertEquals(f + ": 8 of 10 records are bad (fix them, or skip them with --skip-bad-records /"
                + " skip_bad_records: true)", ex.problems().get(8));
    }

    @Test
    void badUtf8IsReportedOnItsOwnLineAndReadingGoesOn() {
        String[] lines = new String[40];
        for (int i = 0; i < lines.length; i++) {
            lines[i] = "{\"text\": \"bidu " + "bulu ".repeat(i) + "\"}";
        }
        lines[24] = BAD_UTF8;
        lines[31] = BAD_UTF8;
        Path f = write(dir, "utf.jsonl", lines);
        DataReport r = check(f, NO_CACHE);
        assertEquals(List.of("25: invalid UTF-8", "32: invalid UTF-8"), problems(f, r));
        assertEquals(38, r.examples());
    }

    @Test
    void conversationalMessages() {
        String ok = "{\"messages\": [{\"role\": \"user\", \"content\": \"bidu\"}, {\"role\": \"assistant\", \"content\": \"bulu\"}]}";
        Path f = write(dir, "chat.jsonl",
                ok,
                "{\"messages\": [{\"role\": \"bot\", \"content\": \"bidu\"}]}",
                "{\"messages\": [{\"role\": \"user\"}, {\"role\": \"assistant\", \"content\": \"bulu\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": [\"x\"]}]}",
                "{\"messages\": []}",
                "{\"messages\": \"bidu\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"bidu\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"FAIL\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}",
                "{\"messages\": [\"bidu\", {\"role\": 3, \"content\": \"x\"}]}");
        DataReport r = check(f, NO_CACHE);
        assertTrue(r.conversational());
        assertEquals(List.of(
                "2: messages[0].role: unknown role 'bot' (expected one of assistant, developer, system, tool, user)",
                "3: messages[0].content: missing field",
                "4: messages[0].content: expected a string, got array",
                "5: messages: no messages",
                "6: messages: expected a list of messages (the file's first record has messages here), got string",
                "7: messages: no assistant tokens to train on (assistant-only loss needs an assistant turn)",
                "8: messages: template failure: template error: cannot render this message",
                "9: messages[0]: expected a message object {\"role\", \"content\"}, got string",
                "9: messages[1].role: expected a string, got number"), problems(f, r));
        assertEquals(8, r.badRecords());
        assertEquals(1, r.examples());
    }

    @Test
    void templateThatRewritesEarlierTurnsIsATemplateFailure() {
        Path f = write(dir, "chat.jsonl",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"bidu\"}, {\"role\": \"assistant\", \"content\": \"bulu\"},"
                        + " {\"role\": \"user\", \"content\": \"bena\"}, {\"role\": \"assistant\", \"content\": \"boko\"}]}");
        DataReport r = Datasets.check(f, NO_CACHE, tok(), ChatML.rewriting());
        assertEquals(List.of("1: messages: template failure: rendering messages[0:2] is not a prefix of rendering the"
                + " whole conversation (the template changes earlier turns; give it {% generation %} blocks)"),
                problems(f, r));
        // the same template with generation spans needs no prefix consistency
        assertEquals(0, Datasets.check(f, NO_CACHE.withLoss(true, false), tok(), ChatML.rewriting()).badRecords());
    }

    @Test
    void promptCompletion() {
        Path f = write(dir, "pc.jsonl",
                "{\"prompt\": \"bidu\", \"completion\": \" bulu\"}",
                "{\"prompt\": \"bidu\", \"completion\": \"\"}",
                "{\"prompt\": \"bidu\"}",
                "{\"prompt\": [\"bidu\"], \"completion\": \" bulu\"}",
                "{\"prompt\": \"bidu\", \"completion\": \"bulu\"}",
                "{\"prompt\": \"bidu\", \"completion\": null}",
                "{\"prompt\": \"\", \"completion\": \" bena\"}",
                "{\"prompt\": \"bidu\", \"completion\": \"   \"}");
        DataReport r = check(f, NO_CACHE);
        assertEquals("prompt_completion", r.format());
        assertEquals(List.of(
                "2: completion: empty completion",
                "3: completion: missing field",
                "4: prompt: expected a string (the file's first record has text here), got array",
                "5: completion: prompt not a prefix: the prompt's tokens are not a prefix of the prompt+completion"
                        + " tokens (the tokenizer merges across the boundary; start the completion with a space or end"
                        + " the prompt differently)",
                "6: completion: is null",
                "8: completion: empty completion"), problems(f, r));
        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true), tok())) {
            SftExample e = ds.sft(0);
            PromptCompletion pc = PromptCompletion.encode(tok(), "bidu", " bulu", true);
            assertArrayEquals(pc.ids(), e.ids());
            assertArrayEquals(new boolean[] {false, false, true, true}, e.targets());
            // an empty prompt: the completion is predicted from <s> alone
            assertArrayEquals(new boolean[] {false, true, true}, ds.sft(1).targets());
        }
        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true).withLoss(false, true), tok())) {
            assertArrayEquals(new boolean[] {true, true, true, true}, ds.sft(0).targets());
        }
    }

    @Test
    void fieldMappingNamesTheUsersColumns() {
        Path f = write(dir, "qa.jsonl",
                "{\"question\": \"bidu\", \"answer\": \" bulu\"}",
                "{\"question\": \"bidu\", \"answer\": 7}");
        DataSettings s = NO_CACHE.withFields(Map.of("prompt", "question", "completion", "answer"));
        DataReport r = check(f, s);
        assertEquals("prompt_completion", r.format());
        assertEquals(List.of("2: answer: expected a string (the file's first record has text here), got number"),
                problems(f, r));
        BadInputException e = assertThrows(BadInputException.class, () -> check(f, NO_CACHE));
        assertTrue(e.getMessage().startsWith(f + ":1: cannot tell the format from the keys [question, answer]"),
                e.getMessage());
        assertThrows(BadInputException.class, () -> check(f, NO_CACHE.withFields(Map.of("question", "prompt"))));
    }

    @Test
    void alpacaBecomesPromptCompletion() {
        Path f = write(dir, "alpaca.jsonl",
                "{\"instruction\": \"bidu\", \"input\": \"bena\", \"output\": \"bulu\"}",
                "{\"instruction\": \"bidu\", \"input\": \"\", \"output\": \"bulu\"}",
                "{\"instruction\": \"bidu\", \"output\": \"\"}");
        DataReport r = check(f, NO_CACHE);
        assertEquals("alpaca", r.format());
        assertEquals(List.of("3: output: empty completion"), problems(f, r));
        assertEquals("Below is an instruction that describes a task, paired with an input that provides further"
                + " context. Write a response that appropriately completes the request.\n\n### Instruction:\nbidu\n\n"
                + "### Input:\nbena\n\n### Response:\n", AlpacaFormat.prompt("bidu", "bena"));
        assertEquals("Below is an instruction that describes a task. Write a response that appropriately completes"
                + " the request.\n\n### Instruction:\nbidu\n\n### Response:\n", AlpacaFormat.prompt("bidu", ""));
        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true), tok())) {
            PromptCompletion pc = PromptCompletion.encode(tok(), AlpacaFormat.prompt("bidu", "bena"), "bulu", true);
            assertArrayEquals(pc.ids(), ds.sft(0).ids());
        }
    }

    @Test
    void preference() {
        Path f = write(dir, "pref.jsonl",
                "{\"prompt\": \"bidu\", \"chosen\": \" bulu\", \"rejected\": \" bena boko\", \"margin\": 2}",
                "{\"prompt\": \"bidu\", \"chosen\": \" bulu\", \"rejected\": \" bulu\"}",
                "{\"prompt\": \"bidu\", \"chosen\": \"\", \"rejected\": \" bulu\"}",
                "{\"prompt\": \"bidu\", \"chosen\": \" bulu\", \"rejected\": \" bena\", \"margin\": \"big\"}",
                "{\"prompt\": \"bidu\", \"chosen\": \" bulu\", \"rejected\": 3}",
                "{\"prompt\": \"bidu\", \"chosen\": \" bulu\", \"rejected\": \" bena\"}");
        DataReport r = check(f, NO_CACHE);
        assertEquals("preference", r.format());
        assertEquals(List.of(
                "2: rejected: same as chosen",
                "3: chosen: empty completion",
                "4: margin: expected a finite number, got string \"big\"",
                "5: rejected: expected a string (the file's first record has text here), got number"), problems(f, r));
        assertEquals(2, r.pairs());
        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true), tok())) {
            PreferencePair p = ds.pair(0);
            assertEquals(2.0, p.margin());
            assertArrayEquals(PromptCompletion.encode(tok(), "bidu", " bulu", true).ids(), p.chosen().ids());
            assertArrayEquals(PromptCompletion.encode(tok(), "bidu", " bena boko", true).ids(), p.rejected().ids());
            assertEquals(2, p.chosen().promptLength());
            assertTrue(Double.isNaN(ds.pair(1).margin()));
            RankingGroup g = ds.group(0);
            assertEquals(List.of(new RankedPair(0, 1, 2.0)), g.pairs());
        }
    }

    @Test
    void conversationalPreference() {
        String prompt = "[{\"role\": \"user\", \"content\": \"bidu\"}]";
        Path f = write(dir, "pref.jsonl",
                "{\"prompt\": " + prompt + ", \"chosen\": [{\"role\": \"assistant\", \"content\": \"bulu\"}],"
                        + " \"rejected\": [{\"role\": \"assistant\", \"content\": \"bena\"}]}",
                "{\"prompt\": " + prompt + ", \"chosen\": [{\"role\": \"assistant\", \"content\": \"bulu\"}],"
                        + " \"rejected\": [{\"role\": \"assistant\", \"content\": \"bulu\"}]}",
                "{\"prompt\": " + prompt + ", \"chosen\": [], \"rejected\": [{\"role\": \"robot\", \"content\": \"x\"}]}");
        DataReport r = check(f, NO_CACHE);
        assertTrue(r.conversational());
        assertEquals(List.of(
                "2: rejected: same as chosen",
                "3: rejected[0].role: unknown role 'robot' (expected one of assistant, developer, system, tool, user)",
                "3: chosen: empty completion (no messages)"), problems(f, r));
        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true), tok(), ChatML.plain())) {
            PreferencePair p = ds.pair(0);
            // <s> <|im_start|> user bidu <|im_end|> <|im_start|> assistant | bulu <|im_end|>
            assertEquals(7, p.chosen().promptLength());
            assertArrayEquals(tok().encodePlain("<s><|im_start|>user\nbidu<|im_end|>\n<|im_start|>assistant\nbulu<|im_end|>\n"),
                    p.chosen().ids());
        }
    }

    @Test
    void implicitPromptIsTheSharedBeginning() {
        Path f = write(dir, "implicit.jsonl",
                "{\"chosen\": \"bidu bulu bena\", \"rejected\": \"bidu bulu boko bega\"}",
                "{\"chosen\": \"bidu bulu\", \"rejected\": \"bidu bulu\"}",
                "{\"chosen\": [{\"role\": \"user\", \"content\": \"bidu\"}], \"rejected\": \"x\"}");
        DataReport r = check(f, NO_CACHE);
        assertEquals("implicit_preference", r.format());
        assertEquals(List.of(
                "2: rejected: same as chosen",
                "3: chosen: expected a string (the file's first record has text here), got array"), problems(f, r));
        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true), tok())) {
            PreferencePair p = ds.pair(0);
            assertArrayEquals(PromptCompletion.encode(tok(), "bidu bulu", " bena", true).ids(), p.chosen().ids());
            assertArrayEquals(PromptCompletion.encode(tok(), "bidu bulu", " boko bega", true).ids(), p.rejected().ids());
        }
        Path g = write(dir, "implicit_chat.jsonl",
                "{\"chosen\": [{\"role\": \"user\", \"content\": \"bidu\"}, {\"role\": \"assistant\", \"content\": \"bulu\"}],"
                        + " \"rejected\": [{\"role\": \"user\", \"content\": \"bidu\"}, {\"role\": \"assistant\", \"content\": \"bena\"}]}");
        try (TokenizedDataset ds = Datasets.load(g, NO_CACHE, tok(), ChatML.plain())) {
            assertTrue(ds.conversational());
            assertEquals(7, ds.pair(0).chosen().promptLength());
            assertEquals(9, ds.pair(0).rejected().ids().length);
        }
    }

    @Test
    void unpairedPreference() {
        Path f = write(dir, "kto.jsonl",
                "{\"prompt\": \"bidu\", \"completion\": \" bulu\", \"label\": true}",
                "{\"prompt\": \"bidu\", \"completion\": \" bena\", \"label\": \"yes\"}",
                "{\"prompt\": \"bidu\", \"completion\": \"\", \"label\": false}",
                "{\"prompt\": \"bidu\", \"completion\": \" boko\", \"label\": false}");
        DataReport r = check(f, NO_CACHE);
        assertEquals("unpaired_preference", r.format());
        assertEquals(List.of("2: label: expected true or false, got string \"yes\"", "3: completion: empty completion"),
                problems(f, r));
        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true), tok())) {
            assertTrue(ds.unpaired(0).label());
            assertFalse(ds.unpaired(1).label());
            assertEquals(2, ds.unpaired(1).seq().promptLength());
        }
    }

    @Test
    void rankings() {
        Path f = write(dir, "rank.jsonl",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\", \" boko\"], \"ranking\": [1, 0, 2]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\", \" boko\"], \"ranking\": [0, 0, 1]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\", \" boko\"], \"ranking\": [0, 1]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\", \" boko\"], \"scores\": [1, 2]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\", \" boko\"], \"scores\": [1, 1, 0.5]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\"], \"scores\": [2, 2]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\"], \"ranking\": [0, 1], \"scores\": [1, 0]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\"], \"ranking\": [0]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bulu\"], \"ranking\": [0, 1]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\", \" boko\"], \"ranking\": [0, 1.5, 2]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \"\"], \"ranking\": [1, 0]}",
                "{\"prompt\": \"bidu\", \"responses\": \" bulu\", \"ranking\": [1, 0]}",
                "{\"prompt\": \"bidu\", \"responses\": [\" bulu\", \" bena\", \" boko\", \" bega\"], \"ranking\": [3, 0, 2, 1]}");
        DataReport r = check(f, NO_CACHE);
        assertEquals("ranking", r.format());
        assertEquals(List.of(
                "2: ranking: not a permutation of 0..2: [0, 0, 1]",
                "3: ranking: 2 ranks for 3 responses",
                "4: scores: 2 scores for 3 responses",
                "6: scores: all scores are equal: no pairs to learn from",
                "7: ranking: give either ranking or scores, not both",
                "8: responses: need at least 2 responses, got 1",
                "9: responses: responses[0] and responses[1] are the same text but ranked apart",
                "10: ranking[1]: expected an integer, got number 1.5",
                "11: responses[1]: empty response",
                "12: responses: expected a list of responses (strings), got string"), problems(f, r));
        assertEquals(3, r.examples());
        assertEquals(3 + 2 + 6, r.pairs());
        assertEquals(1, r.tiesDropped());
        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true), tok())) {
            RankingGroup g = ds.group(0);
            assertEquals(3, g.responses().size());
            // ranking [1, 0, 2]: response 1 is best, then 0, then 2
            assertEquals(List.of(new RankedPair(1, 0, Double.NaN), new RankedPair(0, 2, Double.NaN),
                    new RankedPair(1, 2, Double.NaN)), g.pairs());
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(PromptCompletion.encode(tok(), "bidu", List.of(" bulu", " bena", " boko").get(i), true)
                        .ids(), g.responses().get(i).ids());
            }
            // scores [1, 1, 0.5]: the tie (0, 1) is not a pair; margins are score differences
            assertEquals(List.of(new RankedPair(0, 2, 0.5), new RankedPair(1, 2, 0.5)), ds.group(1).pairs());
            // K = 4 gives 6 ordered pairs, every one with the better-ranked response first
            RankingGroup four = ds.group(2);
            int[] rank = {3, 0, 2, 1};
            assertEquals(6, four.pairs().size());
            for (RankedPair q : four.pairs()) {
                assertTrue(rank[q.better()] < rank[q.worse()], q.toString());
            }
        }
    }

    @Test
    void promptOnlyKeepsOtherColumns() {
        Path f = write(dir, "prompts.jsonl",
                "{\"prompt\": \"bidu bulu\", \"answer\": \"8\"}",
                "{\"prompt\": \"\", \"answer\": \"3\"}");
        DataReport r = check(f, NO_CACHE);
        assertEquals("prompt_only", r.format());
        assertEquals(List.of("2: prompt: empty prompt"), problems(f, r));
        try (TokenizedDataset ds = Datasets.load(f, NO_CACHE.withSkipBadRecords(true), tok())) {
            PromptExample p = ds.prompt(0);
            assertArrayEquals(tok().encode("bidu bulu"), p.ids());
            assertEquals("8", p.extra().get("answer").asText());
            assertEquals("bidu bulu", p.text());
        }
    }

    @Test
    void jsonArrayReportsElementIndexAndLine() {
        Path f = write(dir, "pc.json",
                "[",
                "  {\"prompt\": \"bidu\", \"completion\": \" bulu\"},",
                "  {\"prompt\": \"bidu\",",
                "   \"completion\": \"\"},",
                "  5,",
                "  {\"prompt\": \"bena\", \"completion\": \" boko\"}",
                "]");
        DataReport r = check(f, NO_CACHE);
        assertEquals(List.of("3: [1].completion: empty completion", "5: [2]: expected a JSON object, got number_int"),
                problems(f, r));
        assertEquals(2, r.examples());
        Path broken = write(dir, "broken.json", "[", "{\"text\": \"bidu\"},", "{\"text\": }", "]");
        DataReport b = check(broken, NO_CACHE);
        assertEquals(1, b.examples());
        assertEquals(1, b.problems().size());
        assertTrue(b.problems().get(0).startsWith(broken + ":3: malformed JSON: "), b.problems().get(0));
        assertTrue(b.problems().get(0).endsWith("(reading stopped here)"), b.problems().get(0));
    }

    @Test
    void csvReportsLinesAndReadsListsFromJsonText() {
        Path f = write(dir, "pc.csv",
                "prompt,completion",
                "bidu, bulu",
                "\"bidu",
                "bena\",\"\"",
                "bidu",
                "bena, boko");
        DataReport r = check(f, NO_CACHE);
        assertEquals("prompt_completion", r.format());
        assertEquals(List.of("3: completion: empty completion", "5: expected 2 columns (as the header row), got 1"),
                problems(f, r));
        Path rk = write(dir, "rank.csv",
                "prompt,responses,ranking",
                "bidu,\"[\"\" bulu\"\", \"\" bena\"\"]\",\"[1, 0]\"",
                "bidu,\"[\"\" bulu\"\", \"\" bena\"\"]\",\"[0, 0]\"",
                "bidu,\"[\"\" bulu\"\", \"\" bena\"\"]\",not json");
        DataReport rr = check(rk, NO_CACHE);
        assertEquals("ranking", rr.format());
        List<String> p = problems(rk, rr);
        assertEquals("3: ranking: not a permutation of 0..1: [0, 0]", p.get(0));
        assertTrue(p.get(1).startsWith("4: ranking: expected a list of integers as JSON text in the cell: "), p.get(1));
        Path kto = write(dir, "kto.csv", "prompt,completion,label", "bidu, bulu,true", "bidu, bena,0", "bidu, boko,maybe");
        DataReport kr = check(kto, NO_CACHE);
        assertEquals(List.of("4: label: expected true or false, got string \"maybe\""), problems(kto, kr));
    }

    @Test
    void badUtf8InJsonArraysAndCsv() throws java.io.IOException {
        byte[] bad = {'b', 'a', 'd', ' ', (byte) 0xFF};
        java.io.ByteArrayOutputStream a = new java.io.ByteArrayOutputStream();
        a.writeBytes("[\n{\"text\": \"bidu\"},\n{\"text\": \"".getBytes(StandardCharsets.UTF_8));
        a.writeBytes(bad);
        a.writeBytes("\"},\n{\"text\": \"bulu\"}\n]\n".getBytes(StandardCharsets.UTF_8));
        Path json = java.nio.file.Files.write(dir.resolve("u.json"), a.toByteArray());
        DataReport r = check(json, NO_CACHE);
        assertEquals(List.of("3: [1]: invalid UTF-8"), problems(json, r));
        assertEquals(2, r.examples());
        java.io.ByteArrayOutputStream c = new java.io.ByteArrayOutputStream();
        c.writeBytes("text\nbidu\n".getBytes(StandardCharsets.UTF_8));
        c.writeBytes(bad);
        c.writeBytes("\nbulu\n".getBytes(StandardCharsets.UTF_8));
        Path csv = java.nio.file.Files.write(dir.resolve("u.csv"), c.toByteArray());
        DataReport rc = check(csv, NO_CACHE);
        assertEquals(List.of("3: invalid UTF-8"), problems(csv, rc));
        assertEquals(2, rc.examples());
    }

    @Test
    void csvConversationsAreJsonTextInCells() {
        Path f = write(dir, "chat.csv",
                "messages",
                "\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"bidu\"\"}, "
                        + "{\"\"role\"\": \"\"assistant\"\", \"\"content\"\": \"\"bulu\"\"}]\"",
                "\"[{\"\"role\"\": \"\"bot\"\", \"\"content\"\": \"\"bidu\"\"}]\"");
        DataReport r = check(f, NO_CACHE);
        assertTrue(r.conversational());
        assertEquals(List.of("3: messages[0].role: unknown role 'bot' (expected one of assistant, developer, system,"
                + " tool, user)"), problems(f, r));
        assertEquals(1, r.examples());
    }

    @Test
    void unsupportedAndMissingFiles() {
        Path f = write(dir, "data.txt", "bidu");
        assertEquals(f + ": unsupported file type (expected .jsonl, .json or .csv)",
                assertThrows(BadInputException.class, () -> check(f, NO_CACHE)).getMessage());
        Path missing = dir.resolve("nope.jsonl");
        assertEquals(missing + ": file not found",
                assertThrows(BadInputException.class, () -> check(missing, NO_CACHE)).getMessage());
        Path empty = write(dir, "empty.jsonl", "", "");
        assertEquals(empty + ": no records",
                assertThrows(BadInputException.class, () -> Datasets.load(empty, NO_CACHE, tok())).getMessage());
    }
}
