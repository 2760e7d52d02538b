package dev.align.po.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM;
import dev.align.core.nd.Tensors;
import dev.align.core.scoring.SequenceScorer;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DPO metrics of the reference policy/reference pair on testdata/reference/data/pref.jsonl against the
 * independent implementation's expected/dpo_*.json (β = 0.1), to 1e-4.
 */
class ReferenceDpoTest {

    @ParameterizedTest
    @CsvSource({"sigmoid,0.0", "sigmoid,0.1", "ipo,0.0", "hinge,0.0", "robust,0.1"})
    void matchesReference(String type, double eps) {
        JsonNode exp = Fixtures.json(Fixtures.reference("expected/dpo_" + type + "_ls" + eps + ".json"));
        List<JsonNode> data = Fixtures.jsonl(Fixtures.reference("data/pref.jsonl"));
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(Fixtures.reference("dpo_policy"));
                DecoderLM policy = DecoderLM.load(Fixtures.reference("dpo_policy"), root);
                DecoderLM ref = DecoderLM.load(Fixtures.reference("dpo_ref"), root)) {
            List<PromptCompletion> seqs = new ArrayList<>();
            for (JsonNode d : data) {
                seqs.add(PromptCompletion.encode(tok, d.get("prompt").asText(), d.get("chosen").asText(), true));
                seqs.add(PromptCompletion.encode(tok, d.get("prompt").asText(), d.get("rejected").asText(), true));
            }
            List<SequenceScorer.Score> sp = SequenceScorer.score(policy, seqs, 16, tok.padId(), root);
            List<SequenceScorer.Score> sr = SequenceScorer.score(ref, seqs, 16, tok.padId(), root);
            int n = data.size();
            try (NDScope scope = new NDScope()) {
                SequenceLogps p = logps(root, sp, n);
                SequenceLogps r = logps(root, sr, n);
                PreferenceLoss.Output o = PreferenceLosses.create(type, 0.1, eps, 0).compute(p, r);
                assertEquals(exp.get("loss").asDouble(), o.loss().getFloat(), 1e-4, "loss");
                float[] rc = o.chosenRewards().toFloatArray();
                float[] rr = o.rejectedRewards().toFloatArray();
                double mc = 0;
                double mr = 0;
                double acc = 0;
                for (int i = 0; i < n; i++) {
                    mc += rc[i] / n;
                    mr += rr[i] / n;
                    acc += rc[i] > rr[i] ? 1.0 / n : 0;
                }
                assertEquals(exp.get("rewards/chosen").asDouble(), mc, 1e-4);
                assertEquals(exp.get("rewards/rejected").asDouble(), mr, 1e-4);
                assertEquals(exp.get("rewards/margins").asDouble(), mc - mr, 1e-4);
                assertEquals(exp.get("rewards/accuracies").asDouble(), acc, 1e-9);
                assertEquals(exp.get("logps/chosen").asDouble(), p.chosen().mean().getFloat(), 1e-4);
                assertEquals(exp.get("logps/rejected").asDouble(), p.rejected().mean().getFloat(), 1e-4);
            }
        }
    }

    private static SequenceLogps logps(NDManager m, List<SequenceScorer.Score> s, int n) {
        float[] c = new float[n];
        float[] r = new float[n];
        float[] nc = new float[n];
        float[] nr = new float[n];
        for (int i = 0; i < n; i++) {
            c[i] = (float) s.get(2 * i).logprob();
            r[i] = (float) s.get(2 * i + 1).logprob();
            nc[i] = s.get(2 * i).tokens();
            nr[i] = s.get(2 * i + 1).tokens();
        }
        Shape sh = new Shape(n);
        return new SequenceLogps(Tensors.floats(m, c, sh), Tensors.floats(m, r, sh), Tensors.floats(m, nc, sh), Tensors.floats(m, nr, sh));
    }
}
