package dev.align.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.nd.Tensors;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The sequence-classification head (LlamaForSequenceClassification layout) against the reference:
 * rewards read at the rightmost non-pad token of prompt + response + eos, Bradley-Terry loss and
 * accuracy over testdata/reference/data/pref.jsonl (expected/rm_loss.json).
 */
class RewardHeadTest {

    @Test
    void rewardsMatchReference() {
        JsonNode expected = Fixtures.json(Fixtures.reference("expected/rm_loss.json"));
        List<JsonNode> pairs = Fixtures.jsonl(Fixtures.reference("data/pref.jsonl"));
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(Fixtures.reference("rm_llama"));
                DecoderLM rm = DecoderLM.load(Fixtures.reference("rm_llama"), root)) {
            assertEquals(ModelConfig.Head.SEQUENCE_CLASSIFICATION, rm.config().head());
            List<long[]> seqs = new ArrayList<>();
            for (JsonNode p : pairs) {
                for (String side : new String[] {"chosen", "rejected"}) {
                    seqs.add(PromptCompletion.encode(tok, p.get("prompt").asText(), p.get(side).asText(), true).ids());
                }
            }
            TokenBatch batch = TokenBatch.rightPadded(seqs, new int[seqs.size()], tok.padId());
            float[] r;
            try (NDScope scope = new NDScope()) {
                TokenBatch.Tensors4 t = batch.toTensors(root, 0);
                NDArray hidden = rm.hidden(t.ids(), t.positions(), t.mask(), null);
                NDArray last = Tensors.longs(root, batch.lastTokenIndex(), new Shape(seqs.size()));
                r = rm.score(hidden, last).toFloatArray(); // [2P, 1]
            }
            double loss = 0;
            double acc = 0;
            double margin = 0;
            double chosen = 0;
            double rejected = 0;
            int n = pairs.size();
            for (int i = 0; i < n; i++) {
                double d = r[2 * i] - r[2 * i + 1];
                loss += Math.log1p(Math.exp(-d));
                acc += d > 0 ? 1 : 0;
                margin += d;
                chosen += r[2 * i];
                rejected += r[2 * i + 1];
            }
            assertEquals(expected.get("loss").asDouble(), loss / n, 1e-4);
            assertEquals(expected.get("accuracy").asDouble(), acc / n, 1e-9);
            assertEquals(expected.get("margin").asDouble(), margin / n, 1e-4);
            assertEquals(expected.get("rewards/chosen").asDouble(), chosen / n, 1e-4);
            assertEquals(expected.get("rewards/rejected").asDouble(), rejected / n, 1e-4);
        }
    }
}
