package dev.align.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.scoring.LogProbs;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Log-probs, token ids and logits of the reference checkpoints against the independent PyTorch
 * implementation's outputs (testdata/reference/expected), to 1e-4 absolute. All 32 records go through
 * the model as one right-padded batch, so padding and masking are checked too.
 */
class ReferenceLogProbsTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "qwen2_tied_bf16", "gpt2"})
    void matchesReference(String ckpt) {
        List<JsonNode> expected = Fixtures.jsonl(Fixtures.reference("expected/logprobs_" + ckpt + ".jsonl"));
        List<JsonNode> data = Fixtures.jsonl(Fixtures.reference("data/sft.jsonl"));
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(Fixtures.reference(ckpt));
                DecoderLM model = DecoderLM.load(Fixtures.reference(ckpt), root)) {
            List<long[]> seqs = new ArrayList<>();
            int[] from = new int[data.size()];
            for (int i = 0; i < data.size(); i++) {
                PromptCompletion pc = PromptCompletion.encode(
                        tok, data.get(i).get("prompt").asText(), data.get(i).get("completion").asText(), true);
                JsonNode e = expected.get(i);
                long[] ids = new long[e.get("input_ids").size()];
                for (int j = 0; j < ids.length; j++) {
                    ids[j] = e.get("input_ids").get(j).asLong();
                }
                assertArrayEquals(ids, pc.ids(), "input_ids of record " + i);
                assertEquals(e.get("n_prompt_tokens").asInt(), pc.promptLength(), "prompt length of record " + i);
                seqs.add(pc.ids());
                from[i] = pc.promptLength();
            }
            TokenBatch batch = TokenBatch.rightPadded(seqs, from, tok.padId());
            try (NDScope scope = new NDScope()) {
                TokenBatch.Tensors4 t = batch.toTensors(root, model.config().slidingWindow());
                NDArray hidden = model.hidden(t.ids(), t.positions(), t.mask(), null);
                float[] tokLp = LogProbs.tokenLogProbs(model.logits(hidden), t.labels()).mul(t.weights()).toFloatArray();
                float[] logits = model.logits(hidden).toFloatArray();
                int len = batch.length();
                int vocab = model.config().vocabSize();
                for (int i = 0; i < data.size(); i++) {
                    JsonNode e = expected.get(i);
                    long[] s = seqs.get(i);
                    double sum = 0;
                    JsonNode etl = e.get("token_logprobs");
                    assertEquals(etl.size(), s.length - from[i]);
                    for (int j = from[i]; j < s.length; j++) {
                        float lp = tokLp[i * len + j - 1];
                        assertEquals(etl.get(j - from[i]).asDouble(), lp, 1e-4, ckpt + " record " + i + " token " + j);
                        sum += lp;
                    }
                    assertEquals(e.get("logprob").asDouble(), sum, 1e-4, ckpt + " record " + i + " sum");
                    int last = s.length - 1;
                    for (int v = 0; v < 5; v++) {
                        assertEquals(e.get("logits_head").get(v).asDouble(),
                                logits[(i * len + last) * vocab + v], 1e-4, ckpt + " record " + i + " logit " + v);
                    }
                }
            }
        }
    }
}
