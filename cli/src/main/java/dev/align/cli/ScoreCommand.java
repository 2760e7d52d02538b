package dev.align.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.io.AtomicFiles;
import dev.align.core.model.ModelConfig;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.DataSettings;
import dev.align.datasets.Datasets;
import dev.align.datasets.SftExample;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.format.Format;
import dev.align.rm.RewardModels;
import dev.align.rm.RewardScorer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code align score}: a reward per record with a reward model, under the training convention
 * ({@code prompt + completion + eos}, or a conversation rendered by the chat template). Every record is
 * validated (by the datasets reader) before the model is loaded; any bad record means exit 2 and no output.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score records with a reward model: {\"prompt\", \"completion\"} or",
            "{\"messages\"} (also text and Alpaca records); writes {\"reward\": r} per",
            "record, in input order."})
final class ScoreCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "reward model directory (HF, or a LoRA reward model from align rm)")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "JSONL, JSON or CSV records")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "OUT.jsonl", description = "output JSONL: {\"reward\"} per record, in order")
    Path out;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "16", description = "sequences per forward pass (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--format", paramLabel = "FORMAT", description = "force a format (prompt_completion, language_modeling, alpaca) instead of detecting it")
    String format;

    @Override
    public Integer call() {
        if (batchSize < 1) {
            throw new BadInputException("--batch-size must be at least 1");
        }
        if (!RewardModels.hasRewardHead(model)) {
            throw new AlignException(model + ": not a reward model (it has no one-label score head); train one with align rm");
        }
        Path base = RewardModels.isAdapter(model) ? RewardModels.adapterBase(model) : model;
        int maxPositions = ModelConfig.load(base).maxPositions();
        DataSettings s = DataSettings.defaults().withCache(false, null).withLoss(false, false);
        if (format != null) {
            s = s.withFormat(format);
        }
        List<long[]> seqs = new ArrayList<>();
        try (Tokenizer tok = Tokenizer.load(RewardModels.tokenizerDir(model));
                TokenizedDataset ds = Datasets.load(data, s, tok)) {
            Datasets.requireKind(ds, "align score", Format.Kind.SFT);
            List<String> problems = new ArrayList<>();
            for (int i = 0; i < ds.size(); i++) {
                SftExample e = ds.sft(i);
                if (maxPositions > 0 && e.ids().length > maxPositions) {
                    problems.add(data + ":" + e.line() + ": " + e.ids().length + " tokens, longer than the model's"
                            + " max_position_embeddings " + maxPositions);
                }
                seqs.add(e.ids());
            }
            if (!problems.isEmpty()) {
                throw new BadInputException(problems);
            }
        }
        float[] rewards;
        try (RewardScorer scorer = RewardScorer.load(model, batchSize)) {
            rewards = scorer.scoreIds(seqs);
        }
        StringBuilder sb = new StringBuilder();
        for (float r : rewards) {
            sb.append(JSON.createObjectNode().put("reward", r)).append('\n');
        }
        AtomicFiles.writeString(out, sb.toString());
        System.err.printf("scored %d records -> %s%n", rewards.length, out);
        return 0;
    }
}
