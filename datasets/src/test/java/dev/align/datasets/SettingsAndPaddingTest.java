package dev.align.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.BadInputException;
import dev.align.core.config.Configs;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings bind from YAML like every run config; padding falls back to eos and says so once. */
class SettingsAndPaddingTest {
    @TempDir
    Path dir;

    @Test
    void settingsBindFromYamlAndOverrides() throws IOException {
        Path yaml = dir.resolve("data.yaml");
        Files.writeString(yaml, "dataset_format: prompt_completion\ndataset_fields:\n  prompt: question\n  completion: answer\n"
                + "max_length: 512\ntruncation_mode: keep_end\n");
        DataSettings s = Configs.load(DataSettings.class, DataSettings.defaults(), yaml, List.of("skip_bad_records=true"));
        assertEquals("prompt_completion", s.forcedFormat().id());
        assertEquals(Map.of("prompt", "question", "completion", "answer"), s.datasetFields().asMap());
        BadInputException typo = assertThrows(BadInputException.class, () -> Configs.load(DataSettings.class,
                DataSettings.defaults(), null, List.of("dataset_fields.promt=question")));
        assertTrue(typo.getMessage().startsWith("command line: unknown key 'dataset_fields.promt' (did you mean 'prompt'?); known keys: text, messages, prompt,"),
                typo.getMessage());
        assertEquals(512, s.maxLength());
        assertEquals(TruncationMode.KEEP_END, s.mode());
        assertTrue(s.skipBadRecords());
        assertTrue(s.completionOnlyLoss());
        BadInputException e = assertThrows(BadInputException.class,
                () -> DataSettings.defaults().withTruncationMode("middle").validate());
        assertEquals("truncation_mode: expected keep_start or keep_end, got 'middle'", e.getMessage());
        assertThrows(BadInputException.class, () -> DataSettings.defaults().withFormat("parquet").validate());
        assertThrows(BadInputException.class, () -> DataSettings.defaults().withMaxLength(1).validate());
    }

    @Test
    void padFallsBackToEosAndSaysSoOnce() throws IOException {
        Path tokDir = dir.resolve("nopad");
        Files.createDirectories(tokDir);
        Path src = Fixtures.reference("llama_gqa");
        Files.copy(src.resolve("tokenizer.json"), tokDir.resolve("tokenizer.json"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree(src.resolve("tokenizer_config.json").toFile());
        cfg.remove("pad_token");
        json.writeValue(tokDir.resolve("tokenizer_config.json").toFile(), cfg);
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (Tokenizer tok = Tokenizer.load(tokDir)) {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(3, Datasets.padId(tok));
            assertEquals(3, Datasets.padId(tok));
        } finally {
            System.setErr(old);
        }
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, log.split("no pad_token; padding with the eos token </s> \\(id 3\\)", -1).length - 1, log);
        try (Tokenizer tok = Tokenizer.load(src)) {
            assertEquals(1, Datasets.padId(tok));
        }
    }
}
