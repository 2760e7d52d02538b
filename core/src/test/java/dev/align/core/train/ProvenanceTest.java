package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.Engines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** provenance.json: versions, config and data-file hashes (SHA-256 test vectors from FIPS 180-2). */
class ProvenanceTest {

    @Test
    void recordsVersionsConfigAndHashes(@TempDir Path dir) throws IOException {
        Path abc = dir.resolve("abc.txt");
        Files.writeString(abc, "abc");
        Path empty = dir.resolve("empty.jsonl");
        Files.writeString(empty, "");
        JsonNode config = new ObjectMapper().readTree("{\"learning_rate\": 2e-5, \"model\": \"m\"}");
        Provenance.write(dir, "sft", config, List.of(abc, empty));
        JsonNode p = new ObjectMapper().readTree(dir.resolve(Provenance.FILE).toFile());
        assertEquals("sft", p.get("recipe").asText());
        assertEquals(Engines.djlVersion(), p.get("djl_version").asText());
        assertEquals(Engines.torchVersion(), p.get("torch_version").asText());
        assertTrue(p.get("torch_version").asText().startsWith("2."), p.toString());
        assertEquals(System.getProperty("java.version"), p.get("java").get("version").asText());
        assertFalse(p.get("align_version").asText().isEmpty());
        assertEquals(config, p.get("config"));
        JsonNode f0 = p.get("data_files").get(0);
        assertEquals(abc.toAbsolutePath().toString(), f0.get("path").asText());
        assertEquals(3, f0.get("bytes").asLong());
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", f0.get("sha256").asText());
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                p.get("data_files").get(1).get("sha256").asText());
    }
}
