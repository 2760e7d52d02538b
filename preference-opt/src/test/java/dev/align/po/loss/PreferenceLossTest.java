package dev.align.po.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.align.core.Engines;
import dev.align.core.nd.Tensors;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** Each objective against hand-derived values and its gradient against finite differences. */
class PreferenceLossTest {
    private static final double BETA = 0.1;

    private static SequenceLogps logps(NDManager m, double c, double r, double nc, double nr) {
        return new SequenceLogps(
                Tensors.floats(m, new float[] {(float) c}, new Shape(1)),
                Tensors.floats(m, new float[] {(float) r}, new Shape(1)),
                Tensors.floats(m, new float[] {(float) nc}, new Shape(1)),
                Tensors.floats(m, new float[] {(float) nr}, new Shape(1)));
    }

    private static double lossOf(PreferenceLoss loss, SequenceLogps p, SequenceLogps ref) {
        return loss.compute(p, ref).loss().getFloat();
    }

    @Test
    void policyEqualsReference() {
        try (NDManager m = Engines.newManager()) {
            SequenceLogps p = logps(m, -12.5, -20.25, 5, 8);
            assertEquals(Math.log(2), lossOf(new SigmoidLoss(BETA, 0), p, p), 1e-6);
            assertEquals(Math.log(2), lossOf(new SigmoidLoss(BETA, 0.1), p, p), 1e-6);
            assertEquals(Math.log(2), lossOf(new RobustLoss(BETA, 0.1), p, p), 1e-6);
            assertEquals(1.0, lossOf(new HingeLoss(BETA), p, p), 1e-6);
            assertEquals(1 / Math.pow(2 * BETA, 2), lossOf(new IpoLoss(BETA), p, p), 1e-4);
        }
    }

    @Test
    void handDerivedValues() {
        try (NDManager m = Engines.newManager()) {
            // policy chosen −10 (4 tokens), rejected −14 (7 tokens); reference −11, −13
            SequenceLogps p = logps(m, -10, -14, 4, 7);
            SequenceLogps ref = logps(m, -11, -13, 4, 7);
            double h = (-10 + 14) - (-11 + 13); // 2
            double bh = BETA * h; // 0.2
            assertEquals(-Math.log(sig(bh)), lossOf(new SigmoidLoss(BETA, 0), p, ref), 1e-6);
            assertEquals(-0.9 * Math.log(sig(bh)) - 0.1 * Math.log(sig(-bh)), lossOf(new SigmoidLoss(BETA, 0.1), p, ref), 1e-6);
            assertEquals((-0.9 * Math.log(sig(bh)) + 0.1 * Math.log(sig(-bh))) / 0.8, lossOf(new RobustLoss(BETA, 0.1), p, ref), 1e-6);
            assertEquals(1 - bh, lossOf(new HingeLoss(BETA), p, ref), 1e-6);
            double hIpo = (-10 + 11) / 4.0 - (-14 + 13) / 7.0;
            assertEquals(Math.pow(hIpo - 1 / (2 * BETA), 2), lossOf(new IpoLoss(BETA), p, ref), 1e-4);
            double z = 2.0 * (-10 / 4.0 + 14 / 7.0) - 0.5; // SimPO β=2, γ=0.5
            assertEquals(-Math.log(sig(z)), lossOf(new SimPoLoss(2.0, 0.5, 0), p, null), 1e-6);
            double pc = -10 / 4.0;
            double pr = -14 / 7.0;
            double logOdds = (pc - pr) - (Math.log(1 - Math.exp(pc)) - Math.log(1 - Math.exp(pr)));
            assertEquals(10 / 4.0 - BETA * Math.log(sig(logOdds)), lossOf(new OrpoLoss(BETA), p, null), 1e-6);
            // RPO: + α·NLL(chosen) = α·10/4 per chosen token, rewards unchanged
            assertEquals(-Math.log(sig(bh)) + 0.5 * 10 / 4.0, lossOf(new RpoLoss(new SigmoidLoss(BETA, 0), 0.5), p, ref), 1e-6);
            PreferenceLoss.Output o = new SigmoidLoss(BETA, 0).compute(p, ref);
            assertEquals(BETA * (-10 + 11), o.chosenRewards().getFloat(), 1e-6);
            assertEquals(BETA * (-14 + 13), o.rejectedRewards().getFloat(), 1e-6);
        }
    }

    /** d loss / d log π(c) and d log π(r) from autograd against central differences in double. */
    @Test
    void gradientsMatchFiniteDifferences() {
        PreferenceLoss[] losses = {
            new SigmoidLoss(BETA, 0.1), new RobustLoss(BETA, 0.2), new HingeLoss(BETA), new IpoLoss(BETA),
            new SimPoLoss(2.0, 0.5, 0.1), new OrpoLoss(BETA), new RpoLoss(new SigmoidLoss(BETA, 0), 1.0)
        };
        try (NDManager m = Engines.newManager()) {
            SequenceLogps ref = logps(m, -9.5, -13.0, 4, 7);
            for (int rep = 0; rep < 20; rep++) { // repeated with GCs: catches freed-scalar corruption
                for (PreferenceLoss loss : losses) {
                    double c0 = -10.0;
                    double r0 = -14.0;
                    NDArray c = Tensors.floats(m, new float[] {(float) c0}, new Shape(1));
                    NDArray r = Tensors.floats(m, new float[] {(float) r0}, new Shape(1));
                    c.setRequiresGradient(true);
                    r.setRequiresGradient(true);
                    SequenceLogps p = new SequenceLogps(c, r, ref.chosenTokens(), ref.rejectedTokens());
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(loss.compute(p, loss.referenceFree() ? null : ref).loss());
                    }
                    double gc = c.getGradient().getFloat();
                    double gr = r.getGradient().getFloat();
                    DoubleUnaryOperator fc = x -> lossOf(loss, logps(m, x, r0, 4, 7), loss.referenceFree() ? null : ref);
                    DoubleUnaryOperator fr = x -> lossOf(loss, logps(m, c0, x, 4, 7), loss.referenceFree() ? null : ref);
                    double e = 1e-2;
                    assertEquals((fc.applyAsDouble(c0 + e) - fc.applyAsDouble(c0 - e)) / (2 * e), gc, 2e-4, loss.getClass().getSimpleName() + " d/dc");
                    assertEquals((fr.applyAsDouble(r0 + e) - fr.applyAsDouble(r0 - e)) / (2 * e), gr, 2e-4, loss.getClass().getSimpleName() + " d/dr");
                }
                System.gc();
            }
        }
    }

    private static double sig(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
