package dev.align.core.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.Engines;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ScratchOpsTest {
    static void time(String name, Supplier<NDArray> f) {
        for (int w = 0; w < 200; w++) try (NDScope s = new NDScope()) { f.get(); }
        double best = 1e9;
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 500; i++) try (NDScope s = new NDScope()) { f.get(); }
            best = Math.min(best, (System.nanoTime() - t0) / 1e3 / 500);
        }
        System.out.printf("OP %-40s %8.1f us%n", name, best);
    }

    @Test
    void measure() {
        try (NDManager m = Engines.newManager()) {
            NDArray cache = m.randomNormal(new Shape(1, 8, 96, 64));
            NDArray q = m.randomNormal(new Shape(1, 8, 1, 64));
            NDArray kview = JniUtils.slice((PtNDArray) cache, 2, 0, 90, 1);
            NDArray kcont = kview.duplicate();
            NDArray small = m.randomNormal(new Shape(1, 1, 512));
            NDArray w = m.randomNormal(new Shape(1536, 512));
            NDArray wbig = m.randomNormal(new Shape(8000, 512));
            time("add small", () -> small.add(small));
            time("mul scalar number", () -> small.mul(2f));
            time("reshape", () -> small.reshape(1, 512));
            time("getShape+reshape", () -> small.reshape(small.getShape().get(0), 512));
            time("matmul q kview^T", () -> q.matMul(kview.transpose(0, 1, 3, 2)));
            time("matmul q kcont^T", () -> q.matMul(kcont.transpose(0, 1, 3, 2)));
            time("mul-sum q*k", () -> kview.mul(q).sum(new int[] {3}));
            time("matmul kview q^T", () -> kview.matMul(q.transpose(0, 1, 3, 2)));
            time("softmax 90", () -> q.softmax(-1));
            time("linear 512->1536", () -> JniUtils.linear((PtNDArray) small, (PtNDArray) w, null));
            time("linear 512->8000", () -> JniUtils.linear((PtNDArray) small, (PtNDArray) wbig, null));
            time("toFloatArray small", () -> { small.toFloatArray(); return small; });
        }
    }
}
