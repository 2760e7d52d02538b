package dev.align.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.generate.Generation;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.core.generate.SamplingParams;
import dev.align.core.io.AtomicFiles;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.read.RecordSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code align generate}: completions for a JSONL file of prompts. Every record is read, rendered and
 * tokenized before the model is loaded; any bad record means exit 2, every problem listed as
 * {@code FILE:LINE: field: reason}, and no output. Prompts are batched by length (less padding) and the
 * output keeps the input order.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate completions for {\"prompt\": str} records (or {\"messages\": [...]} with --chat).")
final class GenerateCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> MESSAGE = new TypeReference<>() {};

    @Option(names = "--model", required = true, description = "Hugging Face model directory (causal LM)")
    Path model;

    @Option(names = "--data", required = true, description = "JSONL file of {\"prompt\": str} records")
    Path data;

    @Option(names = "--out", required = true,
            description = "output JSONL: {\"prompt\", \"completion\", \"finish_reason\", \"n_tokens\"} per record, in order")
    Path out;

    @Option(names = "--batch-size", defaultValue = "8", description = "prompts decoded together (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--chat", description = "records are {\"messages\": [{\"role\", \"content\"}, ...]}, rendered with the"
            + " tokenizer's chat template and the generation prompt")
    boolean chat;

    @Option(names = "--no-packed-weights", negatable = true, defaultValue = "true",
            description = "decode on packed copies of the weights (default: faster decoding, and one call per"
                    + " step for llama-family models, for one more copy of the linear weights in memory;"
                    + " --no-packed-weights saves that memory)")
    boolean packedWeights;

    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    private final ChatRenderer renderer;

    GenerateCommand() {
        this(null);
    }

    /** With {@code renderer} in place of the tokenizer's chat template (tests). */
    GenerateCommand(ChatRenderer renderer) {
        this.renderer = renderer;
    }

    /** One validated record. */
    private record Item(String prompt, long[] ids) {}

    @Override
    public Integer call() {
        SamplingParams params = sampling.params();
        if (batchSize < 1) {
            throw new BadInputException("--batch-size: must be ≥ 1, got " + batchSize);
        }
        ModelConfig cfg = ModelConfig.load(model);
        if (cfg.head() != ModelConfig.Head.CAUSAL_LM) {
            throw new AlignException(model + ": a causal LM is needed, this is a sequence-classification model");
        }
        try (Tokenizer tok = Tokenizer.load(model)) {
            List<Item> items = read(tok, cfg);
            GenerationConfig gc = GenerationConfig.forModel(model, tok)
                    .withMaxNewTokens(sampling.maxNewTokens)
                    .withStopStrings(sampling.stops);
            Generation[] results = new Generation[items.size()];
            long t0 = System.nanoTime();
            try (NDManager root = Engines.newManager(); DecoderLM lm = DecoderLM.load(model, root)) {
                Generator gen = new Generator(lm, tok).setPackWeights(packedWeights);
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) {
                    order.add(i);
                }
                order.sort(Comparator.comparingInt((Integer i) -> items.get(i).ids().length).reversed());
                SplittableRandom seeds = new SplittableRandom(params.seed());
                for (int start = 0; start < order.size(); start += batchSize) {
                    List<Integer> idx = order.subList(start, Math.min(order.size(), start + batchSize));
                    List<long[]> prompts = new ArrayList<>();
                    idx.forEach(i -> prompts.add(items.get(i).ids()));
                    List<Generation> g = gen.generate(prompts, gc.withSampling(params.withSeed(seeds.nextLong())));
                    for (int k = 0; k < idx.size(); k++) {
                        results[idx.get(k)] = g.get(k);
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            StringBuilder sb = new StringBuilder();
            long tokens = 0;
            for (int i = 0; i < items.size(); i++) {
                Generation g = results[i];
                tokens += g.length();
                Map<String, Object> rec = new LinkedHashMap<>();
                rec.put("prompt", items.get(i).prompt());
                rec.put("completion", g.text());
                rec.put("finish_reason", g.finishReason().label());
                rec.put("n_tokens", g.length());
                try {
                    sb.append(JSON.writeValueAsString(rec)).append('\n');
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new AlignException("cannot encode output: " + e.getMessage(), e);
                }
            }
            AtomicFiles.writeString(out, sb.toString());
            System.err.printf("generated %d completions, %d tokens in %.1f s (%.1f tokens/s) -> %s%n",
                    items.size(), tokens, secs, tokens / secs, out);
        }
        return 0;
    }

    /** Reads, renders and tokenizes every record; throws with every problem found. */
    private List<Item> read(Tokenizer tok, ModelConfig cfg) {
        List<Item> items = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        ChatRenderer r = renderer != null ? renderer : ChatRenderer.of(tok);
        int maxNew = sampling.maxNewTokens;
        RecordSource.read(data, line -> {
            String where = line.origin().problem(null, "");
            String prompt;
            long[] ids;
            if (chat) {
                List<Map<String, Object>> messages = new ArrayList<>();
                String problem = messages(line.json().get("messages"), messages);
                if (problem != null) {
                    errors.add(where + problem);
                    return;
                }
                try {
                    prompt = r.render(messages, true);
                } catch (AlignException e) {
                    errors.add(where + "messages: " + e.getMessage());
                    return;
                }
                ids = tok.encodePlain(prompt); // the template writes its own special tokens
            } else {
                JsonNode p = line.json().get("prompt");
                if (p == null) {
                    errors.add(where + "prompt: missing field" + (line.json().has("messages") ? " (use --chat for messages)" : ""));
                    return;
                }
                if (!p.isTextual()) {
                    errors.add(where + "prompt: expected a string, got " + p.getNodeType().toString().toLowerCase());
                    return;
                }
                prompt = p.asText();
                ids = tok.encode(prompt);
            }
            if (ids.length == 0) {
                errors.add(where + (chat ? "messages" : "prompt") + ": no tokens (empty prompt and no bos token)");
                return;
            }
            if ((long) ids.length + maxNew > cfg.maxPositions()) {
                errors.add(where + (chat ? "messages" : "prompt") + ": " + ids.length + " tokens + --max-new-tokens "
                        + maxNew + " exceed the model's max_position_embeddings " + cfg.maxPositions());
                return;
            }
            items.add(new Item(prompt, ids));
        }, errors::add);
        if (items.isEmpty() && errors.isEmpty()) {
            errors.add(data + ": no records");
        }
        if (!errors.isEmpty()) {
            throw new BadInputException(errors);
        }
        return items;
    }

    /** Validates a {@code messages} value into {@code out}; returns the problem, or null. */
    static String messages(JsonNode m, List<Map<String, Object>> out) {
        if (m == null) {
            return "messages: missing field";
        }
        if (!m.isArray() || m.isEmpty()) {
            return "messages: expected a non-empty array of {\"role\", \"content\"} objects";
        }
        for (int i = 0; i < m.size(); i++) {
            JsonNode msg = m.get(i);
            String at = "messages[" + i + "]";
            if (!msg.isObject()) {
                return at + ": expected an object";
            }
            for (String f : List.of("role", "content")) {
                if (!msg.has(f)) {
                    return at + "." + f + ": missing field";
                }
                if (!msg.get(f).isTextual()) {
                    return at + "." + f + ": expected a string";
                }
            }
            out.add(JSON.convertValue(msg, MESSAGE));
        }
        return null;
    }
}
