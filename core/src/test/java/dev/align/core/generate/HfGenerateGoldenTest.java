package dev.align.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Against transformers itself: {@code hf_generate.json} holds {@code model.generate(do_sample=False)} on
 * the reference checkpoints (KV cache, left-padded batch of three prompts, with and without a
 * repetition penalty of 1.5), written by {@code hf_generate.py} beside it. The generator must produce
 * the same tokens with the same raw log-probs, and the decode session the same raw logits.
 */
class HfGenerateGoldenTest {

    @Test
    void matchesTransformersGreedyGenerate() throws IOException {
        JsonNode golden;
        try (InputStream in = getClass().getResourceAsStream("hf_generate.json")) {
            golden = new ObjectMapper().readTree(in);
        }
        List<String> prompts = new ArrayList<>();
        golden.get("prompts").forEach(p -> prompts.add(p.asText()));
        int maxNew = golden.get("max_new_tokens").asInt();
        int checked = 0;
        for (JsonNode c : golden.get("cases")) {
            String ckpt = c.get("checkpoint").asText();
            double penalty = c.get("repetition_penalty").asDouble();
            try (NDManager root = Engines.newManager();
                    Tokenizer tok = Tokenizer.load(Fixtures.reference(ckpt));
                    DecoderLM model = DecoderLM.load(Fixtures.reference(ckpt), root)) {
                List<long[]> ids = new ArrayList<>();
                for (int r = 0; r < prompts.size(); r++) {
                    long[] p = tok.encode(prompts.get(r));
                    assertArrayEquals(longs(c.get("rows").get(r).get("prompt_ids")), p, ckpt + " prompt " + r);
                    ids.add(p);
                }
                GenerationConfig cfg = GenerationConfig.of(maxNew, SamplingParams.greedy().withRepetitionPenalty(penalty))
                        .withPadTokenId(tok.padId());
                List<Generation> gens = new Generator(model, tok).generate(ids, cfg);
                for (int r = 0; r < prompts.size(); r++) {
                    JsonNode row = c.get("rows").get(r);
                    String where = ckpt + " penalty " + penalty + " row " + r;
                    assertArrayEquals(longs(row.get("tokens")), gens.get(r).tokens(), where + " tokens");
                    assertEquals(Generation.FinishReason.LENGTH, gens.get(r).finishReason());
                    for (int s = 0; s < maxNew; s++) {
                        assertEquals(row.get("raw_logprobs").get(s).asDouble(), gens.get(r).rawLogprobs()[s], 1e-4,
                                where + " raw logprob " + s);
                    }
                    checked++;
                }
                if (penalty == 1.0) {
                    checkProbeLogits(golden, c, model, tok, ids);
                }
            }
        }
        assertEquals(18, checked);
    }

    /** The session's raw logits at the probe ids, step by step, fed transformers' tokens. */
    private static void checkProbeLogits(JsonNode golden, JsonNode c, DecoderLM model, Tokenizer tok, List<long[]> ids) {
        int maxNew = golden.get("max_new_tokens").asInt();
        int vocab = model.config().vocabSize();
        try (DecodeSession s = new DecodeSession(model, ids, maxNew, tok.padId(), model.manager())) {
            float[] logits;
            try (NDScope scope = new NDScope()) {
                logits = s.prefill().toFloatArray();
            }
            for (int step = 0; step < maxNew; step++) {
                long[] next = new long[ids.size()];
                for (int r = 0; r < ids.size(); r++) {
                    JsonNode row = c.get("rows").get(r);
                    for (int k = 0; k < golden.get("probe_ids").size(); k++) {
                        int v = golden.get("probe_ids").get(k).asInt();
                        assertEquals(row.get("probe_logits").get(step).get(k).asDouble(), logits[r * vocab + v], 1e-4,
                                c.get("checkpoint").asText() + " step " + step + " row " + r + " logit " + v);
                    }
                    next[r] = row.get("tokens").get(step).asLong();
                }
                if (step + 1 < maxNew) {
                    try (NDScope scope = new NDScope()) {
                        logits = s.step(next).toFloatArray();
                    }
                }
            }
        }
    }

    private static long[] longs(JsonNode a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asLong();
        }
        return out;
    }
}
