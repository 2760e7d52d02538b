package dev.align.core.train;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;

/**
 * A recipe in miniature, written the way real recipes are meant to be (docs/training.md): setup, then
 * one visible loop. Token-mean cross-entropy on fixed random token batches, 2 micro-batches per step
 * picked by the seeded stream, cosine schedule with warmup, clipping, NaN guard, checkpoints every 3
 * steps keeping 2, metrics every 2 steps.
 */
final class TinyRecipe {
    static final long TOTAL_STEPS = 12;
    static final int ACCUMULATION = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a run did, step by step. */
    static final class Trace {
        final List<Double> losses = new ArrayList<>();
        final List<Double> gradNorms = new ArrayList<>();
        float[] finalWeights;
        long lastStep;
    }

    private final Path out;
    private final String fixture;
    private final List<TokenBatch> data;

    TinyRecipe(Path out, String fixture) {
        this.out = out;
        this.fixture = fixture;
        this.data = TrainTesting.batches(11, 6, 3, 5, 14, 512, 1);
    }

    /**
     * Runs from the start or from the latest checkpoint until {@code stopAfter} (a simulated end of
     * the process) or the last step; {@code nanAt} marks steps whose loss is made NaN.
     */
    Trace run(boolean resume, long stopAfter, LongPredicate nanAt) {
        Path fixtureDir = Fixtures.reference(fixture);
        Path ckpt = resume ? Checkpointer.latest(out).orElseThrow() : null;
        Trace trace = new Trace();
        // ---- setup
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(fixtureDir);
                DecoderLM model = DecoderLM.load(ckpt != null ? ckpt : fixtureDir, root);
                AdamW optimizer = new AdamW(model.parameters(), AdamW.Options.withWeightDecay(0.1))) {
            model.setTrainable(true);
            TrainingState state = ckpt != null ? Checkpointer.resume(ckpt, model, optimizer) : TrainingState.start(17);
            if (ckpt == null) {
                ObjectNode config = JSON.createObjectNode().put("fixture", fixture).put("lr", 5e-3);
                Provenance.write(out, "tiny", config, List.of(Fixtures.reference("data/sft.jsonl")));
            }
            Rng rng = state.rng();
            LrSchedule schedule = LrSchedule.of("cosine", 5e-3, LrSchedule.warmupSteps(0.2, TOTAL_STEPS), TOTAL_STEPS);
            Checkpointer checkpointer = new Checkpointer(out, 3, 2);
            NanGuard guard = new NanGuard(5, out);
            guard.restore(state.nanSkipped());
            long tokensSeen = state.tokensSeen();
            long torchSeed = state.torchSeed();
            try (Metrics metrics = new Metrics(out, TOTAL_STEPS, 2, true, state.globalStep())) {
                // ---- train
                for (long step = state.globalStep() + 1; step <= TOTAL_STEPS; step++) {
                    torchSeed = rng.seedTorch(step);
                    List<TokenBatch> micro = new ArrayList<>();
                    for (int i = 0; i < ACCUMULATION; i++) {
                        micro.add(data.get(rng.nextInt(data.size())));
                    }
                    long total = Accumulation.labelTokens(micro);
                    double loss = 0;
                    long tokens = 0;
                    for (TokenBatch b : micro) {
                        loss += TrainTesting.microStep(model, root, b, total, nanAt.test(step) ? Float.NaN : 1f);
                        tokens += b.tokenCount();
                    }
                    double gradNorm = GradClip.clipGlobalNorm(model.parameters(), 1.0);
                    double lr = schedule.lr(optimizer.updates());
                    if (guard.check(step, loss, gradNorm)) {
                        optimizer.step(lr);
                    }
                    optimizer.zeroGrad();
                    tokensSeen += tokens;
                    double epoch = (double) step / TOTAL_STEPS;
                    metrics.step(step, epoch, loss, gradNorm, lr, tokens, Map.of("tokens", (double) tokens));
                    trace.losses.add(loss);
                    trace.gradNorms.add(gradNorm);
                    trace.lastStep = step;
                    if (checkpointer.due(step, step == TOTAL_STEPS)) {
                        ObjectNode loader = JSON.createObjectNode().put("batches_drawn", rng.position());
                        TrainingState now = new TrainingState(step, epoch, optimizer.updates(), loader, rng, torchSeed,
                                guard.skipped(), tokensSeen, null);
                        checkpointer.save(now, optimizer, model, tok);
                    }
                    if (step == stopAfter) {
                        break;
                    }
                }
            }
            trace.finalWeights = TrainTesting.weights(model);
        }
        return trace;
    }
}
