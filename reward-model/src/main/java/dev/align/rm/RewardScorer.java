package dev.align.rm;

import ai.djl.ndarray.NDManager;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.scoring.RewardScoring;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.Datasets;
import dev.align.datasets.tokenize.ChatRenderer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Scores texts with a reward model: load once, score many. The Java API behind {@code align score}, and
 * what PPO/GRPO and the demo's win-rate use.
 *
 * <p>Sequences follow the training convention: {@code prompt + completion + eos} tokenized as one string
 * (eos unless the completion already ends with it), or a conversation rendered by the tokenizer's chat
 * template (no eos appended; the template closes the turn). The reward is the score head's output at the
 * last token. Sequences are sorted by length and scored {@code batchSize} at a time (little padding, one
 * batched forward each, no gradients); results come back in input order. The scoring itself is
 * {@link RewardScoring} in core, which the online RL recipes use directly.
 *
 * <p>Not thread-safe: use one scorer per thread.
 */
public final class RewardScorer implements AutoCloseable {
    /** Sequences per forward pass unless told otherwise. */
    public static final int DEFAULT_BATCH_SIZE = 16;

    private final DecoderLM model;
    private final Tokenizer tok;
    private final NDManager root;
    private final boolean owned;
    private final long padId;
    private final int batchSize;
    private ChatRenderer renderer;

    private RewardScorer(DecoderLM model, Tokenizer tok, NDManager root, boolean owned, int batchSize) {
        if (model.config().head() != ModelConfig.Head.SEQUENCE_CLASSIFICATION || model.config().numLabels() != 1) {
            throw new AlignException("a reward model (sequence classification, one label) is needed, this is a "
                    + model.config().head() + " model");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.model = model;
        this.tok = tok;
        this.root = root;
        this.owned = owned;
        this.padId = Datasets.padId(tok);
        this.batchSize = batchSize;
    }

    /**
     * Loads a reward model directory (a full HF model, or a LoRA reward-model directory, see
     * {@link RewardModels#load}) and its tokenizer. The scorer owns them; close it.
     */
    public static RewardScorer load(Path dir, int batchSize) {
        if (!RewardModels.hasRewardHead(dir)) {
            throw new AlignException(dir + ": not a reward model (it has no one-label score head); train one with"
                    + " align rm");
        }
        NDManager root = Engines.newManager();
        Tokenizer tok = null;
        try {
            tok = Tokenizer.load(RewardModels.tokenizerDir(dir));
            DecoderLM model = RewardModels.load(dir, root, null, 0);
            return new RewardScorer(model, tok, root, true, batchSize);
        } catch (RuntimeException e) {
            if (tok != null) {
                tok.close();
            }
            root.close();
            throw e;
        }
    }

    /** {@link #load(Path, int)} with {@link #DEFAULT_BATCH_SIZE}. */
    public static RewardScorer load(Path dir) {
        return load(dir, DEFAULT_BATCH_SIZE);
    }

    /** A scorer over a model and tokenizer the caller keeps (closing the scorer leaves them open). */
    public static RewardScorer of(DecoderLM model, Tokenizer tok, int batchSize) {
        return new RewardScorer(model, tok, model.manager(), false, batchSize);
    }

    /** One reward per (prompt, completion), in order; eos is appended to each completion. */
    public float[] score(List<String> prompts, List<String> completions) {
        return RewardScoring.score(model, tok, prompts, completions, batchSize, padId, root);
    }

    /** The reward of one prompt and completion. */
    public float score(String prompt, String completion) {
        return score(List.of(prompt), List.of(completion))[0];
    }

    /**
     * One reward per conversation (each a list of messages with {@code role} and {@code content}),
     * rendered by the tokenizer's chat template without the generation prompt.
     */
    public float[] scoreConversations(List<List<Map<String, Object>>> conversations) {
        if (renderer == null) {
            renderer = ChatRenderer.of(tok);
        }
        List<long[]> ids = new ArrayList<>(conversations.size());
        for (List<Map<String, Object>> c : conversations) {
            ids.add(tok.encodePlain(renderer.render(c, false).text()));
        }
        return scoreIds(ids);
    }

    /** One reward per tokenized sequence (e.g. {@link PromptCompletion#ids()}). */
    public float[] score(List<PromptCompletion> seqs) {
        List<long[]> ids = new ArrayList<>(seqs.size());
        seqs.forEach(s -> ids.add(s.ids()));
        return scoreIds(ids);
    }

    /** One reward per sequence of token ids (the model's vocabulary), in order. */
    public float[] scoreIds(List<long[]> seqs) {
        return RewardScoring.scoreIds(model, seqs, batchSize, padId, root);
    }

    /** The reward model. */
    public DecoderLM model() {
        return model;
    }

    /** Its tokenizer. */
    public Tokenizer tokenizer() {
        return tok;
    }

    @Override
    public void close() {
        if (owned) {
            model.close();
            tok.close();
            root.close();
        }
    }
}
