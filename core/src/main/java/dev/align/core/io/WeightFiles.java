package dev.align.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a Hugging Face model directory: {@code model.safetensors}, or the shards named by
 * {@code model.safetensors.index.json}. Every shard's header is validated when opened, and the index is
 * checked against the shards (a name mapped to a shard that lacks it is an error).
 */
public final class WeightFiles implements Closeable {
    /** transformers' default {@code max_shard_size} for {@code save_pretrained}. */
    public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;

    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, SafeTensors.Reader> byName = new LinkedHashMap<>();
    private final List<SafeTensors.Reader> readers = new ArrayList<>();

    private WeightFiles() {}

    /** Opens the weights of {@code dir}. */
    public static WeightFiles open(Path dir) {
        WeightFiles w = new WeightFiles();
        try {
            Path single = dir.resolve(SINGLE);
            Path index = dir.resolve(INDEX);
            if (Files.isRegularFile(single)) {
                SafeTensors.Reader r = SafeTensors.open(single);
                w.readers.add(r);
                r.entries().keySet().forEach(n -> w.byName.put(n, r));
            } else if (Files.isRegularFile(index)) {
                w.openIndex(dir, index);
            } else if (Files.exists(dir.resolve("pytorch_model.bin"))) {
                throw new AlignException(
                        dir
                                + ": only safetensors weights are supported, found pytorch_model.bin"
                                + " (convert with transformers: model.save_pretrained(dir, safe_serialization=True))");
            } else {
                throw new AlignException(dir + ": no " + SINGLE + " or " + INDEX);
            }
            return w;
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    private void openIndex(Path dir, Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new AlignException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new AlignException(index + ": missing 'weight_map'");
        }
        Map<String, SafeTensors.Reader> shards = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shard = e.getValue().asText();
            if (shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                throw new AlignException(index + ": weight_map entry '" + e.getKey() + "' names a bad file '" + shard + "'");
            }
            SafeTensors.Reader r = shards.get(shard);
            if (r == null) {
                Path p = dir.resolve(shard);
                if (!Files.isRegularFile(p)) {
                    throw new AlignException(index + ": shard '" + shard + "' (for '" + e.getKey() + "') is missing");
                }
                r = SafeTensors.open(p);
                shards.put(shard, r);
                readers.add(r);
            }
            if (!r.entries().containsKey(e.getKey())) {
                throw new AlignException(index + ": '" + e.getKey() + "' is mapped to " + shard + ", which has no such tensor");
            }
            byName.put(e.getKey(), r);
        }
    }

    /** Every tensor name. */
    public Set<String> names() {
        return byName.keySet();
    }

    /** The header entry of a tensor. */
    public SafeTensors.Entry entry(String name) {
        SafeTensors.Reader r = byName.get(name);
        if (r == null) {
            throw new AlignException("no tensor named '" + name + "'");
        }
        return r.entry(name);
    }

    /** The file a tensor lives in. */
    public Path fileOf(String name) {
        return byName.get(name).file();
    }

    /** Reads a tensor (floats as FLOAT32) into engine-owned memory. */
    public NDArray read(String name, NDManager manager) {
        SafeTensors.Reader r = byName.get(name);
        if (r == null) {
            throw new AlignException("no tensor named '" + name + "'");
        }
        return r.read(name, manager);
    }

    @Override
    public void close() {
        readers.forEach(SafeTensors.Reader::close);
    }

    /**
     * Writes tensors to {@code dir} as transformers does: one {@code model.safetensors} if the total fits
     * in {@code maxShardBytes}, else {@code model-0000i-of-0000n.safetensors} shards plus
     * {@code model.safetensors.index.json}. Stale weight files of the other layout are removed.
     */
    public static void write(Path dir, List<SafeTensors.Tensor> tensors, long maxShardBytes) {
        Map<String, String> meta = Map.of("format", "pt");
        long total = 0;
        for (SafeTensors.Tensor t : tensors) {
            total += t.array().size() * t.dtype().size();
        }
        try {
            Files.createDirectories(dir);
            if (total <= maxShardBytes) {
                SafeTensors.write(dir.resolve(SINGLE), tensors, meta);
                Files.deleteIfExists(dir.resolve(INDEX));
                return;
            }
            List<List<SafeTensors.Tensor>> shards = new ArrayList<>();
            List<SafeTensors.Tensor> cur = new ArrayList<>();
            long curBytes = 0;
            List<SafeTensors.Tensor> sorted = new ArrayList<>(tensors);
            sorted.sort((a, b) -> a.name().compareTo(b.name()));
            for (SafeTensors.Tensor t : sorted) {
                long b = t.array().size() * t.dtype().size();
                if (!cur.isEmpty() && curBytes + b > maxShardBytes) {
                    shards.add(cur);
                    cur = new ArrayList<>();
                    curBytes = 0;
                }
                cur.add(t);
                curBytes += b;
            }
            shards.add(cur);
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", total);
            ObjectNode wm = index.putObject("weight_map");
            int n = shards.size();
            for (int i = 0; i < n; i++) {
                String fname = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
                SafeTensors.write(dir.resolve(fname), shards.get(i), meta);
                for (SafeTensors.Tensor t : shards.get(i)) {
                    wm.put(t.name(), fname);
                }
            }
            AtomicFiles.writeString(dir.resolve(INDEX), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index));
            Files.deleteIfExists(dir.resolve(SINGLE));
        } catch (IOException e) {
            throw new AlignException(dir + ": cannot write weights: " + e.getMessage(), e);
        }
    }
}
