package dev.align.po.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.io.SafeTensors;
import dev.align.core.model.DecoderLM;
import dev.align.core.scoring.RewardScoring;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.core.train.Checkpointer;
import dev.align.po.rollout.RolloutBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

/**
 * PPO's critic, separate from the policy as in TRL's PPOTrainer: a transformer with a one-output score
 * head, initialised from a reward model ({@code value_model}, by default {@code reward_model}) and trained
 * in full. Its value of the state before completion token j is the head applied to the hidden state at
 * the slot that predicts token j ({@link RolloutBatch#values}).
 *
 * <p>Saved as an HF {@code *ForSequenceClassification} directory {@code value_model/} beside the policy
 * (in the output directory and in every checkpoint; TRL saves only the policy, so a TRL user finds the
 * policy where they expect it and the critic in its own loadable directory).
 */
public final class ValueModel implements AutoCloseable {
    /** The critic's directory inside an output directory or checkpoint. */
    public static final String DIR = "value_model";

    private final DecoderLM model;

    private ValueModel(DecoderLM model) {
        this.model = model;
    }

    /**
     * Loads the critic from {@code start} (or from {@code ckpt/value_model} when resuming).
     *
     * @param vocabSize the policy's vocabulary: the critic reads the policy's tokens, so they must agree
     */
    public static ValueModel load(Path start, Path ckpt, int vocabSize, NDManager root) {
        Path dir = ckpt != null ? ckpt.resolve(DIR) : start;
        DecoderLM m = DecoderLM.load(dir, root);
        try {
            RewardScoring.requireRewardHead(m, "value_model: " + dir);
            if (m.config().vocabSize() != vocabSize) {
                throw new BadInputException("value_model: " + dir + " has a vocabulary of " + m.config().vocabSize()
                        + " tokens, the policy " + vocabSize + ": the critic reads the policy's tokens, so it needs the"
                        + " policy's tokenizer");
            }
            if (ckpt != null) {
                restoreMaster(dir, m);
            }
            m.setTrainable(true);
            return new ValueModel(m);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** The critic model. */
    public DecoderLM model() {
        return model;
    }

    /**
     * Values of the states before each completion token.
     *
     * @return [b, L]
     */
    public NDArray values(RolloutBatch.Inputs in) {
        return RolloutBatch.values(model, in);
    }

    /** Writes the critic (HF directory and tokenizer files) to {@code parent/value_model}. */
    public void save(Path parent, Tokenizer tok) {
        Path d = parent.resolve(DIR);
        model.save(d);
        tok.copyFilesTo(d);
    }

    /**
     * Writes the critic into a checkpoint: {@code ckpt/value_model}, plus its exact FLOAT32 weights in
     * {@code value_model/training_state/master_weights.safetensors} when it is stored narrower (a BF16
     * reward model keeps its dtype on save), so that a resume continues bit for bit.
     */
    public void checkpoint(Path ckpt, Tokenizer tok) {
        Path d = ckpt.resolve(DIR);
        try {
            Files.createDirectories(d.resolve(Checkpointer.STATE_DIR));
        } catch (IOException e) {
            throw new AlignException(d + ": cannot create: " + e.getMessage(), e);
        }
        Checkpointer.hfModel(model, tok).write(d);
        Path sd = d.resolve(Checkpointer.STATE_DIR);
        try (Stream<Path> s = Files.list(sd)) {
            if (s.findAny().isEmpty()) {
                Files.delete(sd);
            }
        } catch (IOException e) {
            throw new AlignException(sd + ": " + e.getMessage(), e);
        }
    }

    /** Copies the exact weights a checkpoint saved beside a narrower-stored critic back into it. */
    private static void restoreMaster(Path dir, DecoderLM m) {
        Path master = dir.resolve(Checkpointer.STATE_DIR).resolve(Checkpointer.MASTER_WEIGHTS);
        if (!Files.isRegularFile(master)) {
            return;
        }
        try (SafeTensors.Reader r = SafeTensors.open(master); NDScope scope = new NDScope()) {
            for (DecoderLM.Param p : m.parameters()) {
                SafeTensors.Entry e = r.entry(p.name());
                if (!Arrays.equals(e.shape(), p.value().getShape().getShape())) {
                    throw new AlignException(master + ": tensor '" + p.name() + "' is " + Arrays.toString(e.shape())
                            + ", the critic's is " + p.value().getShape());
                }
                p.value().set(new NDIndex(":"), r.read(p.name(), m.manager())); // in place
            }
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
