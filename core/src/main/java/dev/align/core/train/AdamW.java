package dev.align.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.io.AtomicFiles;
import dev.align.core.io.SafeTensors;
import dev.align.core.model.DecoderLM.Param;
import dev.align.core.nd.Kernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * AdamW with exactly {@code torch.optim.AdamW}'s update (Loshchilov and Hutter's decoupled weight
 * decay), applied by libtorch's fused kernel ({@link Kernels#adamw}, what {@code fused=True} runs):
 *
 * <pre>
 *   t ← t + 1
 *   p ← p · (1 − lr · wd)                       decoupled decay; wd = 0 for the no-decay group
 *   m ← β1 · m + (1 − β1) · g                   first moment
 *   v ← β2 · v + (1 − β2) · g²                  second moment
 *   p ← p − lr / (1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
 * </pre>
 *
 * <p>Parameter groups follow {@link Param#decay()}: linear weights are decayed by
 * {@link Options#weightDecay()}, norms, biases and embeddings are not. Defaults are TRL's
 * ({@code TrainingArguments}): β = (0.9, 0.999), ε = 1e-8, weight decay 0.
 *
 * <p>Memory: the moments m and v (each shaped like its parameter, FLOAT32) and a per-parameter step
 * count are created once, outside any step scope, and updated in place; the fused kernel reads p, g,
 * m, v once and writes p, m, v once, with no temporaries. A parameter without a gradient (never
 * reached by backward) is left alone, as torch does for {@code grad is None}: no decay, no moment
 * update, its step count does not advance.
 *
 * <p>Gradients: {@link #zeroGrad()} zeroes them in place (one fused {@code _foreach_zero_}). Dropping
 * them ({@code set_to_none}) is not possible through DJL 0.35.1's API.
 */
public final class AdamW implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Optimizer tensors in {@code training_state/}. */
    public static final String STATE_FILE = "optimizer.safetensors";
    /** Optimizer settings and step counts in {@code training_state/}. */
    public static final String META_FILE = "optimizer.json";

    /**
     * AdamW's hyperparameters (the learning rate comes per step from the schedule).
     *
     * @param beta1 decay of the first moment, in [0, 1)
     * @param beta2 decay of the second moment, in [0, 1)
     * @param eps added to the denominator, ≥ 0
     * @param weightDecay decoupled weight decay of the decay group, ≥ 0
     */
    public record Options(double beta1, double beta2, double eps, double weightDecay) {
        /** TRL's defaults: β = (0.9, 0.999), ε = 1e-8, weight decay 0. */
        public static final Options DEFAULTS = new Options(0.9, 0.999, 1e-8, 0.0);

        public Options {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("AdamW betas must be in [0, 1): " + beta1 + ", " + beta2);
            }
            if (!(eps >= 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("AdamW eps and weight decay must be >= 0: " + eps + ", " + weightDecay);
            }
        }

        /** The defaults with another weight decay. */
        public static Options withWeightDecay(double weightDecay) {
            return new Options(0.9, 0.999, 1e-8, weightDecay);
        }
    }

    private final Options options;
    private final List<Param> params;
    private final NDManager manager;
    private final NDArray[] m;
    private final NDArray[] v;
    private final NDArray[] steps;
    private final NDArray one;
    private long updates;

    /**
     * An optimizer for {@code params} (the trainable ones; each must require gradients) with fresh
     * moments.
     */
    public AdamW(List<Param> params, Options options) {
        Engines.init();
        this.options = options;
        this.params = List.copyOf(params);
        Set<String> names = new HashSet<>();
        for (Param p : this.params) {
            if (!names.add(p.name())) {
                throw new IllegalArgumentException("parameter " + p.name() + " is listed twice");
            }
            if (p.value().getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("parameter " + p.name() + " is " + p.value().getDataType()
                        + "; AdamW updates FLOAT32 parameters");
            }
        }
        manager = Engines.newManager();
        int n = this.params.size();
        m = new NDArray[n];
        v = new NDArray[n];
        steps = new NDArray[n];
        for (int i = 0; i < n; i++) {
            Shape s = this.params.get(i).value().getShape();
            m[i] = longLived(manager.zeros(s, DataType.FLOAT32));
            v[i] = longLived(manager.zeros(s, DataType.FLOAT32));
            steps[i] = longLived(manager.zeros(new Shape(1), DataType.FLOAT32));
        }
        one = longLived(manager.ones(new Shape(1), DataType.FLOAT32));
    }

    /** Keeps an array out of whatever {@link NDScope} the caller is in: optimizer state outlives steps. */
    private static NDArray longLived(NDArray a) {
        NDScope.unregister(a);
        return a;
    }

    /**
     * One AdamW update of every parameter that has a gradient, with learning rate {@code lr}. Runs off
     * the autograd tape; gradients are left as they are (call {@link #zeroGrad()} next).
     */
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0: " + lr);
        }
        try (NDScope scope = new NDScope()) {
            Group decay = new Group();
            Group plain = new Group();
            for (int i = 0; i < params.size(); i++) {
                Param p = params.get(i);
                NDArray g = Grads.of(p.value());
                if (g == null) {
                    continue;
                }
                steps[i].addi(one); // torch increments the step before the update
                (p.decay() && options.weightDecay() > 0 ? decay : plain).add(p.value(), g, m[i], v[i], steps[i]);
            }
            decay.run(lr, options, options.weightDecay());
            plain.run(lr, options, 0.0);
        }
        updates++;
    }

    /** Zeroes every parameter's gradient in place (the next backward accumulates from zero). */
    public void zeroGrad() {
        Grads.zero(params);
    }

    /** The parameters this optimizer updates. */
    public List<Param> params() {
        return params;
    }

    /** The hyperparameters. */
    public Options options() {
        return options;
    }

    /** Number of {@link #step} calls so far (restored by {@link #load}); the schedule's position. */
    public long updates() {
        return updates;
    }

    /** The step count of one parameter (how many updates it has received). */
    public long stepCount(String name) {
        return (long) steps[index(name)].getFloat(0);
    }

    /** The first moment of one parameter (the optimizer's own array: read, do not close). */
    public NDArray expAvg(String name) {
        return m[index(name)];
    }

    /** The second moment of one parameter (the optimizer's own array: read, do not close). */
    public NDArray expAvgSq(String name) {
        return v[index(name)];
    }

    private int index(String name) {
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no parameter " + name);
    }

    // ---------------------------------------------------------------- state

    /**
     * Writes the state to {@code dir}: {@value #STATE_FILE} (tensors {@code exp_avg.<param>} and
     * {@code exp_avg_sq.<param>}, FLOAT32) and {@value #META_FILE} (hyperparameters, and per parameter
     * its name, shape, group and step count).
     */
    public void save(Path dir) {
        List<SafeTensors.Tensor> tensors = new ArrayList<>();
        ObjectNode meta = JSON.createObjectNode();
        meta.put("type", "adamw");
        meta.put("beta1", options.beta1());
        meta.put("beta2", options.beta2());
        meta.put("eps", options.eps());
        meta.put("weight_decay", options.weightDecay());
        meta.put("updates", updates);
        ArrayNode ps = meta.putArray("params");
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            tensors.add(new SafeTensors.Tensor("exp_avg." + p.name(), m[i], SafeTensors.Dtype.F32));
            tensors.add(new SafeTensors.Tensor("exp_avg_sq." + p.name(), v[i], SafeTensors.Dtype.F32));
            ObjectNode e = ps.addObject();
            e.put("name", p.name());
            ArrayNode shape = e.putArray("shape");
            for (long d : p.value().getShape().getShape()) {
                shape.add(d);
            }
            e.put("decay", p.decay());
            e.put("step", (long) steps[i].getFloat(0));
        }
        SafeTensors.write(dir.resolve(STATE_FILE), tensors, null);
        try {
            AtomicFiles.writeString(dir.resolve(META_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta) + "\n");
        } catch (IOException e) {
            throw new AlignException(dir.resolve(META_FILE) + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * Restores the state written by {@link #save} into this optimizer. The checkpoint must list the same
     * parameters (names, order, shapes) and hyperparameters; anything else is an error naming the file
     * and field.
     */
    public void load(Path dir) {
        Path metaFile = dir.resolve(META_FILE);
        JsonNode meta;
        try {
            meta = JSON.readTree(metaFile.toFile());
        } catch (IOException e) {
            throw new AlignException(metaFile + ": cannot read optimizer state: " + e.getMessage(), e);
        }
        if (meta == null || !"adamw".equals(meta.path("type").asText())) {
            throw new AlignException(metaFile + ": type: expected \"adamw\"");
        }
        check(metaFile, "beta1", meta, options.beta1());
        check(metaFile, "beta2", meta, options.beta2());
        check(metaFile, "eps", meta, options.eps());
        check(metaFile, "weight_decay", meta, options.weightDecay());
        JsonNode ps = meta.path("params");
        if (!ps.isArray() || ps.size() != params.size()) {
            throw new AlignException(metaFile + ": params: the checkpoint has " + ps.size()
                    + " parameters, this run trains " + params.size());
        }
        long[] stepCounts = new long[params.size()];
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            JsonNode e = ps.get(i);
            if (!p.name().equals(e.path("name").asText())) {
                throw new AlignException(metaFile + ": params[" + i + "].name: \"" + e.path("name").asText()
                        + "\", this run trains \"" + p.name() + "\" there");
            }
            long[] shape = new long[e.path("shape").size()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = e.path("shape").get(d).asLong();
            }
            if (!Arrays.equals(shape, p.value().getShape().getShape())) {
                throw new AlignException(metaFile + ": params[" + i + "].shape: " + Arrays.toString(shape)
                        + ", but " + p.name() + " is " + p.value().getShape());
            }
            stepCounts[i] = e.path("step").asLong(-1);
            if (stepCounts[i] < 0) {
                throw new AlignException(metaFile + ": params[" + i + "].step: missing or negative");
            }
        }
        Path stateFile = dir.resolve(STATE_FILE);
        NDArray[] newM = new NDArray[params.size()];
        NDArray[] newV = new NDArray[params.size()];
        try (SafeTensors.Reader r = SafeTensors.open(stateFile)) {
            for (int i = 0; i < params.size(); i++) {
                Shape s = params.get(i).value().getShape();
                newM[i] = readMoment(r, "exp_avg." + params.get(i).name(), s);
                newV[i] = readMoment(r, "exp_avg_sq." + params.get(i).name(), s);
            }
        } catch (RuntimeException e) {
            closeAll(newM);
            closeAll(newV);
            throw e;
        }
        for (int i = 0; i < params.size(); i++) {
            m[i].close();
            v[i].close();
            steps[i].close();
            m[i] = newM[i];
            v[i] = newV[i];
            steps[i] = longLived(manager.full(new Shape(1), (float) stepCounts[i], DataType.FLOAT32));
        }
        updates = meta.path("updates").asLong();
    }

    private NDArray readMoment(SafeTensors.Reader r, String name, Shape shape) {
        SafeTensors.Entry e = r.entry(name);
        if (!Arrays.equals(e.shape(), shape.getShape()) || e.dtype() != SafeTensors.Dtype.F32) {
            throw new AlignException(r.file() + ": tensor '" + name + "' is " + e.dtype() + " "
                    + Arrays.toString(e.shape()) + ", expected F32 " + shape);
        }
        return longLived(r.read(name, manager));
    }

    private static void check(Path file, String field, JsonNode meta, double expected) {
        JsonNode n = meta.get(field);
        if (n == null || !n.isNumber() || n.asDouble() != expected) {
            throw new AlignException(file + ": " + field + ": the checkpoint has " + n + ", this run uses "
                    + expected + " (resume with the same optimizer settings)");
        }
    }

    private static void closeAll(NDArray[] arrays) {
        for (NDArray a : arrays) {
            if (a != null) {
                a.close();
            }
        }
    }

    /** True if {@code dir} holds a saved optimizer state. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(META_FILE)) && Files.isRegularFile(dir.resolve(STATE_FILE));
    }

    @Override
    public void close() {
        manager.close();
    }

    /** The tensors of one parameter group, in the fused kernel's argument order. */
    private static final class Group {
        final List<NDArray> p = new ArrayList<>();
        final List<NDArray> g = new ArrayList<>();
        final List<NDArray> m = new ArrayList<>();
        final List<NDArray> v = new ArrayList<>();
        final List<NDArray> t = new ArrayList<>();

        void add(NDArray param, NDArray grad, NDArray m1, NDArray m2, NDArray step) {
            p.add(param);
            g.add(grad);
            m.add(m1);
            v.add(m2);
            t.add(step);
        }

        void run(double lr, Options o, double wd) {
            if (!p.isEmpty()) {
                Kernels.adamw(p, g, m, v, t, lr, o.beta1(), o.beta2(), wd, o.eps());
            }
        }
    }
}
