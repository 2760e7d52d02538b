package dev.align.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.io.AtomicFiles;
import java.awt.AWTError;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's metrics: {@value #FILE} in the output directory (one JSON object per logging step), a progress
 * bar on stderr, and a loss-curve PNG ({@value #PLOT}) written by {@link #close()}.
 *
 * <p>Each line of {@value #FILE} holds {@code step}, {@code epoch}, {@code loss}, {@code learning_rate},
 * {@code grad_norm}, {@code tokens_per_s} and the recipe's extra metrics. As in transformers, a line
 * covers the {@code logging_steps} steps since the previous one: {@code loss} and the extra metrics are
 * averaged over them, {@code learning_rate} and {@code grad_norm} are the last step's (the learning rate
 * that step used), {@code tokens_per_s} is tokens over wall time in the window. Lines written by
 * {@link #log} (evaluation) carry {@code step}, {@code epoch} and the given values. Values that are not
 * finite are written as {@code null}.
 *
 * <p>On resume ({@code startStep > 0}) the file keeps the lines up to the checkpoint's step and continues;
 * a fresh run ({@code startStep == 0}) starts a new file.
 */
public final class Metrics implements AutoCloseable {
    /** The metrics file in the output directory. */
    public static final String FILE = "metrics.jsonl";
    /** The loss-curve plot in the output directory. */
    public static final String PLOT = "loss.png";
    /** The final evaluation's metrics, in the output directory. */
    public static final String EVAL_FILE = "eval_metrics.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(Metrics.class);

    private final Path outputDir;
    private final long totalSteps;
    private final int loggingSteps;
    private final BufferedWriter out;
    private final ProgressBar bar;

    private double lossSum;
    private int lossCount;
    private final Map<String, double[]> extraSums = new LinkedHashMap<>();
    private long windowTokens;
    private long windowStart = System.nanoTime();
    private long lastStep = -1;
    private long lastLogged = -1;
    private double lastEpoch;
    private double lastGradNorm = Double.NaN;
    private double lastLr = Double.NaN;
    private boolean closed;

    /**
     * @param outputDir the run's output directory
     * @param totalSteps the run's number of optimizer steps (for the progress bar and the last line)
     * @param loggingSteps write a line every this many steps (≥ 1)
     * @param progress show a progress bar (only if stderr is a terminal)
     * @param startStep the step the run starts after (the checkpoint's step on resume, else 0)
     */
    public Metrics(Path outputDir, long totalSteps, int loggingSteps, boolean progress, long startStep) {
        if (loggingSteps < 1) {
            throw new IllegalArgumentException("logging_steps must be >= 1: " + loggingSteps);
        }
        this.outputDir = outputDir;
        this.totalSteps = totalSteps;
        this.loggingSteps = loggingSteps;
        Path file = outputDir.resolve(FILE);
        try {
            Files.createDirectories(outputDir);
            StringBuilder kept = new StringBuilder();
            if (startStep > 0) {
                for (JsonNode line : read(file)) {
                    if (line.path("step").asLong(Long.MAX_VALUE) <= startStep) {
                        kept.append(JSON.writeValueAsString(line)).append('\n');
                    }
                }
            }
            AtomicFiles.writeString(file, kept.toString());
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new AlignException(file + ": cannot write metrics: " + e.getMessage(), e);
        }
        bar = progress && stderrIsTerminal() ? new ProgressBarBuilder()
                .setTaskName("train")
                .setInitialMax(totalSteps)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(500)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .startsFrom(startStep, Duration.ZERO)
                .build() : null;
    }

    /**
     * Records optimizer step {@code step} and writes a line if it is a logging step or the last step.
     *
     * @param loss the step's loss (the whole accumulated batch's)
     * @param gradNorm the gradient norm before clipping
     * @param lr the learning rate the step used
     * @param tokens tokens processed by the step (for tokens/s)
     * @param extra recipe metrics to average over the logging window (may be empty)
     */
    public void step(long step, double epoch, double loss, double gradNorm, double lr, long tokens,
            Map<String, Double> extra) {
        if (Double.isFinite(loss)) {
            lossSum += loss;
            lossCount++;
        }
        for (Map.Entry<String, Double> e : (extra == null ? Map.<String, Double>of() : extra).entrySet()) {
            if (e.getValue() != null && Double.isFinite(e.getValue())) {
                double[] s = extraSums.computeIfAbsent(e.getKey(), k -> new double[2]);
                s[0] += e.getValue();
                s[1]++;
            }
        }
        windowTokens += tokens;
        lastStep = step;
        lastEpoch = epoch;
        lastGradNorm = gradNorm;
        lastLr = lr;
        if (bar != null) {
            bar.stepTo(step);
            bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f, %s tok/s", loss,
                    compact(windowTokens / seconds(System.nanoTime() - windowStart))));
        }
        if (step % loggingSteps == 0 || step == totalSteps) {
            flushWindow();
        }
    }

    /** {@link #log} of evaluation metrics, each key prefixed {@code eval_} as transformers does. */
    public void logEval(long step, double epoch, Map<String, Double> metrics) {
        Map<String, Double> p = new java.util.LinkedHashMap<>();
        metrics.forEach((k, v) -> p.put("eval_" + k, v));
        log(step, epoch, p);
    }

    /** Writes a line now with {@code values} (evaluation metrics, e.g. {@code eval_loss}). */
    public void log(long step, double epoch, Map<String, Double> values) {
        ObjectNode n = JSON.createObjectNode();
        n.put("step", step);
        putNumber(n, "epoch", epoch);
        values.forEach((k, v) -> putNumber(n, k, v == null ? Double.NaN : v));
        write(n);
    }

    private void flushWindow() {
        if (lastStep < 0 || lastStep == lastLogged) {
            return;
        }
        long now = System.nanoTime();
        ObjectNode n = JSON.createObjectNode();
        n.put("step", lastStep);
        putNumber(n, "epoch", lastEpoch);
        putNumber(n, "loss", lossCount == 0 ? Double.NaN : lossSum / lossCount);
        putNumber(n, "learning_rate", lastLr);
        putNumber(n, "grad_norm", lastGradNorm);
        putNumber(n, "tokens_per_s", windowTokens / seconds(now - windowStart));
        extraSums.forEach((k, s) -> putNumber(n, k, s[0] / s[1]));
        write(n);
        lastLogged = lastStep;
        lossSum = 0;
        lossCount = 0;
        extraSums.clear();
        windowTokens = 0;
        windowStart = now;
    }

    private void write(ObjectNode n) {
        try {
            out.write(JSON.writeValueAsString(n));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new AlignException(outputDir.resolve(FILE) + ": cannot write metrics: " + e.getMessage(), e);
        }
    }

    private static void putNumber(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) {
            n.put(key, v);
        } else {
            n.putNull(key);
        }
    }

    private static double seconds(long nanos) {
        return Math.max(nanos, 1) / 1e9;
    }

    private static String compact(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.1fM", v / 1e6);
        }
        if (v >= 1e4) {
            return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    /**
     * Writes the last partial window, stops the progress bar and writes {@value #PLOT} from the whole
     * {@value #FILE} (earlier runs of a resumed training included).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            flushWindow();
        } finally {
            if (bar != null) {
                bar.close();
            }
            try {
                out.close();
            } catch (IOException e) {
                throw new AlignException(outputDir.resolve(FILE) + ": cannot close: " + e.getMessage(), e);
            }
        }
        try {
            LossPlot.write(outputDir.resolve(PLOT), read(outputDir.resolve(FILE)));
        } catch (RuntimeException | LinkageError | AWTError e) {
            // a plot is not worth failing a finished run (e.g. a JVM without fonts); the metrics are written
            LOG.warn("{}: cannot draw the loss plot: {}", outputDir.resolve(PLOT), e.toString());
        }
    }

    /** The lines of a metrics file (lines that do not parse, like a line cut by a kill, are skipped). */
    public static List<JsonNode> read(Path file) {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode n = JSON.readTree(line);
                    if (n != null && n.isObject()) {
                        out.add(n);
                    }
                } catch (IOException e) {
                    // a partial last line from a killed run
                }
            }
        } catch (IOException e) {
            throw new AlignException(file + ": cannot read: " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Whether stderr is a terminal: on Linux, whether file descriptor 2 is a tty device; elsewhere,
     * whether the JVM has a console.
     */
    public static boolean stderrIsTerminal() {
        Path fd2 = Paths.get("/proc/self/fd/2");
        if (Files.exists(fd2, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try {
                String target = Files.readSymbolicLink(fd2).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }
        return System.console() != null;
    }

    /** Writes {@code dir/eval_metrics.json} atomically (non-finite values as null). */
    public static void writeEvalFile(Path dir, Map<String, Double> m) {
        writeEvalFile(dir, m, JSON.createObjectNode());
    }

    /** {@link #writeEvalFile(Path, Map)} followed by the fields of {@code extra} (counts, settings). */
    public static void writeEvalFile(Path dir, Map<String, Double> m, ObjectNode extra) {
        ObjectNode n = JSON.createObjectNode();
        m.forEach((k, v) -> {
            if (v != null && Double.isFinite(v)) {
                n.put(k, v);
            } else {
                n.putNull(k);
            }
        });
        n.setAll(extra);
        try {
            AtomicFiles.writeString(dir.resolve(EVAL_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
        } catch (IOException e) {
            throw new AlignException(dir.resolve(EVAL_FILE) + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Reads {@code dir/eval_metrics.json}. */
    public static JsonNode readEvalFile(Path dir) {
        Path f = dir.resolve(EVAL_FILE);
        try {
            return JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new AlignException(f + ": cannot read: " + e.getMessage(), e);
        }
    }
}
