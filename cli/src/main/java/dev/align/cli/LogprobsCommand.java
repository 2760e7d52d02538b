package dev.align.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.io.AtomicFiles;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.scoring.SequenceScorer;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.read.RecordSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code align logprobs}: the sum of log-probs of each record's completion under a model, using the
 * shared tokenization convention (see {@link PromptCompletion}). Every record is validated before the
 * model is loaded; any bad record means exit 2 and no output.
 */
@Command(name = "logprobs", mixinStandardHelpOptions = true,
        description = "Score {\"prompt\", \"completion\"} records: sum of completion-token log-probs (eos included).")
final class LogprobsCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", required = true, description = "Hugging Face model directory")
    Path model;

    @Option(names = "--data", required = true, description = "JSONL file of {\"prompt\": str, \"completion\": str}")
    Path data;

    @Option(names = "--out", required = true, description = "output JSONL: {\"logprob\", \"n_tokens\"} per record, in order")
    Path out;

    @Option(names = "--batch-size", defaultValue = "8", description = "sequences per forward pass (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--no-eos", description = "do not append the eos token to completions")
    boolean noEos;

    @Override
    public Integer call() {
        if (batchSize < 1) {
            throw new BadInputException("--batch-size must be at least 1");
        }
        ModelConfig cfg = ModelConfig.load(model);
        if (cfg.head() != ModelConfig.Head.CAUSAL_LM) {
            throw new AlignException(model + ": a causal LM is needed, this is a sequence-classification model");
        }
        List<PromptCompletion> seqs = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        try (Tokenizer tok = Tokenizer.load(model)) {
            RecordSource.read(data, row -> {
                var where = row.origin();
                JsonNode p = row.json().get("prompt");
                JsonNode c = row.json().get("completion");
                if (p == null || c == null) {
                    errors.add(where.problem(p == null ? "prompt" : "completion", "missing field"));
                    return;
                }
                if (!p.isTextual() || !c.isTextual()) {
                    errors.add(where.problem(!p.isTextual() ? "prompt" : "completion", "expected a string, got "
                            + (!p.isTextual() ? p : c).getNodeType().toString().toLowerCase()));
                    return;
                }
                if (p.asText().isEmpty() && c.asText().isEmpty()) {
                    errors.add(where.problem("prompt, completion", "both empty"));
                    return;
                }
                PromptCompletion pc;
                try {
                    pc = PromptCompletion.encode(tok, p.asText(), c.asText(), !noEos);
                } catch (AlignException e) {
                    errors.add(where.problem("completion", e.getMessage()));
                    return;
                }
                if (pc.ids().length > cfg.maxPositions()) {
                    errors.add(where.problem("prompt+completion", pc.ids().length
                            + " tokens, longer than the model's max_position_embeddings " + cfg.maxPositions()));
                    return;
                }
                if (pc.completionLength() == 0) {
                    errors.add(where.problem("completion", "no tokens to score"));
                    return;
                }
                seqs.add(pc);
            }, errors::add);
            if (!errors.isEmpty()) {
                throw new BadInputException(errors);
            }
            Integer pad = tok.padId();
            if (pad == null) {
                pad = tok.eosId();
            }
            long padId = pad == null ? 0 : pad;
            List<SequenceScorer.Score> scores;
            try (NDManager root = Engines.newManager(); DecoderLM lm = DecoderLM.load(model, root)) {
                scores = SequenceScorer.score(lm, seqs, batchSize, padId, root);
            }
            StringBuilder sb = new StringBuilder();
            for (SequenceScorer.Score s : scores) {
                sb.append(JSON.createObjectNode().put("logprob", s.logprob()).put("n_tokens", s.tokens())).append('\n');
            }
            AtomicFiles.writeString(out, sb.toString());
        }
        System.err.printf("scored %d records -> %s%n", seqs.size(), out);
        return 0;
    }
}
