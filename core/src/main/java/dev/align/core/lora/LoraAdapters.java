package dev.align.core.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.Engines;
import dev.align.core.io.AtomicFiles;
import dev.align.core.io.SafeTensors;
import dev.align.core.model.Adapters;
import dev.align.core.model.Adapters.Module;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.nd.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA adapters (Hu et al. 2021): for each targeted linear layer W [out, in] a pair A [r, in], B [out, r]
 * adds (α/r)·B·A·dropout(x) to the layer's output; W stays frozen. A starts Kaiming-uniform (bound
 * 1/sqrt(in), PEFT's default), B at zero, so training starts from the base model exactly.
 *
 * <p>Saved in PEFT's format ({@code adapter_model.safetensors} with keys
 * {@code base_model.model.<hf module path>.lora_A.weight}, plus {@code adapter_config.json}), so
 * {@code PeftModel.from_pretrained} loads it; {@link #mergeInto} folds the deltas into the base weights
 * for a plain Hugging Face checkpoint.
 *
 * <p>Modules trained in full beside the adapters (PEFT's {@code modules_to_save}; for a reward model the
 * freshly initialised {@code score} head, which PEFT's {@code SEQ_CLS} task always saves) are written
 * into the same file as {@code base_model.model.<module>.weight} and listed in {@code modules_to_save},
 * as PEFT writes them; {@link #load} copies such a {@code score} head back into the model.
 */
public final class LoraAdapters implements Adapters, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** The reward head's module (and internal parameter) name. */
    private static final String SCORE = "score";

    private final LoraConfig config;
    private final ModelConfig modelConfig;
    private final NDManager manager;
    private final List<Map<Module, NDArray[]>> layers; // per layer: module -> {A, B}
    private final NDArray scale;
    private boolean training;

    private LoraAdapters(LoraConfig config, ModelConfig modelConfig, NDManager manager,
            List<Map<Module, NDArray[]>> layers) {
        this.config = config;
        this.modelConfig = modelConfig;
        this.manager = manager;
        this.layers = layers;
        this.scale = Tensors.scalar(manager, (float) config.scaling());
    }

    /** New adapters on {@code model}'s targeted modules, initialised from {@code seed}; attached to it. */
    public static LoraAdapters create(DecoderLM model, LoraConfig config, long seed) {
        List<Module> targets = resolveTargets(model, config.targetModules());
        NDManager m = model.manager().newSubManager();
        Engines.seed(seed);
        List<Map<Module, NDArray[]>> layers = new ArrayList<>();
        for (int l = 0; l < model.config().layers(); l++) {
            Map<Module, NDArray[]> mods = new EnumMap<>(Module.class);
            for (Module mod : targets) {
                long[] s = model.moduleShape(mod);
                float bound = (float) (1 / Math.sqrt(s[1]));
                NDArray a = m.randomUniform(-bound, bound, new Shape(config.r(), s[1]), DataType.FLOAT32);
                NDArray b = m.zeros(new Shape(s[0], config.r()), DataType.FLOAT32);
                mods.put(mod, new NDArray[] {a, b});
            }
            layers.add(mods);
        }
        LoraAdapters ad = new LoraAdapters(config, model.config(), m, layers);
        ad.setTrainable(true);
        model.setAdapters(ad);
        return ad;
    }

    /** Loads PEFT adapters from {@code dir} and attaches them to {@code model}. */
    public static LoraAdapters load(Path dir, DecoderLM model) {
        Path cfgFile = dir.resolve("adapter_config.json");
        JsonNode cfg;
        try {
            cfg = JSON.readTree(cfgFile.toFile());
        } catch (IOException e) {
            throw new AlignException(cfgFile + ": cannot read: " + e.getMessage(), e);
        }
        if (!"LORA".equals(cfg.path("peft_type").asText())) {
            throw new AlignException(cfgFile + ": peft_type must be LORA");
        }
        List<String> targets = new ArrayList<>();
        JsonNode tm = cfg.get("target_modules");
        if (tm != null && tm.isArray()) {
            tm.forEach(t -> targets.add(t.asText()));
        } else if (tm != null && tm.isTextual()) {
            targets.add(tm.asText());
        }
        LoraConfig lc = new LoraConfig(cfg.path("r").asInt(8), cfg.path("lora_alpha").asDouble(8),
                cfg.path("lora_dropout").asDouble(0), targets);
        List<Module> mods = resolveTargets(model, targets);
        NDManager m = model.manager().newSubManager();
        try (SafeTensors.Reader r = SafeTensors.open(dir.resolve("adapter_model.safetensors"))) {
            List<Map<Module, NDArray[]>> layers = new ArrayList<>();
            for (int l = 0; l < model.config().layers(); l++) {
                Map<Module, NDArray[]> map = new EnumMap<>(Module.class);
                for (Module mod : mods) {
                    String k = key(model.config(), l, mod);
                    map.put(mod, new NDArray[] {r.read(k + ".lora_A.weight", m), r.read(k + ".lora_B.weight", m)});
                }
                layers.add(map);
            }
            restoreModulesToSave(cfg, r, model, dir);
            LoraAdapters ad = new LoraAdapters(lc, model.config(), m, layers);
            model.setAdapters(ad);
            return ad;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Copies the modules saved in full ({@code modules_to_save}) into the model. Only the reward head
     * ({@code score}) is supported; PEFT's default list also names {@code classifier}, which a file without
     * such a tensor simply does not hold.
     */
    private static void restoreModulesToSave(JsonNode cfg, SafeTensors.Reader r, DecoderLM model, Path dir) {
        JsonNode mts = cfg.get("modules_to_save");
        if (mts == null || !mts.isArray()) {
            return;
        }
        for (JsonNode n : mts) {
            String key = "base_model.model." + n.asText() + ".weight";
            if (!r.entries().containsKey(key)) {
                continue;
            }
            if (!n.asText().equals(SCORE) || model.config().head() != ModelConfig.Head.SEQUENCE_CLASSIFICATION) {
                throw new AlignException(dir + ": modules_to_save '" + n.asText() + "' cannot be restored into this "
                        + model.config().head() + " model (only a sequence-classification model's score head can)");
            }
            NDArray head = model.parameter(SCORE).value();
            SafeTensors.Entry e = r.entry(key);
            if (!Arrays.equals(e.shape(), head.getShape().getShape())) {
                throw new AlignException(dir + ": " + key + " is " + Arrays.toString(e.shape())
                        + ", the model's score head is " + head.getShape());
            }
            try (NDArray v = r.read(key, model.manager())) {
                head.set(new NDIndex(":"), v); // in place: the model keeps its array
            }
        }
    }

    private static List<Module> resolveTargets(DecoderLM model, List<String> names) {
        List<Module> available = model.adaptableModules();
        List<Module> out = new ArrayList<>();
        for (String n : names) {
            boolean found = false;
            for (Module m : available) {
                if (n.equals("all-linear") || m.hfName().equals(n) || m.hfName().endsWith("." + n)) {
                    if (!out.contains(m)) {
                        out.add(m);
                    }
                    found = true;
                }
            }
            if (!found) {
                List<String> ok = new ArrayList<>();
                available.forEach(m -> ok.add(m.hfName()));
                throw new BadInputException("lora_target_modules: '" + n + "' is not a linear layer of this "
                        + model.config().modelType() + " model (one of " + String.join(", ", ok) + ", all-linear)");
            }
        }
        if (out.isEmpty()) {
            throw new BadInputException("lora_target_modules: no modules given");
        }
        return out;
    }

    /** PEFT's key prefix of a module, e.g. base_model.model.model.layers.0.self_attn.q_proj. */
    static String key(ModelConfig c, int layer, Module m) {
        if (c.family() == ModelConfig.Family.LLAMA) {
            String sub = switch (m) {
                case Q_PROJ, K_PROJ, V_PROJ, O_PROJ -> "self_attn.";
                default -> "mlp.";
            };
            return "base_model.model.model.layers." + layer + "." + sub + m.hfName();
        }
        String path = switch (m) {
            case C_ATTN -> "attn.c_attn";
            case ATTN_C_PROJ -> "attn.c_proj";
            case C_FC -> "mlp.c_fc";
            default -> "mlp.c_proj";
        };
        return "base_model.model.transformer.h." + layer + "." + path;
    }

    @Override
    public NDArray delta(int layer, Module module, NDArray x) {
        NDArray[] ab = layers.get(layer).get(module);
        if (ab == null) {
            return null;
        }
        NDArray in = training && config.dropout() > 0
                ? JniUtils.dropout((PtNDArray) x, config.dropout(), true)
                : x;
        NDArray down = JniUtils.linear((PtNDArray) in, (PtNDArray) ab[0], null); // [B,T,r]
        return JniUtils.linear((PtNDArray) down, (PtNDArray) ab[1], null).mul(scale); // [B,T,out]
    }

    /** Dropout on (training) or off (evaluation). */
    public void setTraining(boolean training) {
        this.training = training;
    }

    /** Turns gradient tracking of the adapter weights on or off. */
    public void setTrainable(boolean trainable) {
        for (Map<Module, NDArray[]> l : layers) {
            for (NDArray[] ab : l.values()) {
                ab[0].setRequiresGradient(trainable);
                ab[1].setRequiresGradient(trainable);
            }
        }
    }

    /** The trainable adapter weights (no weight decay by default: PEFT's Trainer decays them; TRL too). */
    public List<DecoderLM.Param> parameters() {
        List<DecoderLM.Param> ps = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            for (Map.Entry<Module, NDArray[]> e : layers.get(l).entrySet()) {
                String k = key(modelConfig, l, e.getKey());
                ps.add(new DecoderLM.Param(k + ".lora_A.weight", e.getValue()[0], true));
                ps.add(new DecoderLM.Param(k + ".lora_B.weight", e.getValue()[1], true));
            }
        }
        return ps;
    }

    public LoraConfig config() {
        return config;
    }

    /** Writes {@code adapter_model.safetensors} and {@code adapter_config.json} to {@code dir}. */
    public void save(Path dir, String baseModel) {
        save(dir, baseModel, Map.of());
    }

    /**
     * Writes the adapters and, in the same file, modules trained in full (PEFT's {@code modules_to_save}):
     * {@code modulesToSave} maps a module name (e.g. {@code score}) to its weight, stored as
     * {@code base_model.model.<name>.weight}.
     */
    public void save(Path dir, String baseModel, Map<String, NDArray> modulesToSave) {
        List<SafeTensors.Tensor> ts = new ArrayList<>();
        for (DecoderLM.Param p : parameters()) {
            ts.add(new SafeTensors.Tensor(p.name(), p.value(), SafeTensors.Dtype.F32));
        }
        for (Map.Entry<String, NDArray> e : modulesToSave.entrySet()) {
            ts.add(new SafeTensors.Tensor("base_model.model." + e.getKey() + ".weight", e.getValue(), SafeTensors.Dtype.F32));
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new AlignException(dir + ": cannot create: " + e.getMessage(), e);
        }
        SafeTensors.write(dir.resolve("adapter_model.safetensors"), ts, Map.of("format", "pt"));
        ObjectNode c = JSON.createObjectNode();
        c.put("peft_type", "LORA");
        c.put("task_type", modelConfig.head() == ModelConfig.Head.CAUSAL_LM ? "CAUSAL_LM" : "SEQ_CLS");
        c.put("base_model_name_or_path", baseModel);
        c.put("r", config.r());
        c.put("lora_alpha", config.alpha());
        c.put("lora_dropout", config.dropout());
        c.put("bias", "none");
        c.put("fan_in_fan_out", modelConfig.family() == ModelConfig.Family.GPT2);
        c.put("inference_mode", true);
        c.put("init_lora_weights", true);
        c.put("use_rslora", false);
        c.put("use_dora", false);
        if (!modulesToSave.isEmpty()) {
            var mts = c.putArray("modules_to_save");
            modulesToSave.keySet().forEach(mts::add);
        }
        var tm = c.putArray("target_modules");
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (Module m : layers.isEmpty() ? List.<Module>of() : layers.get(0).keySet()) {
            String n = m.hfName().contains(".") ? m.hfName().substring(m.hfName().indexOf('.') + 1) : m.hfName();
            if (seen.put(n, true) == null) {
                tm.add(n);
            }
        }
        try {
            AtomicFiles.writeString(dir.resolve("adapter_config.json"), JSON.writeValueAsString(c) + "\n");
        } catch (IOException e) {
            throw new AlignException(dir + ": cannot write adapter_config.json: " + e.getMessage(), e);
        }
    }

    /** Adds (α/r)·B·A into every targeted weight of {@code model} and detaches the adapters from it. */
    public void mergeInto(DecoderLM model) {
        for (int l = 0; l < layers.size(); l++) {
            for (Map.Entry<Module, NDArray[]> e : layers.get(l).entrySet()) {
                try (NDArray ba = e.getValue()[1].matMul(e.getValue()[0]); NDArray d = ba.mul(scale)) {
                    model.addToWeight(l, e.getKey(), d);
                }
            }
        }
        if (model.adapters() == this) {
            model.setAdapters(null);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
