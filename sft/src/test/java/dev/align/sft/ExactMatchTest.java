package dev.align.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.bundled.Bundled;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exact match: the comparison, and the batched greedy answers against a plain uncached greedy loop. */
class ExactMatchTest {
    @TempDir
    Path tmp;

    @Test
    void comparesInTheTokenizersCanonicalForm() {
        Path dir = Bundled.extractTo(tmp.resolve("bundled"));
        try (Tokenizer tok = Tokenizer.load(dir)) {
            String ref = " The noosh is blue.";
            assertEquals("The noosh is blue .", ExactMatch.canonical(tok, ref), "WordLevel joins tokens with spaces");
            assertEquals(ExactMatch.canonical(tok, ref), ExactMatch.canonical(tok, "The noosh is blue ."));
            assertEquals(ExactMatch.canonical(tok, ref), ExactMatch.canonical(tok, "  The  noosh is blue.\t"));
            assertFalse(ExactMatch.canonical(tok, ref).equals(ExactMatch.canonical(tok, "The noosh is red.")));
            assertFalse(ExactMatch.canonical(tok, ref).equals(ExactMatch.canonical(tok, "The noosh is blue. Yes")));
            assertEquals("The noosh is blue . <unk>", ExactMatch.canonical(tok, "The noosh is blue. Zzyzx"),
                    "a word the vocabulary lacks still counts");
            assertEquals("", ExactMatch.canonical(tok, "  "));
        }
        assertEquals("The noosh is blue .", ExactMatch.firstLine(" The noosh is blue . \nQuestion: ..."));
    }

    @Test
    void batchedAnswersEqualAPlainGreedyLoop() throws Exception {
        Path ckpt = Fixtures.reference("llama_gqa");
        List<ExactMatch.Item> items = new ArrayList<>();
        for (JsonNode r : Fixtures.jsonl(Fixtures.reference("data/sft.jsonl")).subList(0, 7)) {
            items.add(new ExactMatch.Item(r.get("prompt").asText(), r.get("completion").asText()));
        }
        int maxNew = 6;
        try (NDManager root = Engines.newManager(); Tokenizer tok = Tokenizer.load(ckpt);
                DecoderLM model = DecoderLM.load(ckpt, root)) {
            List<String> plain = new ArrayList<>();
            for (ExactMatch.Item it : items) {
                plain.add(greedy(model, tok, tok.encode(it.prompt()), maxNew, root));
            }
            // references: the plain loop's answer for even items (right), something else for odd ones (wrong)
            List<ExactMatch.Item> withRefs = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                withRefs.add(new ExactMatch.Item(items.get(i).prompt(), i % 2 == 0 ? " " + plain.get(i) + " " : " bega"));
            }
            ExactMatch.Result r = ExactMatch.evaluate(model, tok, withRefs, 3, maxNew); // 3 batches, prompts reordered
            for (int i = 0; i < items.size(); i++) {
                assertEquals(plain.get(i), r.answers().get(i).generated(), "item " + i);
                assertEquals(withRefs.get(i), r.answers().get(i).item());
                assertEquals(i % 2 == 0 && !plain.get(i).equals("bega"), r.answers().get(i).correct(), "item " + i);
            }
            assertEquals(4, r.correct());
            assertEquals(4.0 / 7, r.accuracy(), 1e-12);
        }
    }

    /** Greedy decoding by full forward passes, no cache: argmax of the last position, until eos. */
    private static String greedy(DecoderLM model, Tokenizer tok, long[] prompt, int maxNew, NDManager root) {
        long[] ids = prompt;
        List<Long> fresh = new ArrayList<>();
        for (int s = 0; s < maxNew; s++) {
            long next;
            try (NDScope scope = new NDScope()) {
                TokenBatch b = TokenBatch.rightPadded(List.of(ids), new int[] {ids.length}, 0);
                TokenBatch.Tensors4 t = b.toTensors(root, 0);
                NDArray logits = model.logits(model.hidden(t.ids(), t.positions(), t.mask(), null)); // [1,T,V]
                next = logits.get("0, -1, :").argMax().getLong();
            }
            if (next == tok.eosId()) {
                break;
            }
            fresh.add(next);
            ids = Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = next;
        }
        long[] out = fresh.stream().mapToLong(Long::longValue).toArray();
        return tok.decode(out, true).strip();
    }

    @Test
    void readsPromptCompletionRecords() throws Exception {
        Path f = tmp.resolve("qa.jsonl");
        Files.writeString(f, "{\"prompt\": \"Q\", \"completion\": \" A\"}\n{\"prompt\": \"Q\"}\n{\"prompt\": 1, \"completion\": \"x\"}\n");
        BadInputException e = assertThrows(BadInputException.class, () -> ExactMatch.read(f));
        assertTrue(e.getMessage().contains(f + ":2: completion: missing field"), e.getMessage());
        assertTrue(e.getMessage().contains(f + ":3: prompt: expected a string"), e.getMessage());
        Files.writeString(f, "{\"prompt\": \"Q\", \"completion\": \" A\"}\n");
        assertEquals(List.of(new ExactMatch.Item("Q", " A")), ExactMatch.read(f));
    }
}
