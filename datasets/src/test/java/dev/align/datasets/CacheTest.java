package dev.align.datasets;

import static dev.align.datasets.testing.TestFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.align.core.BadInputException;
import dev.align.datasets.testing.ChatML;
import dev.align.datasets.testing.TestFiles;
import dev.align.datasets.tokenize.ChatRenderer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tokenization cache: keyed by file, tokenizer and settings; a second load does not tokenize. */
class CacheTest {
    @TempDir
    Path dir;

    /** A renderer that counts its calls: conversations are rendered only while tokenizing. */
    private static final class Counting implements ChatRenderer {
        final AtomicInteger calls = new AtomicInteger();
        final ChatRenderer inner = ChatML.plain();

        @Override
        public Rendering render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
            calls.incrementAndGet();
            return inner.render(messages, addGenerationPrompt);
        }

        @Override
        public boolean hasGenerationTag() {
            return false;
        }

        @Override
        public String id() {
            return inner.id();
        }
    }

    private long entries(Path cache) throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            return s.filter(p -> p.toString().endsWith(".alds")).count();
        }
    }

    @Test
    void secondLoadReadsTheCacheWithoutTokenizing() throws IOException {
        Path cache = dir.resolve("cache");
        Path f = write(dir, "chat.jsonl",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"bidu\"}, {\"role\": \"assistant\", \"content\": \"bulu\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"bena\"}, {\"role\": \"assistant\", \"content\": \"boko bega\"}]}");
        DataSettings s = DataSettings.defaults().withCache(true, cache.toString());
        Counting r = new Counting();
        SftExample first;
        try (TokenizedDataset ds = Datasets.load(f, s, TestFiles.llama(), r)) {
            assertFalse(ds.report().fromCache());
            first = ds.sft(1);
        }
        int calls = r.calls.get();
        assertTrue(calls > 0);
        assertEquals(1, entries(cache));
        try (TokenizedDataset ds = Datasets.load(f, s, TestFiles.llama(), r)) {
            assertTrue(ds.report().fromCache());
            assertEquals(calls, r.calls.get(), "no rendering (no tokenizing) on the second load");
            assertArrayEquals(first.ids(), ds.sft(1).ids());
            assertArrayEquals(first.targets(), ds.sft(1).targets());
            assertEquals(2, ds.report().records());
            assertTrue(ds.storeFile().startsWith(cache));
        }
        // other settings, other key
        try (TokenizedDataset ds = Datasets.load(f, s.withMaxLength(9), TestFiles.llama(), r)) {
            assertFalse(ds.report().fromCache());
        }
        assertEquals(2, entries(cache));
        // a changed file, another key
        Files.writeString(f, Files.readString(f).replace("bega", "bimu"));
        try (TokenizedDataset ds = Datasets.load(f, s, TestFiles.llama(), r)) {
            assertFalse(ds.report().fromCache());
        }
        assertEquals(3, entries(cache));
    }

    @Test
    void aDamagedEntryIsRebuiltAndBadFilesAreNotCached() throws IOException {
        Path cache = dir.resolve("cache");
        Path f = write(dir, "pc.jsonl", "{\"prompt\": \"bidu\", \"completion\": \" bulu\"}");
        DataSettings s = DataSettings.defaults().withCache(true, cache.toString());
        try (TokenizedDataset ds = Datasets.load(f, s, TestFiles.llama())) {
            assertEquals(1, ds.size());
        }
        Path entry;
        try (Stream<Path> list = Files.list(cache)) {
            entry = list.filter(p -> p.toString().endsWith(".alds")).findFirst().orElseThrow();
        }
        Files.write(entry, new byte[] {1, 2, 3});
        try (TokenizedDataset ds = Datasets.load(f, s, TestFiles.llama())) {
            assertFalse(ds.report().fromCache());
            assertEquals(1, ds.size());
        }
        try (TokenizedDataset ds = Datasets.load(f, s, TestFiles.llama())) {
            assertTrue(ds.report().fromCache());
        }
        Path bad = write(dir, "bad.jsonl", "{\"prompt\": \"bidu\", \"completion\": \"\"}", "{\"prompt\": \"x\", \"completion\": \" y\"}");
        assertThrows(BadInputException.class, () -> Datasets.load(bad, s, TestFiles.llama()));
        assertEquals(1, entries(cache));
        try (Stream<Path> list = Files.list(cache)) {
            assertEquals(1, list.count(), "no temporary files left behind");
        }
        // skipping bad records caches the result, and the report keeps the problems
        try (TokenizedDataset ds = Datasets.load(bad, s.withSkipBadRecords(true), TestFiles.llama())) {
            assertEquals(1, ds.size());
        }
        try (TokenizedDataset ds = Datasets.load(bad, s.withSkipBadRecords(true), TestFiles.llama())) {
            assertTrue(ds.report().fromCache());
            assertEquals(List.of(bad + ":1: completion: empty completion"), ds.report().problems());
        }
    }
}
