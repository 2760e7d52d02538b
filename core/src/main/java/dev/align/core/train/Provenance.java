package dev.align.core.train;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.config.Configs;
import dev.align.core.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * {@value #FILE}: what produced a model. Written into the output directory at the start of a run (and
 * copied into every checkpoint): the resolved config, the versions of Align, DJL, PyTorch and Java, the
 * machine, and the size and SHA-256 of every data file the run read.
 */
public final class Provenance {
    /** The file name. */
    public static final String FILE = "provenance.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Provenance() {}

    /**
     * The provenance record.
     *
     * @param recipe the recipe's name (e.g. {@code sft})
     * @param config the resolved config, as the run uses it
     * @param dataFiles every data file the run reads
     */
    public static ObjectNode build(String recipe, JsonNode config, List<Path> dataFiles) {
        ObjectNode n = JSON.createObjectNode();
        n.put("recipe", recipe);
        n.put("created", Instant.now().toString());
        String align = Provenance.class.getPackage().getImplementationVersion();
        n.put("align_version", align == null ? "dev" : align);
        n.put("djl_version", Engines.djlVersion());
        n.put("torch_version", Engines.torchVersion());
        ObjectNode java = n.putObject("java");
        java.put("version", System.getProperty("java.version"));
        java.put("vendor", System.getProperty("java.vendor"));
        java.put("vm", System.getProperty("java.vm.name"));
        ObjectNode machine = n.putObject("machine");
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        machine.put("arch", System.getProperty("os.arch"));
        machine.put("cpus", Runtime.getRuntime().availableProcessors());
        machine.put("torch_threads", JniUtils.getNumThreads());
        n.set("config", config == null ? NullNode.getInstance() : config);
        ArrayNode files = n.putArray("data_files");
        for (Path f : dataFiles) {
            ObjectNode e = files.addObject();
            e.put("path", f.toAbsolutePath().normalize().toString());
            try {
                e.put("bytes", Files.size(f));
            } catch (IOException ex) {
                throw new AlignException(f + ": cannot read: " + ex.getMessage(), ex);
            }
            e.put("sha256", sha256(f));
        }
        return n;
    }

    /** Builds the record and writes {@code dir/provenance.json} atomically; returns the record. */
    public static ObjectNode write(Path dir, String recipe, JsonNode config, List<Path> dataFiles) {
        ObjectNode n = build(recipe, config, dataFiles);
        try {
            AtomicFiles.writeString(dir.resolve(FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
        } catch (IOException e) {
            throw new AlignException(dir.resolve(FILE) + ": cannot write: " + e.getMessage(), e);
        }
        return n;
    }

    /**
     * Starts (or continues) a run's output directory: creates it, writes the resolved {@code config.yaml},
     * and on a fresh start (not a resume) the provenance.
     */
    public static void startRun(Path out, Configs.Resolved config, String recipe, boolean fresh,
            List<Path> dataFiles) {
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new AlignException(out + ": cannot create the output directory: " + e.getMessage(), e);
        }
        AtomicFiles.writeString(out.resolve("config.yaml"), config.yaml());
        if (fresh) {
            write(out, recipe, config.tree(), dataFiles);
        }
    }

    /** The SHA-256 of a file's bytes, lower-case hex. */
    public static String sha256(Path file) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
        } catch (IOException e) {
            throw new AlignException(file + ": cannot read: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
