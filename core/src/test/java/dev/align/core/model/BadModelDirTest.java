package dev.align.core.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.io.SafeTensors;
import dev.align.core.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bad model directory is a clear error naming the problem, never a crash. */
class BadModelDirTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Path copyOf(String ckpt) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(ckpt + "-" + System.nanoTime()));
        try (var files = Files.list(Fixtures.reference(ckpt))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }

    private String loadError(Path dir) {
        try (NDManager root = Engines.newManager()) {
            return assertThrows(AlignException.class, () -> DecoderLM.load(dir, root).close()).getMessage();
        }
    }

    private void editConfig(Path dir, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        edit.accept(cfg);
        JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
    }

    @Test
    void missingFiles() throws IOException {
        Path d = copyOf("llama_gqa");
        Files.delete(d.resolve("model.safetensors"));
        assertTrue(loadError(d).contains("no model.safetensors"));
        Path e = copyOf("llama_gqa");
        Files.delete(e.resolve("config.json"));
        assertTrue(loadError(e).contains("no config.json"));
    }

    @Test
    void truncatedWeights() throws IOException {
        Path d = copyOf("llama_gqa");
        byte[] all = Files.readAllBytes(d.resolve("model.safetensors"));
        Files.write(d.resolve("model.safetensors"), java.util.Arrays.copyOf(all, all.length - 1000));
        String msg = loadError(d);
        assertTrue(msg.contains("model.safetensors") && msg.contains("truncated"), msg);
    }

    @Test
    void unknownOrUnsupportedConfig() throws IOException {
        Path d = copyOf("llama_gqa");
        editConfig(d, c -> c.put("model_type", "mamba"));
        assertTrue(loadError(d).contains("unsupported model_type 'mamba'"));
        Path e = copyOf("llama_gqa");
        editConfig(e, c -> c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0));
        String msg = loadError(e);
        assertTrue(msg.contains("config.json") && msg.contains("yarn"), msg);
        Path f = copyOf("llama_gqa");
        editConfig(f, c -> c.put("hidden_size", "big"));
        assertTrue(loadError(f).contains("'hidden_size' must be an integer"));
    }

    @Test
    void weightsThatDoNotMatchTheConfig() throws IOException {
        Path d = copyOf("llama_gqa");
        editConfig(d, c -> c.put("num_hidden_layers", 3));
        String msg = loadError(d);
        assertTrue(msg.contains("missing") && msg.contains("model.layers.2.self_attn.q_proj.weight"), msg);
        Path e = copyOf("llama_gqa");
        editConfig(e, c -> c.put("intermediate_size", 128));
        msg = loadError(e);
        assertTrue(msg.contains("wrong shape") && msg.contains("mlp.gate_proj.weight is [160, 64], expected [128, 64]"), msg);
        // an extra tensor
        Path f = copyOf("llama_gqa");
        try (NDManager m = Engines.newManager(); SafeTensors.Reader r = SafeTensors.open(f.resolve("model.safetensors"))) {
            List<SafeTensors.Tensor> ts = new ArrayList<>();
            for (String n : r.entries().keySet()) {
                ts.add(new SafeTensors.Tensor(n, r.read(n, m), SafeTensors.Dtype.F32));
            }
            ts.add(new SafeTensors.Tensor("model.layers.0.mlp.extra.weight", r.read("model.norm.weight", m), SafeTensors.Dtype.F32));
            Path out = tmp.resolve("extra.safetensors");
            SafeTensors.write(out, ts, Map.of());
            Files.move(out, f.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
        }
        msg = loadError(f);
        assertTrue(msg.contains("unexpected") && msg.contains("model.layers.0.mlp.extra.weight"), msg);
    }
}
