package dev.align.rm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.lora.LoraAdapters;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.model.ModelConfig.Head;
import dev.align.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loading and saving reward models: a transformer with a one-output score head in Hugging Face's
 * {@code *ForSequenceClassification} layout ({@code score.weight} [1, hidden]).
 *
 * <ul>
 *   <li>From a causal LM or an SFT checkpoint the transformer is loaded and the head is freshly
 *       initialised from N(0, σ²) with σ = 1/sqrt(hidden + 1) by default (the reward head initialisation
 *       of Stiennon et al. 2020 / OpenAI's lm-human-preferences), or the given σ.
 *   <li>From an existing reward model (one label) everything is loaded, the head included.
 *   <li>From a LoRA reward-model directory ({@code adapter_config.json}, PEFT format, as {@code align rm}
 *       writes with {@code lora_r > 0}) the base named by {@code base_model_name_or_path} is loaded, the
 *       adapters and the saved score head applied, and the adapters merged.
 * </ul>
 */
public final class RewardModels {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The reward head's parameter (and PEFT module) name. */
    public static final String SCORE = "score";

    private RewardModels() {}

    /** The default head initialisation σ = 1/sqrt(hidden + 1). */
    public static float defaultHeadStd(int hidden) {
        return (float) (1.0 / Math.sqrt(hidden + 1.0));
    }

    /** Whether {@code dir} is a PEFT adapter directory. */
    public static boolean isAdapter(Path dir) {
        return Files.isRegularFile(dir.resolve("adapter_config.json")) && !Files.isRegularFile(dir.resolve("config.json"));
    }

    /** Whether loading {@code dir} as a reward model keeps its head (it is a one-label reward model). */
    public static boolean hasRewardHead(Path dir) {
        if (isAdapter(dir)) {
            return true;
        }
        ModelConfig c = ModelConfig.load(dir);
        return c.head() == Head.SEQUENCE_CLASSIFICATION && c.numLabels() == 1;
    }

    /**
     * Loads {@code dir} (an HF model directory or a LoRA reward-model directory) as a reward model.
     *
     * @param headStd σ of a fresh head; null for 1/sqrt(hidden + 1)
     * @param seed seed of a fresh head's initialisation
     */
    public static DecoderLM load(Path dir, NDManager root, Double headStd, long seed) {
        if (isAdapter(dir)) {
            return loadAdapter(adapterBase(dir), dir, root);
        }
        return loadFull(dir, root, headStd, seed);
    }

    /**
     * A LoRA reward model: {@code base} as a reward model, the adapters of {@code adapterDir} and its saved
     * score head applied, the adapters merged into the weights.
     */
    public static DecoderLM loadAdapter(Path base, Path adapterDir, NDManager root) {
        requireHead(adapterDir);
        DecoderLM model = loadFull(base, root, null, 0);
        try (LoraAdapters lora = LoraAdapters.load(adapterDir, model)) { // restores the saved score head too
            lora.mergeInto(model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /** Whether {@code adapterDir} holds a reward-model adapter (PEFT task type SEQ_CLS). */
    public static boolean isRewardAdapter(Path adapterDir) {
        return Files.isRegularFile(adapterDir.resolve("adapter_config.json"))
                && "SEQ_CLS".equals(adapterConfig(adapterDir).path("task_type").asText());
    }

    private static DecoderLM loadFull(Path dir, NDManager root, Double headStd, long seed) {
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new BadInputException(dir + ": not a model directory (no config.json or adapter_config.json)");
        }
        ModelConfig c = ModelConfig.load(dir);
        float std = headStd != null ? headStd.floatValue() : defaultHeadStd(c.hidden());
        return DecoderLM.load(dir, root, Head.SEQUENCE_CLASSIFICATION, 1, std, seed);
    }

    /** Where the tokenizer of {@code dir} is: {@code dir} itself, or an adapter's base if it has none. */
    public static Path tokenizerDir(Path dir) {
        if (isAdapter(dir) && !Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            return adapterBase(dir);
        }
        return dir;
    }

    /** The base model directory of a PEFT adapter: as written, else relative to the adapter directory. */
    public static Path adapterBase(Path adapterDir) {
        JsonNode cfg = adapterConfig(adapterDir);
        String base = cfg.path("base_model_name_or_path").asText("");
        if (base.isEmpty()) {
            throw new AlignException(adapterDir.resolve("adapter_config.json") + ": base_model_name_or_path is missing");
        }
        Path p = Path.of(base);
        if (Files.isRegularFile(p.resolve("config.json"))) {
            return p;
        }
        Path rel = adapterDir.resolve(base).normalize();
        if (Files.isRegularFile(rel.resolve("config.json"))) {
            return rel;
        }
        throw new AlignException(adapterDir.resolve("adapter_config.json") + ": base_model_name_or_path '" + base
                + "' is not a model directory (looked at " + p.toAbsolutePath() + " and " + rel + ")");
    }

    private static void requireHead(Path adapterDir) {
        JsonNode cfg = adapterConfig(adapterDir);
        boolean listed = false;
        for (JsonNode n : cfg.path("modules_to_save")) {
            listed |= SCORE.equals(n.asText());
        }
        if (!"SEQ_CLS".equals(cfg.path("task_type").asText()) || !listed) {
            throw new AlignException(adapterDir + ": not a reward-model adapter (task_type SEQ_CLS with the score"
                    + " head in modules_to_save)");
        }
    }

    private static JsonNode adapterConfig(Path dir) {
        Path f = dir.resolve("adapter_config.json");
        try {
            return JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new AlignException(f + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Writes a full reward model: HF weights and {@code config.json} (sets {@code pad_token_id} from the
     * tokenizer when the config has none: transformers needs it to find the last token of padded rows),
     * plus the tokenizer files.
     */
    public static void save(DecoderLM model, Tokenizer tok, Path dir, long padId) {
        ensurePadId(model, padId);
        model.save(dir);
        tok.copyFilesTo(dir);
    }

    /** Sets {@code pad_token_id} in the model's config.json when it has none. */
    public static void ensurePadId(DecoderLM model, long padId) {
        if (model.config().padTokenId() == null) {
            model.config().json().put("pad_token_id", padId);
        }
    }

    /**
     * Writes a LoRA reward model in PEFT's format: the adapters, the score head (in
     * {@code modules_to_save}) and the tokenizer files. {@code PeftModel.from_pretrained} on
     * {@code AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)} loads it, as does
     * {@link #load}.
     */
    public static void saveAdapter(LoraAdapters lora, DecoderLM model, Tokenizer tok, Path dir, String baseModel) {
        NDArray head = model.parameter(SCORE).value();
        lora.save(dir, baseModel, Map.of(SCORE, head));
        tok.copyFilesTo(dir);
    }
}
