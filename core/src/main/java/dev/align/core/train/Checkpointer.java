package dev.align.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.io.AtomicFiles;
import dev.align.core.io.SafeTensors;
import dev.align.core.io.WeightFiles;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.DecoderLM.Param;
import dev.align.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoints every N steps and at the end, written so that a kill at any moment leaves the previous
 * checkpoints intact and never a partial one under a checkpoint's name. Layout:
 *
 * <pre>
 *   &lt;output&gt;/checkpoint-&lt;step&gt;/
 *       config.json, model.safetensors (or shards + index)    the model, loadable by transformers
 *       tokenizer.json, tokenizer_config.json, ...             the tokenizer files
 *       provenance.json                                        copied from the output directory
 *       training_state/
 *           optimizer.safetensors, optimizer.json              {@link AdamW#save}
 *           trainer_state.json                                 {@link TrainingState}
 *           master_weights.safetensors                         only if the model is stored narrower
 *                                                              than F32 (BF16): the exact FLOAT32 weights
 * </pre>
 *
 * Everything is written into {@code <output>/.tmp-checkpoint-<step>-<nonce>/}, flushed, and renamed to
 * {@code checkpoint-<step>} in one atomic rename. Temporary directories left by a killed run are ignored
 * by {@link #latest} and deleted when the next {@code Checkpointer} starts. After each save only the
 * newest {@code keep} checkpoints stay (transformers' {@code save_total_limit}; 0 keeps all).
 */
public final class Checkpointer {
    /** Checkpoint directory names: {@code checkpoint-<step>}. */
    public static final String PREFIX = "checkpoint-";
    /** The training-state sub-directory of a checkpoint. */
    public static final String STATE_DIR = "training_state";
    /** Exact FLOAT32 weights, written when the HF weights are stored in a narrower type. */
    public static final String MASTER_WEIGHTS = "master_weights.safetensors";
    private static final String TMP_PREFIX = ".tmp-checkpoint-";
    private static final String TRASH_PREFIX = ".trash-checkpoint-";
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");

    /** Writes the model files (HF layout) into a checkpoint directory. */
    @FunctionalInterface
    public interface ModelWriter {
        void write(Path dir);
    }

    private final Path outputDir;
    private final long saveSteps;
    private final int keep;
    private long lastSaved = -1;

    /**
     * @param outputDir the run's output directory (created if missing); leftovers of killed saves in it
     *     are deleted
     * @param saveSteps save every this many steps (0: only at the end)
     * @param keep how many checkpoints to keep, newest first (0: all)
     */
    public Checkpointer(Path outputDir, long saveSteps, int keep) {
        if (saveSteps < 0 || keep < 0) {
            throw new IllegalArgumentException("save_steps and save_total_limit must be >= 0");
        }
        this.outputDir = outputDir.toAbsolutePath();
        this.saveSteps = saveSteps;
        this.keep = keep;
        try {
            Files.createDirectories(this.outputDir);
        } catch (IOException e) {
            throw new AlignException(outputDir + ": cannot create the output directory: " + e.getMessage(), e);
        }
        cleanLeftovers(this.outputDir);
    }

    /** Whether step {@code step} is a periodic save step (and not saved yet). */
    public boolean due(long step) {
        return saveSteps > 0 && step > 0 && step % saveSteps == 0 && step != lastSaved;
    }

    /** Whether to save after step {@code step}: a periodic save step, or the last step of the run. */
    public boolean due(long step, boolean lastStep) {
        return due(step) || (lastStep && step != lastSaved);
    }

    /** The output directory. */
    public Path outputDir() {
        return outputDir;
    }

    /**
     * Writes {@code checkpoint-<state.globalStep()>} (replacing one of that name) and prunes old ones.
     *
     * @return the checkpoint directory
     */
    public Path save(TrainingState state, AdamW optimizer, ModelWriter model) {
        long step = state.globalStep();
        Path tmp = outputDir.resolve(TMP_PREFIX + step + "-" + Long.toHexString(System.nanoTime()));
        Path dst = outputDir.resolve(PREFIX + step);
        try {
            Path sd = tmp.resolve(STATE_DIR);
            Files.createDirectories(sd);
            model.write(tmp);
            optimizer.save(sd);
            Path prov = outputDir.resolve(Provenance.FILE);
            if (Files.isRegularFile(prov)) {
                Files.copy(prov, tmp.resolve(Provenance.FILE), StandardCopyOption.REPLACE_EXISTING);
            }
            state.write(sd);
            syncDir(sd);
            syncDir(tmp);
            publish(tmp, dst);
            syncDir(outputDir);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new AlignException(dst + ": cannot write checkpoint: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp);
            throw e;
        }
        lastSaved = step;
        prune();
        return dst;
    }

    /** {@link #save(TrainingState, AdamW, ModelWriter)} with {@link #hfModel}. */
    public Path save(TrainingState state, AdamW optimizer, DecoderLM model, Tokenizer tokenizer) {
        return save(state, optimizer, hfModel(model, tokenizer));
    }

    /**
     * Writes {@code model} as transformers does ({@link DecoderLM#save(Path)}) plus the tokenizer files; if
     * the weights are stored narrower than F32 (a BF16 model keeps its dtype), the exact FLOAT32 values go
     * to {@code training_state/master_weights.safetensors} too, so a resume continues bit for bit.
     */
    public static ModelWriter hfModel(DecoderLM model, Tokenizer tokenizer) {
        return dir -> {
            model.save(dir);
            if (tokenizer != null) {
                tokenizer.copyFilesTo(dir);
            }
            if (!storedAsF32(dir)) {
                List<SafeTensors.Tensor> t = new ArrayList<>();
                for (Param p : model.parameters()) {
                    t.add(new SafeTensors.Tensor(p.name(), p.value(), SafeTensors.Dtype.F32));
                }
                SafeTensors.write(dir.resolve(STATE_DIR).resolve(MASTER_WEIGHTS), t, Map.of("format", "align"));
            }
        };
    }

    private static boolean storedAsF32(Path dir) {
        try (WeightFiles w = WeightFiles.open(dir)) {
            for (String n : w.names()) {
                if (w.entry(n).dtype() != SafeTensors.Dtype.F32) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Restores a run from {@code checkpoint}: the exact weights into {@code model} (which the recipe loaded
     * from the checkpoint directory with {@code DecoderLM.load}) when master weights were saved, the
     * optimizer's moments and step counts into {@code optimizer}, and returns the training state.
     */
    public static TrainingState resume(Path checkpoint, DecoderLM model, AdamW optimizer) {
        Path sd = checkpoint.resolve(STATE_DIR);
        if (!Files.isRegularFile(sd.resolve(TrainingState.FILE))) {
            throw new AlignException(checkpoint + ": not a checkpoint (no " + STATE_DIR + "/" + TrainingState.FILE + ")");
        }
        Path master = sd.resolve(MASTER_WEIGHTS);
        if (Files.isRegularFile(master)) {
            restoreWeights(master, model);
        }
        optimizer.load(sd);
        return TrainingState.read(sd);
    }

    private static void restoreWeights(Path file, DecoderLM model) {
        try (SafeTensors.Reader r = SafeTensors.open(file); NDScope scope = new NDScope()) {
            NDManager m = model.manager();
            for (Param p : model.parameters()) {
                SafeTensors.Entry e = r.entry(p.name());
                if (!Arrays.equals(e.shape(), p.value().getShape().getShape())) {
                    throw new AlignException(file + ": tensor '" + p.name() + "' is " + Arrays.toString(e.shape())
                            + ", the model's is " + p.value().getShape());
                }
                NDArray v = r.read(p.name(), m);
                p.value().set(new NDIndex(":"), v); // copy in place: the model keeps its arrays
            }
        }
    }

    /**
     * The checkpoint {@code resume_from_checkpoint} names — "latest": the newest in {@code out} — or null
     * when it is unset. A named directory must hold a training state.
     */
    public static Path resumeFrom(TrainingArgs a, Path out) {
        String r = a.resumeFromCheckpoint();
        if (r == null || r.isBlank()) {
            return null;
        }
        if ("latest".equals(r)) {
            return latest(out).orElseThrow(
                    () -> new BadInputException("resume_from_checkpoint: no checkpoint in " + out));
        }
        Path p = Path.of(r);
        if (!Files.isDirectory(p.resolve(STATE_DIR))) {
            throw new BadInputException("resume_from_checkpoint: " + p + " is not a checkpoint (no " + STATE_DIR + "/)");
        }
        return p;
    }

    /** The newest complete checkpoint in {@code outputDir}, for {@code --resume}. */
    public static Optional<Path> latest(Path outputDir) {
        List<Path> all = checkpoints(outputDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * The complete checkpoints in {@code outputDir}, oldest first: {@code checkpoint-<step>} directories
     * holding a training state. Temporary directories of unfinished saves are not listed.
     */
    public static List<Path> checkpoints(Path outputDir) {
        if (!Files.isDirectory(outputDir)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(outputDir)) {
            s.forEach(p -> {
                Matcher mt = NAME.matcher(p.getFileName().toString());
                if (mt.matches() && Files.isRegularFile(p.resolve(STATE_DIR).resolve(TrainingState.FILE))) {
                    out.add(p);
                }
            });
        } catch (IOException e) {
            throw new AlignException(outputDir + ": cannot list checkpoints: " + e.getMessage(), e);
        }
        out.sort(Comparator.comparingLong(Checkpointer::stepOf));
        return out;
    }

    /** The step of a {@code checkpoint-<step>} directory. */
    public static long stepOf(Path checkpoint) {
        Matcher mt = NAME.matcher(checkpoint.getFileName().toString());
        if (!mt.matches()) {
            throw new IllegalArgumentException(checkpoint + " is not named checkpoint-<step>");
        }
        return Long.parseLong(mt.group(1));
    }

    /** Deletes what killed saves left in {@code outputDir} (temporary and half-deleted directories). */
    public static void cleanLeftovers(Path outputDir) {
        if (!Files.isDirectory(outputDir)) {
            return;
        }
        List<Path> junk = new ArrayList<>();
        try (Stream<Path> s = Files.list(outputDir)) {
            s.forEach(p -> {
                String n = p.getFileName().toString();
                if (n.startsWith(TMP_PREFIX) || n.startsWith(TRASH_PREFIX)) {
                    junk.add(p);
                }
            });
        } catch (IOException e) {
            throw new AlignException(outputDir + ": cannot list: " + e.getMessage(), e);
        }
        junk.forEach(Checkpointer::deleteTree);
    }

    private void prune() {
        if (keep <= 0) {
            return;
        }
        List<Path> all = checkpoints(outputDir);
        for (int i = 0; i < all.size() - keep; i++) {
            retire(all.get(i));
        }
    }

    /** Renames {@code dir} out of the checkpoint namespace, then deletes it. */
    private void retire(Path dir) {
        Path trash = outputDir.resolve(TRASH_PREFIX + dir.getFileName() + "-" + Long.toHexString(System.nanoTime()));
        try {
            AtomicFiles.move(dir, trash);
        } catch (IOException e) {
            throw new AlignException(dir + ": cannot remove old checkpoint: " + e.getMessage(), e);
        }
        deleteTree(trash);
    }

    private void publish(Path tmp, Path dst) throws IOException {
        if (Files.exists(dst)) {
            retire(dst);
        }
        AtomicFiles.move(tmp, dst);
    }

    private static void syncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not every file system can sync a directory; the files themselves are forced
        }
    }

    private static void deleteQuietly(Path root) {
        try {
            deleteTree(root);
        } catch (AlignException e) {
            // the next Checkpointer removes it
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            List<Path> all = new ArrayList<>(s.toList());
            all.sort(Comparator.reverseOrder());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new AlignException(root + ": cannot delete: " + e.getMessage(), e);
        }
    }
}
