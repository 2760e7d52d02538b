package dev.align.core.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScratchStepTest {
    @Test
    void measure() {
        int batch = Integer.getInteger("b", 1);
        ObjectNode j = new ObjectMapper().createObjectNode();
        j.put("model_type", "llama").put("vocab_size", 8000).put("hidden_size", 512).put("intermediate_size", 1376)
                .put("num_hidden_layers", 8).put("num_attention_heads", 8).put("num_key_value_heads", 8)
                .put("max_position_embeddings", 4096);
        j.putArray("architectures").add("LlamaForCausalLM");
        ModelConfig cfg = ModelConfig.of(j, "bench");
        try (NDManager root = Engines.newManager(); DecoderLM model = DecoderLM.init(cfg, 3, root)) {
            List<long[]> prompts = new ArrayList<>();
            for (int r = 0; r < batch; r++) { long[] p = new long[32]; Arrays.fill(p, 7 + r); prompts.add(p); }
            double bestStep = 1e9, bestMm = 1e9;
            for (int rep = 0; rep < Integer.getInteger("reps", 12); rep++) {
                // full decode steps
                try (DecodeSession s = new DecodeSession(model, prompts, 70, 0, root);
                     Sampler sm = new Sampler(SamplingParams.greedy(), batch, 8000, root)) {
                    try (NDScope sc = new NDScope()) { sm.choose(s.prefill()); }
                    long[] next = new long[batch];
                    long t0 = System.nanoTime();
                    for (int i = 0; i < 63; i++) {
                        try (NDScope sc = new NDScope()) { next = sm.choose(s.step(next)).tokens(); }
                    }
                    double stepMs = (System.nanoTime() - t0) / 1e6 / 63;
                    // matmuls only
                    List<NDArray> ws = new ArrayList<>();
                    for (DecoderLM.Param p : model.parameters()) if (p.value().getShape().dimension() == 2 && !p.name().equals("embed")) ws.add(p.value());
                    NDArray x512 = root.ones(new Shape(batch, 1, 512));
                    NDArray x1376 = root.ones(new Shape(batch, 1, 1376));
                    long t1 = System.nanoTime();
                    for (int i = 0; i < 63; i++) {
                        try (NDScope sc = new NDScope()) {
                            for (NDArray w : ws) {
                                NDArray x = w.getShape().get(1) == 512 ? x512 : x1376;
                                JniUtils.linear((PtNDArray) x, (PtNDArray) w, null);
                            }
                        }
                    }
                    double mmMs = (System.nanoTime() - t1) / 1e6 / 63;
                    x512.close(); x1376.close();
                    bestStep = Math.min(bestStep, stepMs); bestMm = Math.min(bestMm, mmMs);
                    System.out.printf("STEP batch %d: full step %.2f ms, matmuls only %.2f ms (%d weights)%n", batch, stepMs, mmMs, ws.size());
                }
            }
            System.out.printf("BEST batch %d: full step %.2f ms, matmuls only %.2f ms%n", batch, bestStep, bestMm);
        }
    }
}
