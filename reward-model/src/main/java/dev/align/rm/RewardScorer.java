package dev.align.rm;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.data.TokenBatch;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.Datasets;
import dev.align.datasets.tokenize.ChatRenderer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Scores texts with a reward model: load once, score many. The Java API behind {@code align score}, and
 * what PPO/GRPO and the demo's win-rate use.
 *
 * <p>Sequences follow the training convention: {@code prompt + completion + eos} tokenized as one string
 * (eos unless the completion already ends with it), or a conversation rendered by the tokenizer's chat
 * template (no eos appended; the template closes the turn). The reward is the score head's output at the
 * last token. Sequences are sorted by length and scored {@code batchSize} at a time (little padding, one
 * batched forward each, no gradients); results come back in input order.
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
        if (prompts.size() != completions.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts for " + completions.size() + " completions");
        }
        String eos = tok.eosToken();
        if (eos == null) {
            throw new AlignException(tok.dir() + ": the tokenizer has no eos_token to append");
        }
        List<String> texts = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            String c = completions.get(i);
            texts.add(prompts.get(i) + c + (c.endsWith(eos) ? "" : eos));
        }
        return scoreIds(Arrays.asList(tok.encodeBatch(texts, true)));
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
        int max = model.config().maxPositions();
        for (int i = 0; i < seqs.size(); i++) {
            int n = seqs.get(i).length;
            if (n == 0) {
                throw new AlignException("sequence " + i + " is empty: nothing to score");
            }
            if (max > 0 && n > max) {
                throw new AlignException("sequence " + i + " has " + n + " tokens, more than the reward model's"
                        + " max_position_embeddings " + max);
            }
        }
        Integer[] order = IntStream.range(0, seqs.size()).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt(i -> seqs.get(i).length));
        float[] out = new float[seqs.size()];
        for (int start = 0; start < order.length; start += batchSize) {
            int end = Math.min(order.length, start + batchSize);
            List<long[]> rows = new ArrayList<>(end - start);
            for (int i = start; i < end; i++) {
                rows.add(seqs.get(order[i]));
            }
            TokenBatch batch = TokenBatch.rightPadded(rows, new int[rows.size()], padId);
            float[] r;
            try (NDScope scope = new NDScope()) {
                r = Rewards.forward(model, batch, root).toFloatArray(); // [rows]
            }
            for (int i = start; i < end; i++) {
                out[order[i]] = r[i - start];
            }
        }
        return out;
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
