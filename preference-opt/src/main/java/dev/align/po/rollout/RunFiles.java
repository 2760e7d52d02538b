package dev.align.po.rollout;

import dev.align.core.BadInputException;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.DataSettings;
import dev.align.datasets.Datasets;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.format.Format;
import java.nio.file.Path;
import java.util.List;

/**
 * The run plumbing PPO and GRPO share: prompt data loading and checks, the attention setting, metric
 * prefixes. (Resume and output files are {@code core.train}'s: {@code Checkpointer.resumeFrom},
 * {@code Provenance.startRun}, {@code Metrics.writeEvalFile}.)
 */
public final class RunFiles {
    private RunFiles() {}

    /** Loads and validates a prompt-only data file ({@code {"prompt", ...}}); bad records stop the run. */
    public static TokenizedDataset prompts(String file, DataSettings d, Tokenizer tok, String key, String command,
            List<Path> files) {
        Path p = Path.of(file);
        files.add(p);
        TokenizedDataset ds = Datasets.load(p, d, tok, command + " (" + key + ")", Format.Kind.PROMPT);
        if (ds.size() == 0) {
            ds.close();
            throw new BadInputException(key + ": " + p + ": no prompts");
        }
        return ds;
    }

    /** Prompts that with {@code maxNew} new tokens would not fit the model's positions fail up front. */
    public static void checkLengths(TokenizedDataset ds, String key, int maxNew, int maxPositions) {
        if (ds == null || maxPositions <= 0) {
            return;
        }
        int longest = ds.longest();
        if (longest + maxNew > maxPositions) {
            throw new BadInputException(key + ": " + ds.report().file() + ": the longest prompt has " + longest
                    + " tokens; with " + maxNew + " new tokens that exceeds the model's max_position_embeddings "
                    + maxPositions + " (set max_length to truncate prompts, or generate fewer tokens)");
        }
    }
}
