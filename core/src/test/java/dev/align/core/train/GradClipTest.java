package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM.Param;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Global-norm clipping against torch.nn.utils.clip_grad_norm_ and against hand-computed numbers. */
class GradClipTest {

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void matchesTorch(int caseIndex) {
        JsonNode c = TrainTesting.golden("clip.json").get(caseIndex);
        try (NDManager m = Engines.newManager()) {
            List<Param> ps = new ArrayList<>();
            List<float[]> gs = new ArrayList<>();
            for (int i = 0; i < c.get("shapes").size(); i++) {
                long[] shape = TrainTesting.longs(c.get("shapes").get(i));
                float[] g = TrainTesting.floats(c.get("grads").get(i));
                ps.add(TrainTesting.param(m, "p" + i, new float[g.length], shape, true));
                gs.add(g);
            }
            TrainTesting.setGrads(ps, gs);
            double norm = GradClip.clipGlobalNorm(ps, c.get("max_norm").asDouble());
            assertEquals(c.get("total_norm").asDouble(), norm, 1e-6 * Math.max(1, norm), c.get("name").asText());
            for (int i = 0; i < ps.size(); i++) {
                assertArrayEquals(TrainTesting.floats(c.get("clipped").get(i)), TrainTesting.grad(ps.get(i)), 1e-6f,
                        c.get("name").asText() + " grad " + i);
            }
        }
    }

    @Test
    void byHand() {
        // grads (3, 4) and (12): total norm 13; clipped to 1 each is multiplied by 1/(13 + 1e-6)
        try (NDManager m = Engines.newManager()) {
            Param a = TrainTesting.param(m, "a", new float[2], new long[] {2}, true);
            Param b = TrainTesting.param(m, "b", new float[1], new long[] {1}, true);
            Param none = TrainTesting.param(m, "none", new float[3], new long[] {3}, true);
            TrainTesting.setGrads(List.of(a, b), List.of(new float[] {3f, 4f}, new float[] {12f}));
            assertEquals(13.0, GradClip.globalNorm(List.of(a, b, none)), 1e-6);
            double norm = GradClip.clipGlobalNorm(List.of(a, b, none), 1.0);
            assertEquals(13.0, norm, 1e-6);
            double k = 1.0 / (13 + 1e-6);
            assertArrayEquals(new float[] {(float) (3 * k), (float) (4 * k)}, TrainTesting.grad(a), 1e-7f);
            assertArrayEquals(new float[] {(float) (12 * k)}, TrainTesting.grad(b), 1e-7f);
            assertEquals(1.0, GradClip.globalNorm(List.of(a, b)), 1e-6);
            // below the limit nothing changes, bit for bit
            float[] before = TrainTesting.grad(a);
            assertEquals(1.0, GradClip.clipGlobalNorm(List.of(a, b), 5.0), 1e-6);
            assertArrayEquals(before, TrainTesting.grad(a), 0f);
        }
    }

    @Test
    void clipIfSetClipsOnlyWithAPositiveLimit() {
        try (NDManager m = Engines.newManager()) {
            Param a = TrainTesting.param(m, "a", new float[2], new long[] {2}, true);
            TrainTesting.setGrads(List.of(a), List.of(new float[] {3f, 4f}));
            assertEquals(5.0, GradClip.clipIfSet(List.of(a), 0), 1e-6, "0: measured");
            assertArrayEquals(new float[] {3f, 4f}, TrainTesting.grad(a), 0f, "0: left alone");
            assertEquals(5.0, GradClip.clipIfSet(List.of(a), 1.0), 1e-6);
            double k = 1.0 / (5 + 1e-6);
            assertArrayEquals(new float[] {(float) (3 * k), (float) (4 * k)}, TrainTesting.grad(a), 1e-7f, "clipped to 1");
        }
    }

    @Test
    void coefficientIsTorchs() {
        assertEquals(1f, GradClip.coefficient(0.5, 1.0));
        assertEquals((1f / (13f + 1e-6f)) * 2f, GradClip.coefficient(13.0, 2.0));
        assertTrue(Float.isNaN(GradClip.coefficient(Double.NaN, 1.0)));
        assertEquals(0f, GradClip.coefficient(Double.POSITIVE_INFINITY, 1.0));
    }

    @Test
    void nonFiniteNormLeavesGradientsAlone() {
        try (NDManager m = Engines.newManager()) {
            Param a = TrainTesting.param(m, "a", new float[2], new long[] {2}, true);
            TrainTesting.setGrads(List.of(a), List.of(new float[] {Float.NaN, 1f}));
            double norm = GradClip.clipGlobalNorm(List.of(a), 1.0);
            assertTrue(Double.isNaN(norm));
            assertEquals(1f, TrainTesting.grad(a)[1]);
        }
    }
}
