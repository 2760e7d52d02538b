package dev.align.po.rollout;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.align.core.BadInputException;
import dev.align.core.lora.LoraAdapters;
import dev.align.core.lora.LoraConfig;
import dev.align.core.model.Adapters;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.core.train.Checkpointer;
import dev.align.core.train.TrainingArgs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The policy being trained and its frozen reference.
 *
 * <ul>
 *   <li>Full fine-tuning: the policy is loaded from the model (or the checkpoint being resumed) and
 *       trained in full; the reference is a second copy of the ORIGINAL model ({@code model}, also on
 *       resume), loaded only when the method needs it.
 *   <li>LoRA ({@code lora_r > 0}): adapters on the model are trained; the reference is the same model
 *       with the adapters switched off (TRL's PEFT path: no second copy). Adapters are saved in PEFT's
 *       format; dropout is not applied (see the RL docs: log-prob ratios must be exactly the policy's).
 * </ul>
 *
 * The reference runs outside any GradientCollector, so no graph is built for it.
 */
public final class Policy implements AutoCloseable {
    /** Where the merged model goes with LoRA and {@code merge_lora}. */
    public static final String MERGED_DIR = "merged";

    private final DecoderLM model;
    private final LoraAdapters lora;
    private final DecoderLM reference;
    private final String baseModel;

    private Policy(DecoderLM model, LoraAdapters lora, DecoderLM reference, String baseModel) {
        this.model = model;
        this.lora = lora;
        this.reference = reference;
        this.baseModel = baseModel;
    }

    /** Fails unless {@code dir} is a full causal-LM model directory. */
    public static Path checkModelDir(String dir) {
        Path p = Path.of(dir);
        if (!Files.isDirectory(p)) {
            throw new BadInputException("model: " + p + " is not a directory");
        }
        if (!Files.isRegularFile(p.resolve("config.json"))) {
            if (Files.isRegularFile(p.resolve("adapter_config.json"))) {
                throw new BadInputException("model: " + p + " is a LoRA adapter; start from a full model (merge it first:"
                        + " merge_lora: true, or align merge)");
            }
            throw new BadInputException("model: " + p + " is not a model directory (no config.json)");
        }
        return p;
    }

    /**
     * Loads the policy (and its reference when {@code needReference}).
     *
     * @param ckpt the checkpoint being resumed, or null
     */
    public static Policy load(TrainingArgs a, Path modelDir, Path ckpt, boolean needReference, NDManager root) {
        DecoderLM model = DecoderLM.load(a.lora() || ckpt == null ? modelDir : ckpt, root);
        LoraAdapters lora = null;
        DecoderLM ref = null;
        try {
            if (model.config().head() != ModelConfig.Head.CAUSAL_LM) {
                throw new BadInputException("model: " + modelDir + " is not a causal language model (it has a "
                        + model.config().head() + " head)");
            }
            if (a.lora()) {
                model.setTrainable(false);
                lora = ckpt != null ? LoraAdapters.load(ckpt, model)
                        : LoraAdapters.create(model, new LoraConfig(a.loraR(), a.loraAlpha(), a.loraDropout(),
                                a.loraTargetModules()), a.seed());
                lora.setTrainable(true);
                lora.setTraining(false); // no dropout: ratios and KL are the policy's own
            } else {
                model.setTrainable(true);
                if (needReference) {
                    ref = DecoderLM.load(modelDir, root);
                }
            }
            return new Policy(model, lora, ref, a.model());
        } catch (RuntimeException e) {
            if (lora != null) {
                lora.close();
            }
            model.close();
            throw e;
        }
    }

    /** The policy model (with its adapters attached under LoRA). */
    public DecoderLM model() {
        return model;
    }

    /** The parameters the optimizer updates. */
    public List<DecoderLM.Param> trainable() {
        return lora != null ? lora.parameters() : model.parameters();
    }

    /** Sets the attention implementation of the policy and the reference. */
    public void setAttention(DecoderLM.AttentionImpl impl) {
        model.setAttention(impl);
        if (reference != null) {
            reference.setAttention(impl);
        }
    }

    /**
     * The reference model's log-probs of the completion tokens (call outside any GradientCollector).
     *
     * @return [b, L]
     */
    public NDArray referenceLogProbs(RolloutBatch.Inputs in) {
        if (reference != null) {
            return RolloutBatch.logProbs(reference, in);
        }
        if (lora == null) {
            throw new IllegalStateException("the policy was loaded without a reference");
        }
        Adapters a = model.adapters();
        model.setAdapters(null);
        try {
            return RolloutBatch.logProbs(model, in);
        } finally {
            model.setAdapters(a);
        }
    }

    /** Writes the policy into a checkpoint: the HF model, or the PEFT adapter directory. */
    public Checkpointer.ModelWriter writer(Tokenizer tok) {
        if (lora == null) {
            return Checkpointer.hfModel(model, tok);
        }
        return dir -> {
            lora.save(dir, baseModel);
            tok.copyFilesTo(dir);
        };
    }

    /**
     * The final save into {@code out}: the HF model and tokenizer, or with LoRA the PEFT adapter directory
     * (plus the merged model in {@code out/merged} when {@code merge}).
     */
    public void save(Path out, Tokenizer tok, boolean merge) {
        if (lora == null) {
            model.save(out);
            tok.copyFilesTo(out);
            return;
        }
        lora.save(out, baseModel);
        tok.copyFilesTo(out);
        if (merge) {
            lora.mergeInto(model);
            model.save(out.resolve(MERGED_DIR));
            tok.copyFilesTo(out.resolve(MERGED_DIR));
        }
    }

    @Override
    public void close() {
        if (reference != null) {
            reference.close();
        }
        if (lora != null) {
            lora.close();
        }
        model.close();
    }
}
