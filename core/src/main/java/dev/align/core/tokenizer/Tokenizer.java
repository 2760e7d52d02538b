package dev.align.core.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face tokenizer: {@code tokenizer.json} run by the Rust {@code tokenizers} library (through
 * DJL, offline), plus what {@code tokenizer_config.json} adds: the special tokens and the Jinja
 * {@code chat_template} (or a {@code chat_template.jinja} file beside it).
 *
 * <p>{@link #encode} adds exactly what the tokenizer's post-processor adds (e.g. {@code <s>} for
 * llama), as {@code tokenizer(text)} does in transformers; it never truncates or pads.
 */
public final class Tokenizer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final HuggingFaceTokenizer hf;
    private final Map<String, Integer> specialIds = new HashMap<>();
    private final String bosToken;
    private final String eosToken;
    private final String padToken;
    private final String unkToken;
    private final String chatTemplateSource;
    private final JsonNode config;
    private ChatTemplate chatTemplate;

    private Tokenizer(Path dir) {
        this.dir = dir;
        Path tj = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tj)) {
            throw new AlignException(dir + ": no tokenizer.json");
        }
        Engines.offline();
        byte[] bytes;
        JsonNode tokJson;
        try {
            bytes = Files.readAllBytes(tj);
            tokJson = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new AlignException(tj + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode added = tokJson == null ? null : tokJson.get("added_tokens");
        if (added != null && added.isArray()) {
            for (JsonNode t : added) {
                specialIds.put(t.path("content").asText(), t.path("id").asInt());
            }
        }
        Map<String, String> options = Map.of(
                "addSpecialTokens", "true",
                "truncation", "false",
                "padding", "false",
                "modelMaxLength", Integer.toString(Integer.MAX_VALUE));
        try {
            hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), options);
        } catch (IOException | RuntimeException e) {
            throw new AlignException(tj + ": cannot load tokenizer: " + e.getMessage(), e);
        }
        Path cfgFile = dir.resolve("tokenizer_config.json");
        JsonNode cfg = JSON.createObjectNode();
        if (Files.isRegularFile(cfgFile)) {
            try {
                cfg = JSON.readTree(cfgFile.toFile());
            } catch (IOException e) {
                hf.close();
                throw new AlignException(cfgFile + ": not valid JSON: " + e.getMessage(), e);
            }
        }
        this.config = cfg;
        JsonNode stm = JSON.createObjectNode();
        Path stmFile = dir.resolve("special_tokens_map.json");
        if (Files.isRegularFile(stmFile)) {
            try {
                stm = JSON.readTree(stmFile.toFile());
            } catch (IOException e) {
                hf.close();
                throw new AlignException(stmFile + ": not valid JSON: " + e.getMessage(), e);
            }
        }
        bosToken = special(cfg, stm, "bos_token");
        eosToken = special(cfg, stm, "eos_token");
        padToken = special(cfg, stm, "pad_token");
        unkToken = special(cfg, stm, "unk_token");
        String template = null;
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                template = Files.readString(jinja);
            } catch (IOException e) {
                hf.close();
                throw new AlignException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        } else {
            JsonNode ct = cfg.get("chat_template");
            if (ct != null && ct.isTextual()) {
                template = ct.asText();
            } else if (ct != null && ct.isArray()) { // named templates: use "default"
                for (JsonNode n : ct) {
                    if ("default".equals(n.path("name").asText())) {
                        template = n.path("template").asText();
                    }
                }
            }
        }
        chatTemplateSource = template;
    }

    private static String special(JsonNode cfg, JsonNode stm, String key) {
        JsonNode n = cfg.hasNonNull(key) ? cfg.get(key) : stm.get(key);
        if (n == null || n.isNull()) {
            return null;
        }
        return n.isObject() ? n.path("content").asText(null) : n.asText();
    }

    /** Loads the tokenizer of a model directory. */
    public static Tokenizer load(Path dir) {
        return new Tokenizer(dir);
    }

    /** Token ids of {@code text} with the post-processor's special tokens (as transformers encodes). */
    public long[] encode(String text) {
        return hf.encode(text, true, false).getIds();
    }

    /** Token ids of {@code text} without any added special tokens. */
    public long[] encodePlain(String text) {
        return hf.encode(text, false, false).getIds();
    }

    /** The full encoding (ids, offsets) of {@code text}, special tokens added or not. */
    public Encoding encoding(String text, boolean addSpecialTokens) {
        return hf.encode(text, addSpecialTokens, false);
    }

    /** Encodes many texts in one native call. */
    public long[][] encodeBatch(List<String> texts, boolean addSpecialTokens) {
        Encoding[] enc = hf.batchEncode(texts.toArray(new String[0]), addSpecialTokens, false);
        long[][] out = new long[enc.length][];
        for (int i = 0; i < enc.length; i++) {
            out[i] = enc[i].getIds();
        }
        return out;
    }

    /** Text of {@code ids}. */
    public String decode(long[] ids, boolean skipSpecialTokens) {
        return hf.decode(ids, skipSpecialTokens);
    }

    /** The id of a token string that is one token (special tokens and vocabulary entries), or null. */
    public Integer tokenId(String token) {
        if (token == null) {
            return null;
        }
        Integer id = specialIds.get(token);
        if (id != null) {
            return id;
        }
        long[] ids = encodePlain(token);
        return ids.length == 1 ? (int) ids[0] : null;
    }

    public String bosToken() {
        return bosToken;
    }

    public String eosToken() {
        return eosToken;
    }

    public String padToken() {
        return padToken;
    }

    public String unkToken() {
        return unkToken;
    }

    public Integer bosId() {
        return tokenId(bosToken);
    }

    public Integer eosId() {
        return tokenId(eosToken);
    }

    public Integer padId() {
        return tokenId(padToken);
    }

    /** Every added (special) token and its id, from tokenizer.json's {@code added_tokens}. */
    public Map<String, Integer> addedTokens() {
        return Map.copyOf(specialIds);
    }

    /** The directory this tokenizer was loaded from. */
    public Path dir() {
        return dir;
    }

    /** The parsed {@code tokenizer_config.json} (an empty object if there is none). */
    public JsonNode config() {
        return config;
    }

    /** The Jinja chat template source, or null if the tokenizer has none. */
    public String chatTemplateSource() {
        return chatTemplateSource;
    }

    /** The compiled chat template; an error naming the directory if there is none. */
    public synchronized ChatTemplate chatTemplate() {
        if (chatTemplate == null) {
            if (chatTemplateSource == null) {
                throw new AlignException(dir + ": the tokenizer has no chat_template (tokenizer_config.json)");
            }
            chatTemplate = new ChatTemplate(chatTemplateSource, this);
        }
        return chatTemplate;
    }

    /** Copies the tokenizer files of this tokenizer's directory into {@code target}. */
    public void copyFilesTo(Path target) {
        try {
            Files.createDirectories(target);
            for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                    "chat_template.jinja", "generation_config.json")) {
                Path src = dir.resolve(f);
                if (Files.isRegularFile(src) && !src.toAbsolutePath().equals(target.resolve(f).toAbsolutePath())) {
                    Files.copy(src, target.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new AlignException(target + ": cannot copy tokenizer files: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        hf.close();
    }
}
