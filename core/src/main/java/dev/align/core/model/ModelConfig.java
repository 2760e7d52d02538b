package dev.align.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A decoder-only model's shape and numerics, read from a Hugging Face {@code config.json}. The JSON is
 * kept as read ({@link #json()}) so that saving writes it back unchanged.
 *
 * <p>Supported {@code model_type}s: {@code llama}, {@code mistral}, {@code qwen2} (the llama family:
 * RMSNorm, rotary positions, gated SiLU MLP, grouped-query attention) and {@code gpt2} (LayerNorm,
 * learned positions, GELU MLP, Conv1D weights stored [in, out]). Anything this class cannot honour
 * exactly (an unknown {@code rope_scaling}, Qwen2's per-layer sliding window) is refused, never ignored.
 */
public final class ModelConfig {
    /** Model families with one forward each. */
    public enum Family {
        LLAMA,
        GPT2
    }

    /** Which head sits on the transformer. */
    public enum Head {
        /** {@code *ForCausalLM} / {@code *LMHeadModel}: logits over the vocabulary. */
        CAUSAL_LM,
        /** {@code *ForSequenceClassification}: {@code score.weight} [num_labels, hidden], no bias. */
        SEQUENCE_CLASSIFICATION
    }

    /** MLP activations. */
    public enum Activation {
        SILU,
        GELU_TANH,
        GELU,
        RELU
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode json;
    private final String source;
    private final String modelType;
    private final Family family;
    private final Head head;
    private final int numLabels;
    private final int vocabSize;
    private final int hidden;
    private final int intermediate;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int maxPositions;
    private final double normEps;
    private final double ropeTheta;
    private final RopeScaling ropeScaling;
    private final boolean tieEmbeddings;
    private final boolean qkvBias;
    private final boolean outBias;
    private final boolean mlpBias;
    private final Activation activation;
    private final int slidingWindow;
    private final boolean scaleAttnWeights;
    private final boolean scaleAttnByInverseLayerIdx;
    private final Integer bosTokenId;
    private final List<Integer> eosTokenIds;
    private final Integer padTokenId;

    private ModelConfig(ObjectNode json, String source) {
        this.json = json;
        this.source = source;
        this.modelType = str("model_type", null);
        if (modelType == null) {
            throw err("missing 'model_type'");
        }
        String arch = json.has("architectures") && json.get("architectures").size() > 0
                ? json.get("architectures").get(0).asText()
                : "";
        this.head = arch.endsWith("ForSequenceClassification") ? Head.SEQUENCE_CLASSIFICATION : Head.CAUSAL_LM;
        this.numLabels = head == Head.SEQUENCE_CLASSIFICATION ? countLabels() : 0;
        switch (modelType) {
            case "llama":
            case "mistral":
            case "qwen2":
                family = Family.LLAMA;
                vocabSize = req("vocab_size");
                hidden = req("hidden_size");
                intermediate = req("intermediate_size");
                layers = req("num_hidden_layers");
                heads = req("num_attention_heads");
                kvHeads = integer("num_key_value_heads", heads);
                headDim = json.hasNonNull("head_dim") ? req("head_dim") : hidden / heads;
                maxPositions = integer("max_position_embeddings", 2048);
                normEps = dbl("rms_norm_eps", 1e-6);
                ropeTheta = dbl("rope_theta", 10000.0);
                ropeScaling = RopeScaling.parse(json.get("rope_scaling"), maxPositions, this::err);
                tieEmbeddings = bool("tie_word_embeddings", false);
                if (modelType.equals("qwen2")) {
                    qkvBias = true;
                    outBias = false;
                    mlpBias = false;
                } else if (modelType.equals("mistral")) {
                    qkvBias = false;
                    outBias = false;
                    mlpBias = false;
                } else {
                    qkvBias = bool("attention_bias", false);
                    outBias = qkvBias;
                    mlpBias = bool("mlp_bias", false);
                }
                activation = parseActivation(str("hidden_act", "silu"));
                slidingWindow = parseSlidingWindow();
                scaleAttnWeights = true;
                scaleAttnByInverseLayerIdx = false;
                break;
            case "gpt2":
                family = Family.GPT2;
                vocabSize = req("vocab_size");
                hidden = req("n_embd");
                layers = req("n_layer");
                heads = req("n_head");
                kvHeads = heads;
                headDim = hidden / heads;
                intermediate = json.hasNonNull("n_inner") ? req("n_inner") : 4 * hidden;
                maxPositions = req("n_positions");
                normEps = dbl("layer_norm_epsilon", 1e-5);
                ropeTheta = 0;
                ropeScaling = null;
                tieEmbeddings = true;
                qkvBias = true;
                outBias = true;
                mlpBias = true;
                activation = parseActivation(str("activation_function", "gelu_new"));
                slidingWindow = 0;
                scaleAttnWeights = bool("scale_attn_weights", true);
                scaleAttnByInverseLayerIdx = bool("scale_attn_by_inverse_layer_idx", false);
                break;
            default:
                throw err("unsupported model_type '" + modelType + "' (supported: llama, mistral, qwen2, gpt2)");
        }
        if (hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocabSize <= 0 || intermediate <= 0) {
            throw err("sizes must be positive");
        }
        if (heads % kvHeads != 0) {
            throw err("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (family == Family.GPT2 && hidden % heads != 0) {
            throw err("n_embd " + hidden + " is not a multiple of n_head " + heads);
        }
        if (family == Family.LLAMA && headDim % 2 != 0) {
            throw err("head_dim " + headDim + " must be even for rotary embeddings");
        }
        this.bosTokenId = json.hasNonNull("bos_token_id") ? json.get("bos_token_id").asInt() : null;
        this.padTokenId = json.hasNonNull("pad_token_id") ? json.get("pad_token_id").asInt() : null;
        List<Integer> eos = new ArrayList<>();
        JsonNode e = json.get("eos_token_id");
        if (e != null && e.isArray()) {
            e.forEach(x -> eos.add(x.asInt()));
        } else if (e != null && !e.isNull()) {
            eos.add(e.asInt());
        }
        this.eosTokenIds = List.copyOf(eos);
    }

    /** Reads {@code dir/config.json}. */
    public static ModelConfig load(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new AlignException(dir + ": not a model directory (no config.json)");
        }
        JsonNode node;
        try {
            node = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new AlignException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new AlignException(file + ": not a JSON object");
        }
        return new ModelConfig((ObjectNode) node, file.toString());
    }

    /** Parses a config from JSON (for models built in code); {@code source} names it in errors. */
    public static ModelConfig of(ObjectNode json, String source) {
        return new ModelConfig(json.deepCopy(), source);
    }

    private int countLabels() {
        if (json.hasNonNull("num_labels")) {
            return json.get("num_labels").asInt();
        }
        if (json.has("id2label") && json.get("id2label").isObject()) {
            return json.get("id2label").size();
        }
        return 2; // transformers' PretrainedConfig default
    }

    private int parseSlidingWindow() {
        JsonNode w = json.get("sliding_window");
        if (w == null || w.isNull()) {
            return 0;
        }
        if (modelType.equals("qwen2")) {
            if (bool("use_sliding_window", false)) {
                throw err("use_sliding_window=true (Qwen2 per-layer sliding window) is not supported");
            }
            return 0;
        }
        if (modelType.equals("llama")) {
            return 0;
        }
        return w.asInt();
    }

    private Activation parseActivation(String a) {
        switch (a.toLowerCase(Locale.ROOT)) {
            case "silu":
            case "swish":
                return Activation.SILU;
            case "gelu_new":
            case "gelu_pytorch_tanh":
            case "gelu_fast":
                return Activation.GELU_TANH;
            case "gelu":
                return Activation.GELU;
            case "relu":
                return Activation.RELU;
            default:
                throw err("unsupported activation '" + a + "'");
        }
    }

    AlignException err(String why) {
        return new AlignException(source + ": " + why);
    }

    private int req(String key) {
        JsonNode n = json.get(key);
        if (n == null || n.isNull()) {
            throw err("missing '" + key + "'");
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw err("'" + key + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    private int integer(String key, int dflt) {
        return json.hasNonNull(key) ? req(key) : dflt;
    }

    private double dbl(String key, double dflt) {
        JsonNode n = json.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw err("'" + key + "' must be a number, got " + n);
        }
        return n.asDouble();
    }

    private boolean bool(String key, boolean dflt) {
        JsonNode n = json.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw err("'" + key + "' must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    private String str(String key, String dflt) {
        JsonNode n = json.get(key);
        return n == null || n.isNull() ? dflt : n.asText();
    }

    /** The JSON as read (a live view; {@link #withHead} returns edited copies). */
    public ObjectNode json() {
        return json;
    }

    /**
     * This config with another head: {@code architectures} and labels rewritten as transformers writes
     * them, everything else kept.
     */
    public ModelConfig withHead(Head newHead, int labels) {
        ObjectNode j = json.deepCopy();
        String prefix = switch (modelType) {
            case "llama" -> "Llama";
            case "mistral" -> "Mistral";
            case "qwen2" -> "Qwen2";
            default -> "GPT2";
        };
        String arch = newHead == Head.SEQUENCE_CLASSIFICATION
                ? prefix + "ForSequenceClassification"
                : (family == Family.GPT2 ? "GPT2LMHeadModel" : prefix + "ForCausalLM");
        j.putArray("architectures").add(arch);
        j.remove("num_labels");
        j.remove("id2label");
        j.remove("label2id");
        if (newHead == Head.SEQUENCE_CLASSIFICATION) {
            ObjectNode id2label = j.putObject("id2label");
            ObjectNode label2id = j.putObject("label2id");
            for (int i = 0; i < labels; i++) {
                id2label.put(Integer.toString(i), "LABEL_" + i);
                label2id.put("LABEL_" + i, i);
            }
        }
        return new ModelConfig(j, source);
    }

    public String modelType() {
        return modelType;
    }

    public Family family() {
        return family;
    }

    public Head head() {
        return head;
    }

    /** Outputs of a sequence-classification head (1 for a reward model); 0 for a causal LM. */
    public int numLabels() {
        return numLabels;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int hidden() {
        return hidden;
    }

    public int intermediate() {
        return intermediate;
    }

    public int layers() {
        return layers;
    }

    public int heads() {
        return heads;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    public int maxPositions() {
        return maxPositions;
    }

    public double normEps() {
        return normEps;
    }

    public double ropeTheta() {
        return ropeTheta;
    }

    /** The rotary scaling, or null for none. */
    public RopeScaling ropeScaling() {
        return ropeScaling;
    }

    public boolean tieEmbeddings() {
        return tieEmbeddings;
    }

    public boolean qkvBias() {
        return qkvBias;
    }

    public boolean outBias() {
        return outBias;
    }

    public boolean mlpBias() {
        return mlpBias;
    }

    public Activation activation() {
        return activation;
    }

    /** Attention window in tokens (Mistral), 0 for full causal attention. */
    public int slidingWindow() {
        return slidingWindow;
    }

    public boolean scaleAttnWeights() {
        return scaleAttnWeights;
    }

    public boolean scaleAttnByInverseLayerIdx() {
        return scaleAttnByInverseLayerIdx;
    }

    public Integer bosTokenId() {
        return bosTokenId;
    }

    public List<Integer> eosTokenIds() {
        return eosTokenIds;
    }

    public Integer padTokenId() {
        return padTokenId;
    }

    /** Parameters in the transformer's matrices and vectors (embeddings and head included). */
    public long parameterCount() {
        long h = hidden;
        long qkv = h * (long) (heads + 2 * kvHeads) * headDim + (qkvBias ? (long) (heads + 2 * kvHeads) * headDim : 0);
        long o = (long) heads * headDim * h + (outBias ? h : 0);
        long mlp = family == Family.LLAMA
                ? 3 * h * intermediate + (mlpBias ? 2L * intermediate + h : 0)
                : 2 * h * intermediate + intermediate + h;
        long norms = family == Family.LLAMA ? 2 * h : 4 * h;
        long perLayer = qkv + o + mlp + norms;
        long emb = (long) vocabSize * h + (family == Family.GPT2 ? (long) maxPositions * h : 0);
        long headParams = head == Head.CAUSAL_LM ? (tieEmbeddings ? 0 : (long) vocabSize * h) : (long) numLabels * h;
        long finalNorm = family == Family.LLAMA ? h : 2 * h;
        return layers * perLayer + emb + headParams + finalNorm;
    }
}
