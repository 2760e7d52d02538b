package dev.align.core.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import dev.align.core.model.ModelConfig;
import dev.align.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What to generate and when to stop.
 *
 * @param maxNewTokens at most this many new tokens per row (≥ 1)
 * @param sampling how tokens are chosen
 * @param eosTokenIds a row stops after producing any of these (empty: never on a token)
 * @param stopStrings a row stops when its new text contains any of these (needs a tokenizer)
 * @param padTokenId the id fed in padding slots and by finished rows (never attended to)
 */
public record GenerationConfig(
        int maxNewTokens, SamplingParams sampling, Set<Long> eosTokenIds, List<String> stopStrings, long padTokenId) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public GenerationConfig {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max_new_tokens: must be ≥ 1, got " + maxNewTokens);
        }
        if (sampling == null) {
            throw new IllegalArgumentException("sampling: missing");
        }
        eosTokenIds = Set.copyOf(eosTokenIds);
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /** {@code maxNewTokens} tokens chosen by {@code sampling}, no eos, no stop strings, pad id 0. */
    public static GenerationConfig of(int maxNewTokens, SamplingParams sampling) {
        return new GenerationConfig(maxNewTokens, sampling, Set.of(), List.of(), 0L);
    }

    /**
     * The defaults of a model directory: eos ids from {@code config.json}'s {@code eos_token_id} (a
     * number or a list), {@code generation_config.json}'s, and the tokenizer's eos token; the pad id
     * from the tokenizer, else the configs, else the first eos id, else 0. Greedy, 256 new tokens.
     */
    public static GenerationConfig forModel(Path modelDir, Tokenizer tokenizer) {
        ModelConfig cfg = ModelConfig.load(modelDir);
        Set<Long> eos = new LinkedHashSet<>();
        cfg.eosTokenIds().forEach(i -> eos.add((long) i));
        Long pad = null;
        Path gen = modelDir.resolve("generation_config.json");
        if (Files.isRegularFile(gen)) {
            JsonNode g;
            try {
                g = JSON.readTree(gen.toFile());
            } catch (IOException e) {
                throw new AlignException(gen + ": not valid JSON: " + e.getMessage(), e);
            }
            JsonNode e = g.get("eos_token_id");
            if (e != null && e.isArray()) {
                e.forEach(x -> eos.add(x.asLong()));
            } else if (e != null && e.isIntegralNumber()) {
                eos.add(e.asLong());
            }
            if (g.path("pad_token_id").isIntegralNumber()) {
                pad = g.get("pad_token_id").asLong();
            }
        }
        if (tokenizer != null && tokenizer.eosId() != null) {
            eos.add((long) tokenizer.eosId());
        }
        if (tokenizer != null && tokenizer.padId() != null) {
            pad = (long) tokenizer.padId();
        }
        if (pad == null && cfg.padTokenId() != null) {
            pad = (long) cfg.padTokenId();
        }
        if (pad == null) {
            pad = eos.isEmpty() ? 0L : eos.iterator().next();
        }
        return new GenerationConfig(256, SamplingParams.greedy(), eos, List.of(), pad);
    }

    public GenerationConfig withMaxNewTokens(int n) {
        return new GenerationConfig(n, sampling, eosTokenIds, stopStrings, padTokenId);
    }

    public GenerationConfig withSampling(SamplingParams s) {
        return new GenerationConfig(maxNewTokens, s, eosTokenIds, stopStrings, padTokenId);
    }

    public GenerationConfig withEosTokenIds(Set<Long> ids) {
        return new GenerationConfig(maxNewTokens, sampling, ids, stopStrings, padTokenId);
    }

    public GenerationConfig withStopStrings(List<String> stops) {
        return new GenerationConfig(maxNewTokens, sampling, eosTokenIds, stops, padTokenId);
    }

    public GenerationConfig withPadTokenId(long id) {
        return new GenerationConfig(maxNewTokens, sampling, eosTokenIds, stopStrings, id);
    }
}
