package dev.align.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Prompt/completion tokenization against the independent reference (testdata/reference/expected: the
 * token ids and prompt lengths transformers/TRL produce for data/sft.jsonl with each checkpoint's
 * tokenizer): bos added by the post-processor (llama) or not (qwen2, gpt2), eos appended, the loss
 * mask over exactly the completion tokens.
 */
class TokenizationConventionTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "qwen2_tied_bf16", "gpt2"})
    void promptCompletionIdsAndMasksMatchTheReference(String ckpt) {
        List<JsonNode> expected = Fixtures.jsonl(Fixtures.reference("expected/logprobs_" + ckpt + ".jsonl"));
        try (Tokenizer tok = Tokenizer.load(Fixtures.reference(ckpt));
                TokenizedDataset ds = Datasets.load(Fixtures.reference("data/sft.jsonl"),
                        DataSettings.defaults().withCache(false, null), tok)) {
            assertEquals("prompt_completion", ds.format().id());
            assertEquals(expected.size(), ds.size());
            int lossTokens = 0;
            for (int i = 0; i < ds.size(); i++) {
                JsonNode e = expected.get(i);
                SftExample x = ds.sft(i);
                long[] ids = new long[e.get("input_ids").size()];
                for (int j = 0; j < ids.length; j++) {
                    ids[j] = e.get("input_ids").get(j).asLong();
                }
                assertArrayEquals(ids, x.ids(), ckpt + " record " + i);
                int promptLength = e.get("n_prompt_tokens").asInt();
                for (int j = 0; j < ids.length; j++) {
                    assertEquals(j >= promptLength, x.targets()[j], ckpt + " record " + i + " token " + j);
                }
                assertEquals(e.get("n_tokens").asInt(), x.lossTokens());
                assertEquals(i + 1, x.line());
                lossTokens += x.lossTokens();
            }
            // the file's completion-token total that the reference SFT loss averages over
            assertEquals(Fixtures.json(Fixtures.reference("expected/sft_loss_" + ckpt + ".json")).get("n_tokens").asInt(),
                    lossTokens);
            DataReport r = ds.report();
            assertEquals(32, r.records());
            assertEquals(0, r.badRecords());
            assertFalse(r.fromCache());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "gpt2"})
    void preferencePairsShareTheirPrompt(String ckpt) {
        try (Tokenizer tok = Tokenizer.load(Fixtures.reference(ckpt));
                TokenizedDataset ds = Datasets.load(Fixtures.reference("data/pref.jsonl"),
                        DataSettings.defaults().withCache(false, null).withSkipBadRecords(true), tok)) {
            assertEquals("preference", ds.format().id());
            // the reference file has one record whose chosen and rejected are the same text
            assertEquals(List.of(Fixtures.reference("data/pref.jsonl") + ":5: rejected: same as chosen"),
                    ds.report().problems());
            List<JsonNode> data = Fixtures.jsonl(Fixtures.reference("data/pref.jsonl"));
            assertEquals(data.size() - 1, ds.size());
            for (int k = 0; k < ds.size(); k++) {
                PreferencePair p = ds.pair(k);
                int i = p.line() - 1;
                long[] prompt = tok.encode(data.get(i).get("prompt").asText());
                assertEquals(prompt.length, p.chosen().promptLength());
                assertEquals(prompt.length, p.rejected().promptLength());
                assertArrayEquals(tok.encode(data.get(i).get("prompt").asText() + data.get(i).get("chosen").asText()
                        + tok.eosToken()), p.chosen().ids());
                long eos = tok.eosId();
                assertEquals(eos, p.rejected().ids()[p.rejected().ids().length - 1]);
                assertTrue(p.chosen().completionLength() > 0);
            }
        }
    }
}
