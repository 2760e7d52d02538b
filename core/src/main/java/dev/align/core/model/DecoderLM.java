package dev.align.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.io.AtomicFiles;
import dev.align.core.io.SafeTensors;
import dev.align.core.io.WeightFiles;
import dev.align.core.model.Adapters.Module;
import dev.align.core.model.HfLayout.Binding;
import dev.align.core.model.HfLayout.Kind;
import dev.align.core.model.ModelConfig.Activation;
import dev.align.core.model.ModelConfig.Family;
import dev.align.core.model.ModelConfig.Head;
import dev.align.core.nd.Kernels;
import dev.align.core.nd.Temps;
import dev.align.core.nd.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A decoder-only transformer — llama, mistral, qwen2 or gpt2 — with a language-model head or a
 * sequence-classification (reward) head, on one page.
 *
 * <p>Shapes: B batch rows, T new tokens, S attended key slots (T without a cache), H hidden size,
 * N query heads, K key/value heads, D head size, V vocabulary. The forward is batched over the whole
 * sequence (no per-token loops); computation is fp32.
 *
 * <p>Parameters are held in Align's internal layout (fused q/k/v, fused gate/up, linear weights
 * [out, in]; see {@link HfLayout}) and converted from and to Hugging Face's names on load and save.
 * Every parameter is owned by the model's manager; everything a forward creates belongs to the caller's
 * arrays' managers, so wrap each step in an {@link ai.djl.ndarray.NDScope}.
 */
public final class DecoderLM implements AutoCloseable {
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** How attention is computed (as transformers' {@code attn_implementation}). */
    public enum AttentionImpl {
        /** libtorch's fused scaled-dot-product attention (flash attention on CPU); the default. */
        SDPA,
        /** Explicit matmul, mask, softmax, matmul (transformers' "eager"); a reference path. */
        EAGER
    }

    /** A parameter: its internal name, its value, and whether AdamW decays it by default. */
    public record Param(String name, NDArray value, boolean decay) {}

    private record Layer(
            NDArray norm1W, NDArray norm1B, NDArray qkvW, NDArray qkvB, NDArray oW, NDArray oB,
            NDArray norm2W, NDArray norm2B, NDArray upW, NDArray upB, NDArray downW, NDArray downB) {}

    private final ModelConfig config;
    private final NDManager manager;
    private final List<Binding> bindings;
    private final Map<String, Param> params;
    /** Stored dtype of each HF part of each internal parameter, for writing back bit-identically. */
    private final Map<String, SafeTensors.Dtype[]> storedTypes;
    private final SafeTensors.Dtype defaultStoredType;
    private final Layer[] layers;
    private final NDArray embed;
    private final NDArray posEmbed;
    private final NDArray normW;
    private final NDArray normB;
    private final NDArray lmHead;
    private final NDArray score;
    private final NDArray invFreq;
    private final NDArray normEps;
    private final NDArray[] attnScale;
    private final int qDim;
    private final int kvDim;
    private Adapters adapters;
    private AttentionImpl attention = AttentionImpl.SDPA;
    private boolean segmented;
    /** Weight → its oneDNN-packed copy while a {@link #packWeights} handle is open; empty otherwise. */
    private final Map<NDArray, NDArray> packed = new java.util.IdentityHashMap<>();
    /** With packed weights of a llama-family model: the arguments of {@link Kernels#decodeLlama}; else null. */
    private IValue decodeWeights;
    /** [layers, heads, kv heads, head dim, intermediate]. */
    private IValue decodeDims;
    /** [norm eps, attention scale]. */
    private IValue decodeFloats;

    private DecoderLM(
            ModelConfig config,
            NDManager manager,
            Map<String, NDArray> values,
            Map<String, SafeTensors.Dtype[]> storedTypes,
            SafeTensors.Dtype defaultStoredType) {
        this.config = config;
        this.manager = manager;
        this.bindings = HfLayout.bindings(config, HfLayout.defaultPrefix(config));
        this.storedTypes = storedTypes;
        this.defaultStoredType = defaultStoredType;
        Map<String, Param> ps = new LinkedHashMap<>();
        for (Binding b : bindings) {
            NDArray v = values.get(b.internal());
            if (v == null) {
                throw new IllegalStateException("no value for " + b.internal());
            }
            v.setName(b.internal());
            ps.put(b.internal(), new Param(b.internal(), v, b.decay()));
        }
        this.params = Collections.unmodifiableMap(ps);
        embed = values.get("embed");
        posEmbed = values.get("pos_embed");
        normW = values.get("norm.weight");
        normB = values.get("norm.bias");
        lmHead = config.head() == Head.CAUSAL_LM
                ? (config.tieEmbeddings() ? embed : values.get("lm_head"))
                : null;
        score = values.get("score");
        layers = new Layer[config.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = "layers." + i + ".";
            layers[i] = new Layer(
                    values.get(l + "norm1.weight"), values.get(l + "norm1.bias"),
                    values.get(l + "qkv.weight"), values.get(l + "qkv.bias"),
                    values.get(l + "o.weight"), values.get(l + "o.bias"),
                    values.get(l + "norm2.weight"), values.get(l + "norm2.bias"),
                    values.get(l + "up.weight"), values.get(l + "up.bias"),
                    values.get(l + "down.weight"), values.get(l + "down.bias"));
        }
        qDim = config.heads() * config.headDim();
        kvDim = config.kvHeads() * config.headDim();
        invFreq = config.family() == Family.LLAMA
                ? Tensors.floats(manager,
                        RopeScaling.inverseFrequencies(config.headDim(), config.ropeTheta(), config.ropeScaling()),
                        new Shape(config.headDim() / 2))
                : null;
        normEps = Tensors.scalar(manager, (float) config.normEps());
        attnScale = new NDArray[config.layers()];
        for (int i = 0; i < attnScale.length; i++) {
            double s = 1.0;
            if (config.scaleAttnWeights()) {
                s /= Math.sqrt(config.headDim());
            }
            if (config.scaleAttnByInverseLayerIdx()) {
                s /= (i + 1);
            }
            attnScale[i] = Tensors.scalar(manager, (float) s);
        }
    }

    // ---------------------------------------------------------------- loading and saving

    /** Loads a Hugging Face model directory as it is (its own head). */
    public static DecoderLM load(Path dir, NDManager parent) {
        return load(dir, parent, null, 0, 0f, 0L);
    }

    /**
     * Loads a model directory with the given head. If the directory's head differs (a causal LM loaded
     * as a reward model), the transformer is loaded and the new head is initialised from N(0, headStd²)
     * with {@code seed}; the old head is dropped.
     */
    public static DecoderLM load(Path dir, NDManager parent, Head head, int numLabels, float headStd, long seed) {
        Engines.init();
        ModelConfig fileCfg = ModelConfig.load(dir);
        ModelConfig cfg = fileCfg;
        if (head != null && (head != fileCfg.head() || (head == Head.SEQUENCE_CLASSIFICATION
                && fileCfg.numLabels() != numLabels))) {
            cfg = fileCfg.withHead(head, numLabels);
        }
        NDManager m = parent.newSubManager();
        try (WeightFiles w = WeightFiles.open(dir)) {
            String prefix = detectPrefix(fileCfg, w.names());
            List<Binding> fileBindings = HfLayout.bindings(fileCfg, prefix);
            validate(dir, fileCfg, fileBindings, w, HfLayout.ignorable(fileCfg, prefix));
            Map<String, Binding> available = new HashMap<>();
            fileBindings.forEach(b -> available.put(b.internal(), b));
            Map<String, NDArray> values = new HashMap<>();
            Map<String, SafeTensors.Dtype[]> types = new HashMap<>();
            Map<SafeTensors.Dtype, Integer> typeCount = new HashMap<>();
            List<Binding> fresh = new ArrayList<>();
            for (Binding b : HfLayout.bindings(cfg, prefix)) {
                Binding fb = available.get(b.internal());
                if (fb == null || !sameShapes(fb, b)) {
                    fresh.add(b);
                    continue;
                }
                SafeTensors.Dtype[] t = new SafeTensors.Dtype[fb.hf().size()];
                for (int i = 0; i < t.length; i++) {
                    t[i] = w.entry(fb.hf().get(i)).dtype();
                    typeCount.merge(t[i], 1, Integer::sum);
                }
                types.put(b.internal(), t);
                values.put(b.internal(), readBinding(fb, w, m));
            }
            SafeTensors.Dtype dominant = typeCount.entrySet().stream()
                    .max(Map.Entry.comparingByValue())
                    .map(Map.Entry::getKey)
                    .orElse(SafeTensors.Dtype.F32);
            if (!fresh.isEmpty()) {
                Engines.seed(seed);
                for (Binding b : fresh) {
                    values.put(b.internal(), m.randomNormal(0f, headStd, new Shape(b.shapes().get(0)), DataType.FLOAT32));
                }
            }
            return new DecoderLM(cfg, m, values, types, dominant);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private static boolean sameShapes(Binding a, Binding b) {
        if (a.shapes().size() != b.shapes().size()) {
            return false;
        }
        for (int i = 0; i < a.shapes().size(); i++) {
            if (!Arrays.equals(a.shapes().get(i), b.shapes().get(i))) {
                return false;
            }
        }
        return true;
    }

    private static String detectPrefix(ModelConfig c, Set<String> names) {
        if (c.family() == Family.GPT2 && !names.contains("transformer.wte.weight") && names.contains("wte.weight")) {
            return "";
        }
        return HfLayout.defaultPrefix(c);
    }

    private static void validate(Path dir, ModelConfig c, List<Binding> bindings, WeightFiles w, Pattern ignorable) {
        Set<String> expected = new LinkedHashSet<>();
        List<String> wrongShape = new ArrayList<>();
        List<String> wrongType = new ArrayList<>();
        for (Binding b : bindings) {
            for (int i = 0; i < b.hf().size(); i++) {
                String n = b.hf().get(i);
                expected.add(n);
                if (w.names().contains(n)) {
                    SafeTensors.Entry e = w.entry(n);
                    if (!Arrays.equals(e.shape(), b.shapes().get(i))) {
                        wrongShape.add(n + " is " + Arrays.toString(e.shape()) + ", expected "
                                + Arrays.toString(b.shapes().get(i)));
                    }
                    if (!e.dtype().isFloat()) {
                        wrongType.add(n + " is " + e.dtype() + ", expected a float type");
                    }
                }
            }
        }
        Set<String> missing = new TreeSet<>(expected);
        missing.removeAll(w.names());
        Set<String> extra = new TreeSet<>();
        for (String n : w.names()) {
            if (!expected.contains(n) && !ignorable.matcher(n).matches()) {
                extra.add(n);
            }
        }
        if (missing.isEmpty() && extra.isEmpty() && wrongShape.isEmpty() && wrongType.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(dir + ": weights do not match config.json (model_type "
                + c.modelType() + ", " + c.layers() + " layers, hidden " + c.hidden() + ")");
        appendList(sb, "missing", new ArrayList<>(missing));
        appendList(sb, "unexpected", new ArrayList<>(extra));
        appendList(sb, "wrong shape", wrongShape);
        appendList(sb, "wrong dtype", wrongType);
        throw new AlignException(sb.toString());
    }

    private static void appendList(StringBuilder sb, String what, List<String> items) {
        if (items.isEmpty()) {
            return;
        }
        sb.append("\n  ").append(what).append(" (").append(items.size()).append("): ");
        sb.append(String.join(", ", items.subList(0, Math.min(8, items.size()))));
        if (items.size() > 8) {
            sb.append(", ...");
        }
    }

    private static NDArray readBinding(Binding b, WeightFiles w, NDManager m) {
        switch (b.kind()) {
            case PLAIN:
                return w.read(b.hf().get(0), m);
            case CONV1D:
                try (NDArray raw = w.read(b.hf().get(0), m); NDArray t = raw.transpose(); NDArray flat = t.flatten()) {
                    long[] s = b.shapes().get(0);
                    return flat.reshape(s[1], s[0]);
                }
            case ROWS:
            default:
                NDList parts = new NDList();
                try {
                    for (String n : b.hf()) {
                        parts.add(w.read(n, m));
                    }
                    return Tensors.concat(parts, 0);
                } finally {
                    parts.close();
                }
        }
    }

    /**
     * Initialises a model from scratch as transformers does: linear and embedding weights from
     * N(0, initializer_range²) (GPT-2's output projections scaled by 1/sqrt(2·layers)), norms one, biases
     * zero. Deterministic for a seed on a given machine.
     */
    public static DecoderLM init(ModelConfig cfg, long seed, NDManager parent) {
        Engines.init();
        Engines.seed(seed);
        float std = (float) cfg.json().path("initializer_range").asDouble(0.02);
        NDManager m = parent.newSubManager();
        try {
            Map<String, NDArray> values = new HashMap<>();
            Map<String, SafeTensors.Dtype[]> types = new HashMap<>();
            for (Binding b : HfLayout.bindings(cfg, HfLayout.defaultPrefix(cfg))) {
                Shape s = internalShape(b);
                String n = b.internal();
                NDArray v;
                if (n.endsWith("norm1.weight") || n.endsWith("norm2.weight") || n.equals("norm.weight")) {
                    v = m.ones(s, DataType.FLOAT32);
                } else if (n.endsWith(".bias")) {
                    v = m.zeros(s, DataType.FLOAT32);
                } else {
                    float sd = std;
                    if (cfg.family() == Family.GPT2 && (n.endsWith("o.weight") || n.endsWith("down.weight"))) {
                        sd = (float) (std / Math.sqrt(2.0 * cfg.layers()));
                    }
                    v = m.randomNormal(0f, sd, s, DataType.FLOAT32);
                }
                values.put(n, v);
            }
            return new DecoderLM(cfg, m, values, types, SafeTensors.Dtype.F32);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private static Shape internalShape(Binding b) {
        if (b.kind() == Kind.CONV1D) {
            long[] s = b.shapes().get(0);
            return new Shape(s[1], s[0]);
        }
        long rows = 0;
        for (long[] s : b.shapes()) {
            rows += s[0];
        }
        long[] first = b.shapes().get(0).clone();
        first[0] = rows;
        return new Shape(first);
    }

    /** A deep copy of this model (its own parameters, no gradients, no adapters). */
    public DecoderLM copy(NDManager parent) {
        NDManager m = parent.newSubManager();
        Map<String, NDArray> values = new HashMap<>();
        for (Param p : params.values()) {
            NDArray c = p.value().duplicate();
            c.attach(m);
            values.put(p.name(), c);
        }
        return new DecoderLM(config, m, values, new HashMap<>(storedTypes), defaultStoredType);
    }

    /**
     * Writes {@code config.json} and the weights (sharded past {@code maxShardBytes}) to {@code dir}
     * under the names and dtypes Hugging Face uses; a tied head is left out as {@code save_pretrained}
     * does. Tokenizer files are not written here.
     */
    public void save(Path dir, long maxShardBytes) {
        List<SafeTensors.Tensor> tensors = new ArrayList<>();
        NDList temps = new NDList();
        try {
            for (Binding b : bindings) {
                NDArray v = params.get(b.internal()).value();
                SafeTensors.Dtype[] t = storedTypes.get(b.internal());
                for (int i = 0; i < b.hf().size(); i++) {
                    SafeTensors.Dtype dt = t != null ? t[i] : defaultStoredType;
                    NDArray part;
                    if (b.kind() == Kind.CONV1D) {
                        part = v.transpose();
                        temps.add(part);
                    } else if (b.kind() == Kind.ROWS) {
                        long start = 0;
                        for (int j = 0; j < i; j++) {
                            start += b.shapes().get(j)[0];
                        }
                        part = v.get(new NDIndex().addSliceDim(start, start + b.shapes().get(i)[0]));
                        temps.add(part);
                    } else {
                        part = v;
                    }
                    tensors.add(new SafeTensors.Tensor(b.hf().get(i), part, dt));
                }
            }
            WeightFiles.write(dir, tensors, maxShardBytes);
        } finally {
            temps.close();
        }
        try {
            AtomicFiles.writeString(dir.resolve("config.json"), JSON.writeValueAsString(config.json()) + "\n");
        } catch (IOException e) {
            throw new AlignException(dir + ": cannot write config.json: " + e.getMessage(), e);
        }
    }

    /** {@link #save(Path, long)} with transformers' default shard size. */
    public void save(Path dir) {
        save(dir, WeightFiles.DEFAULT_SHARD_BYTES);
    }

    // ---------------------------------------------------------------- forward

    /**
     * The final hidden states (after the last norm).
     *
     * @param ids token ids [B, T], INT64
     * @param positions position ids [B, T], INT64
     * @param mask additive attention mask [B, 1, T, S] from {@link AttentionMask}, or null for the plain
     *     causal mask (no cache; rows right-padded at most)
     * @param cache a KV cache to read and extend (S = cache length + T), or null (S = T)
     * @return hidden states [B, T, H]
     */
    public NDArray hidden(NDArray ids, NDArray positions, NDArray mask, KvCache cache) {
        long t = ids.getShape().get(1);
        if (segmented && cache == null && adapters == null && config.family() == Family.LLAMA
                && JniUtils.isGradMode() && bodyTrains()) {
            return hiddenSegmented(ids, positions, mask);
        }
        try (Temps shared = new Temps()) { // rotary tables (and the eager path's causal mask), used by every layer
            if (mask == null && attention == AttentionImpl.EAGER) { // the fused kernel needs none; eager does
                mask = shared.add(AttentionMask.plainCausal(ids.getManager(), t)); // [1,1,T,T]
            }
            NDArray x = embedding(ids, embed); // [B,T,H]
            NDArray cos = null;
            NDArray sin = null;
            if (config.family() == Family.GPT2) {
                try (NDArray pos = embedding(positions, posEmbed); NDArray tok = x) {
                    x = tok.add(pos);
                }
            } else {
                NDList rot = shared.add(rotary(positions));
                cos = rot.get(0);
                sin = rot.get(1);
            }
            for (int i = 0; i < layers.length; i++) {
                Layer l = layers[i];
                try (Temps tmp = new Temps()) { // the residual stream of the previous layer and this layer's branches
                    tmp.add(x);
                    NDArray a = tmp.add(attention(i, l, tmp.add(norm(x, l.norm1W(), l.norm1B())), cos, sin, mask, cache));
                    NDArray mid = tmp.add(x.add(a));
                    NDArray m = tmp.add(mlp(i, l, tmp.add(norm(mid, l.norm2W(), l.norm2B()))));
                    x = mid.add(m);
                }
            }
            if (cache != null) {
                cache.advance((int) t);
            }
            try (NDArray last = x) {
                return norm(last, normW, normB);
            }
        }
    }

    /** The rotary tables for {@code positions} [B, T]: cos [B, 1, T, D] and [−sin, sin] [B, 1, T, D]. */
    private NDList rotary(NDArray positions) {
        long b = positions.getShape().get(0);
        long t = positions.getShape().get(1);
        try (Temps tmp = new Temps()) {
            NDArray freqs = tmp.add(tmp.add(positions.toType(DataType.FLOAT32, false)).reshape(b, t, 1))
                    .mul(invFreq); // [B,T,D/2]
            tmp.add(freqs);
            NDArray c = tmp.add(freqs.cos());
            NDArray s = tmp.add(freqs.sin());
            NDArray cos = tmp.add(c.concat(c, 2)).reshape(b, 1, t, config.headDim()); // [B,1,T,D]
            NDArray sin = tmp.add(tmp.add(s.neg()).concat(s, 2)).reshape(b, 1, t, config.headDim()); // [−sin, sin]
            return new NDList(cos, sin);
        }
    }

    // ---------------------------------------------------------------- segmented backward

    /**
     * Whether a recorded forward of a full fine-tune of this (llama-family, adapter-free) model runs
     * segmented: the linear products (oneDNN's blocked kernels forward and for the input gradient, faster
     * than the MKL sgemm autograd uses at a training step's shapes), the RMSNorms and the residual adds
     * outside autograd with their backward by hand, autograd recording only the rotary attention and the
     * gated activation. Such a forward's gradients reach the parameters only through
     * {@link SegmentedBackward#backward}, which the caller must use instead of
     * {@code GradientCollector.backward}. Off by default; the training recipes turn it on.
     */
    public void setSegmentedBackward(boolean on) {
        this.segmented = on;
    }

    /**
     * {@link #hidden} for a recorded forward without cache or adapters. Per layer, outside autograd: the
     * two RMSNorms (their backward by hand, {@link Kernels#rmsNormBackward}), the four linear products
     * and the residual adds; recorded: the rotary attention (from the q/k/v product as a
     * gradient-requiring leaf) and the gated activation (from the gate/up product). {@link Tape#run}
     * walks the layers back: a linear layer's gradients by hand (dX = dY·W through oneDNN, dW += dYᵀ·X
     * in place), a recorded piece's by libtorch's backward from the incoming gradient, the residual
     * stream's gradient summed by hand. Kept for backward: each linear's input, each norm's input and
     * 1/rms, and what autograd keeps for the recorded pieces.
     */
    private NDArray hiddenSegmented(NDArray ids, NDArray positions, NDArray mask) {
        Tape tape = new Tape();
        NDArray x = embedding(ids, embed); // [B,T,H], recorded: embedding's backward at the end
        tape.embedded = x;
        if (mask == null && attention == AttentionImpl.EAGER) { // as in hidden: the fused kernel needs none
            mask = AttentionMask.plainCausal(ids.getManager(), ids.getShape().get(1)); // [1,1,T,T]
            tape.keep(new NDList(mask));
        }
        NDList rot = rotary(positions);
        tape.keep(rot);
        NDArray cos = rot.get(0);
        NDArray sin = rot.get(1);
        NDArray in = x.stopGradient(); // the residual stream: its gradient is summed by hand
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            Saved sv = new Saved();
            sv.in = in;
            NDList n1 = Kernels.rmsNormNoGrad(in, l.norm1W(), normEps); // [B,T,H], [B,T,1]
            sv.h1 = n1.get(0);
            sv.r1 = n1.get(1);
            sv.qkv = leaf(Kernels.linearNoGrad(sv.h1, l.qkvW(), l.qkvB())); // [B,T,(N+2K)D]
            try (Temps tmp = new Temps()) { // recorded: rotary attention
                NDList parts = tmp.add(sv.qkv.split(new long[] {qDim, qDim + kvDim}, 2));
                sv.att = attend(i, parts.get(0), parts.get(1), parts.get(2), cos, sin, mask, null); // [B,T,N*D]
            }
            try (NDArray o = Kernels.linearNoGrad(sv.att, l.oW(), l.oB())) {
                sv.mid = in.add(o); // the residual stream after attention (nothing here requires a gradient)
            }
            NDList n2 = Kernels.rmsNormNoGrad(sv.mid, l.norm2W(), normEps);
            sv.h2 = n2.get(0);
            sv.r2 = n2.get(1);
            sv.up = leaf(Kernels.linearNoGrad(sv.h2, l.upW(), l.upB())); // [B,T,2I]
            try (Temps tmp = new Temps()) { // recorded: the gated activation
                NDList gu = tmp.add(sv.up.split(2, 2));
                sv.act = gated(gu.get(0), gu.get(1)); // [B,T,I]
            }
            try (NDArray down = Kernels.linearNoGrad(sv.act, l.downW(), l.downB())) {
                in = sv.mid.add(down);
            }
            tape.layers.add(sv);
        }
        in.setRequiresGradient(true); // the final norm and the head are recorded from here
        tape.last = in;
        SegmentedBackward.register(tape);
        return norm(in, normW, normB);
    }

    /** Whether the embedding and every layer's parameters require gradients (a full fine-tune). */
    private boolean bodyTrains() {
        if (!embed.hasGradient()) {
            return false;
        }
        for (Layer l : layers) {
            for (NDArray a : new NDArray[] {l.norm1W(), l.qkvW(), l.qkvB(), l.oW(), l.oB(), l.norm2W(), l.upW(),
                    l.upB(), l.downW(), l.downB()}) {
                if (a != null && !a.hasGradient()) {
                    return false;
                }
            }
        }
        return true;
    }

    private static NDArray leaf(NDArray a) {
        a.setRequiresGradient(true);
        return a;
    }

    /**
     * One layer's residual stream (in, mid) with its norms' 1/rms (r1, r2), the inputs of its linear
     * layers (h1, att, h2, act) and the leaves its recorded pieces start from (qkv, up).
     */
    private static final class Saved {
        NDArray in;
        NDArray r1;
        NDArray h1;
        NDArray qkv;
        NDArray att;
        NDArray mid;
        NDArray r2;
        NDArray h2;
        NDArray up;
        NDArray act;

        void close() {
            for (NDArray a : new NDArray[] {in, r1, h1, qkv, att, mid, r2, h2, up, act}) {
                a.close();
            }
        }
    }

    /** A segmented forward waiting for its backward. */
    private final class Tape implements SegmentedBackward.Pending {
        final List<Saved> layers = new ArrayList<>();
        final List<NDArray> kept = new ArrayList<>();
        NDArray embedded;
        NDArray last;

        void keep(NDList list) {
            kept.addAll(list);
        }

        @Override
        public boolean stale() {
            return last.isReleased();
        }

        @Override
        public void run() {
            NDArray g = JniUtils.getGradient((PtNDArray) last); // [B,T,H], from the caller's backward
            try {
                if (g == null) {
                    return; // the loss did not use this forward
                }
                for (int i = layers.size() - 1; i >= 0; i--) {
                    Layer l = DecoderLM.this.layers[i];
                    Saved sv = layers.get(i);
                    try (Temps tmp = new Temps()) {
                        tmp.add(g);
                        NDArray gAct = tmp.add(Kernels.linearBackward(g, sv.act, l.downW(), l.downB()));
                        JniUtils.backward((PtNDArray) sv.act, (PtNDArray) gAct, false, false);
                        NDArray gUp = tmp.add(gradOf(sv.up));
                        NDArray gH2 = tmp.add(Kernels.linearBackward(gUp, sv.h2, l.upW(), l.upB()));
                        NDArray gMid = tmp.add(Kernels.rmsNormBackward(gH2, sv.mid, sv.r2, l.norm2W(), g));
                        NDArray gAtt = tmp.add(Kernels.linearBackward(gMid, sv.att, l.oW(), l.oB()));
                        JniUtils.backward((PtNDArray) sv.att, (PtNDArray) gAtt, false, false);
                        NDArray gQkv = tmp.add(gradOf(sv.qkv));
                        NDArray gH1 = tmp.add(Kernels.linearBackward(gQkv, sv.h1, l.qkvW(), l.qkvB()));
                        g = Kernels.rmsNormBackward(gH1, sv.in, sv.r1, l.norm1W(), gMid);
                    }
                    sv.close();
                }
                JniUtils.backward((PtNDArray) embedded, (PtNDArray) g, false, false);
                g.close();
            } finally {
                close();
            }
        }

        @Override
        public void close() {
            for (Saved sv : layers) {
                if (!sv.in.isReleased()) {
                    sv.close();
                }
            }
            layers.clear();
            for (NDArray a : new NDArray[] {embedded, last}) {
                if (!a.isReleased()) {
                    a.close();
                }
            }
            for (NDArray a : kept) {
                a.close();
            }
            kept.clear();
        }

        private NDArray gradOf(NDArray leaf) {
            NDArray g = JniUtils.getGradient((PtNDArray) leaf);
            if (g == null) {
                throw new IllegalStateException("segmented backward: no gradient reached a layer's input");
            }
            return g;
        }
    }

    /** The language-model head's weight [V, H] (the input embedding when tied), or null for a classifier. */
    public NDArray headWeight() {
        return lmHead;
    }

    /** Logits over the vocabulary: hidden [..., H] → [..., V]. */
    public NDArray logits(NDArray hidden) {
        if (lmHead == null) {
            throw new IllegalStateException("a sequence-classification model has no language-model head");
        }
        return linear(hidden, lmHead, null);
    }

    /**
     * Sequence scores (rewards) read at one position per row.
     *
     * @param hidden [B, T, H]
     * @param last the position to read per row [B], INT64 (the rightmost non-pad token)
     * @return [B, num_labels]
     */
    public NDArray score(NDArray hidden, NDArray last) {
        if (score == null) {
            throw new IllegalStateException("a causal LM has no score head");
        }
        long b = hidden.getShape().get(0);
        long h = hidden.getShape().get(2);
        NDArray idx = last.reshape(b, 1, 1).broadcast(b, 1, h);
        NDArray picked = hidden.gather(idx, 1).reshape(b, h); // [B,H]
        return linear(picked, score, null);
    }

    private NDArray attention(int layer, Layer l, NDArray h, NDArray cos, NDArray sin, NDArray mask, KvCache cache) {
        if (mask == null && cache != null) {
            throw new IllegalArgumentException("decoding with a cache needs an explicit mask");
        }
        try (Temps tmp = new Temps()) {
            NDArray qkv = tmp.add(linear(h, l.qkvW(), l.qkvB())); // [B,T,(N+2K)D]
            qkv = tmp.add(addDelta(qkv, layer, Module.C_ATTN, h));
            NDList parts = tmp.add(qkv.split(new long[] {qDim, qDim + kvDim}, 2));
            NDArray q = tmp.add(addDelta(parts.get(0), layer, Module.Q_PROJ, h));
            NDArray k = tmp.add(addDelta(parts.get(1), layer, Module.K_PROJ, h));
            NDArray v = tmp.add(addDelta(parts.get(2), layer, Module.V_PROJ, h));
            NDArray out = tmp.add(attend(layer, q, k, v, cos, sin, mask, cache)); // [B,T,N*D]
            NDArray o = linear(out, l.oW(), l.oB());
            NDArray withDelta = addDelta(o, layer, config.family() == Family.GPT2 ? Module.ATTN_C_PROJ : Module.O_PROJ, out);
            if (withDelta != o) {
                o.close();
            }
            return withDelta;
        }
    }

    /**
     * Attention after the projections: rotary positions, the cache, softmax(q·kᵀ·scale + mask)·v.
     *
     * @param q [B, T, N·D]
     * @param k [B, T, K·D]
     * @param v [B, T, K·D]
     * @return [B, T, N·D]
     */
    private NDArray attend(int layer, NDArray q, NDArray k, NDArray v, NDArray cos, NDArray sin, NDArray mask,
            KvCache cache) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        int nh = config.heads();
        int kv = config.kvHeads();
        int d = config.headDim();
        try (Temps tmp = new Temps()) {
            q = tmp.add(tmp.add(q.reshape(b, t, nh, d)).transpose(0, 2, 1, 3)); // [B,N,T,D]
            k = tmp.add(tmp.add(k.reshape(b, t, kv, d)).transpose(0, 2, 1, 3)); // [B,K,T,D]
            v = tmp.add(tmp.add(v.reshape(b, t, kv, d)).transpose(0, 2, 1, 3)); // [B,K,T,D]
            if (cos != null) {
                q = tmp.add(rope(q, cos, sin));
                k = tmp.add(rope(k, cos, sin));
            }
            if (cache != null) { // write slots [len, len+T) in place, attend over [0, len+T)
                k = tmp.add(cache.write(cache.keys[layer], k)); // [B,K,S,D]
                v = tmp.add(cache.write(cache.values[layer], v));
            }
            NDArray out; // softmax(q·kᵀ·scale + mask)·v: [B,N,T,D]
            if (attention == AttentionImpl.SDPA) { // fused (flash attention on CPU), grouped-query aware
                out = mask == null ? Kernels.attentionCausal(q, k, v, attnScale[layer])
                        : Kernels.attention(q, k, v, mask, attnScale[layer]);
            } else { // eager: the queries of one KV group side by side, [B,K,rep*T,D]
                long s = k.getShape().get(2);
                int rep = nh / kv;
                NDArray groupMask = rep == 1 ? mask : tmp.add(mask.broadcast(b, 1, t, s).reshape(b, 1, 1, t, s)
                        .broadcast(b, 1, rep, t, s).reshape(b, 1, rep * t, s));
                NDArray qg = tmp.add(tmp.add(q.mul(attnScale[layer])).reshape(b, kv, rep * t, d));
                NDArray scores = tmp.add(tmp.add(qg.matMul(tmp.add(k.transpose(0, 1, 3, 2)))).add(groupMask)); // [B,K,rep*T,S]
                out = tmp.add(tmp.add(scores.softmax(-1)).matMul(v)).reshape(b, nh, t, d);
            }
            tmp.add(out);
            return tmp.add(out.transpose(0, 2, 1, 3)).reshape(b, t, (long) nh * d); // [B,T,N*D]
        }
    }

    private NDArray mlp(int layer, Layer l, NDArray h) {
        try (Temps tmp = new Temps()) {
            NDArray up = tmp.add(linear(h, l.upW(), l.upB()));
            NDArray act;
            if (config.family() == Family.LLAMA) {
                NDList gu = tmp.add(up.split(2, 2)); // [B,T,I] each
                NDArray gate = tmp.add(addDelta(gu.get(0), layer, Module.GATE_PROJ, h));
                NDArray u = tmp.add(addDelta(gu.get(1), layer, Module.UP_PROJ, h));
                act = gated(gate, u);
            } else {
                act = activate(tmp.add(addDelta(up, layer, Module.C_FC, h)));
            }
            tmp.add(act);
            NDArray down = linear(act, l.downW(), l.downB());
            NDArray withDelta = addDelta(down, layer,
                    config.family() == Family.GPT2 ? Module.MLP_C_PROJ : Module.DOWN_PROJ, act);
            if (withDelta != down) {
                down.close();
            }
            return withDelta;
        }
    }

    /** The gated MLP's activation: act(gate) · up. */
    private NDArray gated(NDArray gate, NDArray u) {
        if (config.activation() == Activation.SILU) {
            return Kernels.siluMul(gate, u); // fused forward and backward
        }
        try (NDArray a = activate(gate)) {
            return a.mul(u);
        }
    }

    private NDArray addDelta(NDArray y, int layer, Module module, NDArray x) {
        if (adapters == null) {
            return y;
        }
        NDArray d = adapters.delta(layer, module, x);
        return d == null ? y : y.add(d);
    }

    private NDArray activate(NDArray x) {
        Activation a = config.activation();
        switch (a) {
            case SILU:
                return Kernels.silu(x);
            case GELU_TANH: // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
                return Kernels.geluTanh(x);
            case GELU:
                return x.getNDArrayInternal().gelu();
            case RELU:
            default:
                return x.getNDArrayInternal().relu();
        }
    }

    private NDArray norm(NDArray x, NDArray w, NDArray b) {
        if (config.family() == Family.GPT2) {
            return JniUtils.layerNorm((PtNDArray) x, new Shape(config.hidden()), (PtNDArray) w, (PtNDArray) b,
                    config.normEps());
        }
        try (NDArray view = w.reshape(w.getShape())) { // x·rsqrt(mean(x²) + ε)·w; the view carries no name
            return Kernels.rmsNorm(x, view, normEps);
        }
    }

    /**
     * Rotates pairs (x[i], x[i + D/2]) by the position's angles: x·cos + rotate_half(x)·sin, with
     * rotate_half(x) = [−x₂, x₁]; the sign lives in {@code signedSin} = [−sin, sin], so this is
     * x·cos + [x₂, x₁]·signedSin.
     */
    private static NDArray rope(NDArray x, NDArray cos, NDArray signedSin) {
        try (Temps tmp = new Temps()) {
            NDList halves = tmp.add(x.split(2, 3)); // x: [B,*,T,D]
            NDArray swapped = tmp.add(halves.get(1).concat(halves.get(0), 3));
            return tmp.add(x.mul(cos)).add(tmp.add(swapped.mul(signedSin)));
        }
    }

    private NDArray linear(NDArray x, NDArray w, NDArray b) {
        NDArray p = packed.isEmpty() ? null : packed.get(w);
        if (p != null && !JniUtils.isGradMode()) { // packed products have no backward
            return Kernels.packedLinear(x, p, b);
        }
        if (config.family() == Family.LLAMA && !JniUtils.isGradMode()) {
            // oneDNN, as a segmented training forward computes it: a reference model or an evaluation
            // agrees to the bit with the policy's recorded forward (and oneDNN is the faster here)
            return Kernels.linearNoGrad(x, w, b);
        }
        return JniUtils.linear((PtNDArray) x, (PtNDArray) w, (PtNDArray) b);
    }

    private static NDArray embedding(NDArray ids, NDArray w) {
        return JniUtils.embedding((PtNDArray) ids, (PtNDArray) w, false);
    }

    // ---------------------------------------------------------------- accessors

    public ModelConfig config() {
        return config;
    }

    /** The manager that owns the parameters. */
    public NDManager manager() {
        return manager;
    }

    /** Parameters in Hugging Face order, each once (a tied head is the embedding). */
    public List<Param> parameters() {
        return List.copyOf(params.values());
    }

    /** One parameter by internal name, e.g. {@code layers.0.qkv.weight}. */
    public Param parameter(String name) {
        Param p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return p;
    }

    /** Turns gradient tracking on or off for every base parameter. */
    public void setTrainable(boolean trainable) {
        for (Param p : params.values()) {
            p.value().setRequiresGradient(trainable);
        }
    }

    /**
     * Packs the weights of every linear layer (and of the language-model head) for inference on inputs
     * of about {@code rows} rows, until the returned handle is closed, into oneDNN's blocked layout: at
     * 2–32 rows the packed products run 1.5–2.5× faster than MKL's small-M sgemm, and at one row they
     * stream the weight on both cores where MKL's sgemv uses one (docs/performance.md, "Generation"). The
     * copies double the memory of those weights while they live and are stale once the weights change,
     * so: inference only (inside a {@code GradientCollector} the plain weights are used), and no
     * optimizer step while the handle is open — {@link dev.align.core.generate.Generator}
     * packs per {@code generate} call. Adapters (LoRA) still apply on top of the packed base product.
     *
     * @param rows the expected rows per product (the decoding batch)
     * @return closing it drops the packed copies; a no-op handle when weights are already packed
     */
    public PackedWeights packWeights(int rows) {
        if (!packed.isEmpty()) {
            return () -> {};
        }
        List<NDArray> weights = new ArrayList<>();
        for (Layer l : layers) {
            weights.addAll(List.of(l.qkvW(), l.oW(), l.upW(), l.downW()));
        }
        if (lmHead != null) {
            weights.add(lmHead);
        }
        for (NDArray w : weights) {
            if (!packed.containsKey(w)) {
                packed.put(w, Kernels.packLinear(w, rows));
            }
        }
        NDArray none = compiledDecoding() ? manager.create(new Shape(0)) : null; // "no bias"
        if (none != null) {
            List<NDArray> args = new ArrayList<>(List.of(embed, invFreq, normW, packed.get(lmHead), none));
            for (Layer l : layers) {
                args.addAll(Arrays.asList(l.norm1W(), packed.get(l.qkvW()), orNone(l.qkvB(), none),
                        packed.get(l.oW()), orNone(l.oB(), none), l.norm2W(), packed.get(l.upW()),
                        orNone(l.upB(), none), packed.get(l.downW()), orNone(l.downB(), none)));
            }
            decodeWeights = IValue.listFrom(args.stream().map(a -> (PtNDArray) a).toArray(PtNDArray[]::new));
            decodeDims = IValue.listFrom(config.layers(), config.heads(), config.kvHeads(), config.headDim(),
                    config.intermediate());
            decodeFloats = IValue.listFrom(config.normEps(), attnScale[0].getFloat());
        }
        return () -> {
            if (decodeWeights != null) {
                decodeWeights.close();
                decodeDims.close();
                decodeFloats.close();
                decodeWeights = null;
                decodeDims = null;
                decodeFloats = null;
            }
            if (none != null) {
                none.close();
            }
            for (NDArray p : packed.values()) {
                p.close();
            }
            packed.clear();
        };
    }

    /** Whether this model's cached decoding step can run as one {@link Kernels#decodeLlama} call. */
    private boolean compiledDecoding() {
        return config.family() == Family.LLAMA && config.activation() == Activation.SILU && lmHead != null
                && !config.scaleAttnByInverseLayerIdx();
    }

    /** Whether {@link #decodeStep} runs now (rather than returning null). */
    public boolean decodesCompiled() {
        return decodeWeights != null && adapters == null && attention == AttentionImpl.SDPA;
    }

    private static NDArray orNone(NDArray bias, NDArray none) {
        return bias != null ? bias : none;
    }

    /**
     * The logits [B, V] of one cached decoding step (T = 1; extends {@code cache}), computed by a single
     * TorchScript call ({@link Kernels#decodeLlama}) — or null when that path does not apply: only while
     * {@link #packWeights} is held on a llama-family model (llama, mistral, qwen2) with SiLU, without
     * adapters, with SDPA attention and outside gradient recording. Callers fall back to
     * {@link #hidden} and {@link #logits}, which give the same numbers up to float rounding.
     *
     * @param ids [B, 1] INT64
     * @param positions [B, 1] INT64
     * @param mask [B, 1, 1, S] from {@link KvCache#mask}, S = cache length + 1
     */
    public NDArray decodeStep(NDArray ids, NDArray positions, NDArray mask, KvCache cache) {
        if (!decodesCompiled() || ids.getShape().get(1) != 1 || JniUtils.isGradMode()) {
            return null;
        }
        NDArray out = Kernels.decodeLlama(ids, positions, mask, cache.length(), decodeWeights, cache.keyList(),
                cache.valueList(), decodeDims, decodeFloats);
        cache.advance(1);
        return out;
    }

    /** How many weights have a packed copy now (0 outside {@link #packWeights}). */
    int packedWeightCount() {
        return packed.size();
    }

    /** The handle of {@link #packWeights}. */
    public interface PackedWeights extends AutoCloseable {
        @Override
        void close();
    }

    /** Attaches adapters (LoRA) to the linear layers, or detaches them with null. */
    public void setAdapters(Adapters adapters) {
        this.adapters = adapters;
    }

    /** Chooses the attention implementation (default {@link AttentionImpl#SDPA}). */
    public void setAttention(AttentionImpl impl) {
        this.attention = impl;
    }

    /** The attached adapters, or null. */
    public Adapters adapters() {
        return adapters;
    }

    /** The linear layers adapters can attach to in this model's family. */
    public List<Module> adaptableModules() {
        return config.family() == Family.LLAMA
                ? List.of(Module.Q_PROJ, Module.K_PROJ, Module.V_PROJ, Module.O_PROJ, Module.GATE_PROJ,
                        Module.UP_PROJ, Module.DOWN_PROJ)
                : List.of(Module.C_ATTN, Module.ATTN_C_PROJ, Module.C_FC, Module.MLP_C_PROJ);
    }

    /** {out, in} of a module's weight as Hugging Face's {@code nn.Linear} sees it. */
    public long[] moduleShape(Module module) {
        long h = config.hidden();
        long in = config.intermediate();
        return switch (module) {
            case Q_PROJ -> new long[] {qDim, h};
            case K_PROJ, V_PROJ -> new long[] {kvDim, h};
            case O_PROJ -> new long[] {h, qDim};
            case GATE_PROJ, UP_PROJ -> new long[] {in, h};
            case DOWN_PROJ -> new long[] {h, in};
            case C_ATTN -> new long[] {3 * h, h};
            case ATTN_C_PROJ -> new long[] {h, h};
            case C_FC -> new long[] {in, h};
            case MLP_C_PROJ -> new long[] {h, in};
        };
    }

    /**
     * Adds {@code delta} [out, in] to a module's weight in place (merging an adapter). Runs off the
     * autograd tape.
     */
    public void addToWeight(int layer, Module module, NDArray delta) {
        String l = "layers." + layer + ".";
        long h = config.hidden();
        long in = config.intermediate();
        String name;
        long start;
        switch (module) {
            case Q_PROJ -> { name = l + "qkv.weight"; start = 0; }
            case K_PROJ -> { name = l + "qkv.weight"; start = qDim; }
            case V_PROJ -> { name = l + "qkv.weight"; start = qDim + kvDim; }
            case O_PROJ, ATTN_C_PROJ -> { name = l + "o.weight"; start = 0; }
            case GATE_PROJ -> { name = l + "up.weight"; start = 0; }
            case UP_PROJ -> { name = l + "up.weight"; start = in; }
            case DOWN_PROJ, MLP_C_PROJ -> { name = l + "down.weight"; start = 0; }
            case C_ATTN -> { name = l + "qkv.weight"; start = 0; }
            default -> { name = l + "up.weight"; start = 0; } // C_FC
        }
        long rows = moduleShape(module)[0];
        NDArray w = params.get(name).value();
        try (NDArray slice = w.get(new NDIndex().addSliceDim(start, start + rows))) {
            slice.addi(delta);
        }
    }

    /** Total number of parameter elements. */
    public long parameterCount() {
        long n = 0;
        for (Param p : params.values()) {
            n += p.value().size();
        }
        return n;
    }

    @Override
    public void close() {
        manager.close();
    }
}
