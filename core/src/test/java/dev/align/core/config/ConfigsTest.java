package dev.align.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.align.core.BadInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigsTest {
    @TempDir
    Path tmp;

    record Common(String model, double learningRate, int batchSize, List<String> targets) {}

    record Method(double beta, String lossType) {}

    private static final Common COMMON = new Common(null, 1e-5, 8, List.of("q_proj"));
    private static final Method METHOD = new Method(0.1, "sigmoid");

    @Test
    void fileThenCommandLine() throws Exception {
        Path f = tmp.resolve("c.yaml");
        Files.writeString(f, "model: base\nlearning_rate: 1e-4\nbatch_size: 4\nbeta: 0.5\n");
        Configs.Resolved r = Configs.loadAll(f, List.of("batch_size=16", "targets=[q_proj, v_proj]", "loss_type=ipo"),
                COMMON, METHOD);
        Common c = r.get(Common.class);
        Method m = r.get(Method.class);
        assertEquals("base", c.model());
        assertEquals(1e-4, c.learningRate());
        assertEquals(16, c.batchSize());
        assertEquals(List.of("q_proj", "v_proj"), c.targets());
        assertEquals(0.5, m.beta());
        assertEquals("ipo", m.lossType());
        assertTrue(r.yaml().contains("loss_type: ipo"), r.yaml());
    }

    @Test
    void unknownAndBadKeys() throws Exception {
        BadInputException e = assertThrows(BadInputException.class,
                () -> Configs.loadAll(null, List.of("learning_rat=1"), COMMON, METHOD));
        assertTrue(e.getMessage().contains("unknown key 'learning_rat'") && e.getMessage().contains("did you mean 'learning_rate'"),
                e.getMessage());
        Path f = tmp.resolve("bad.yaml");
        Files.writeString(f, "batch_size: many\n");
        e = assertThrows(BadInputException.class, () -> Configs.loadAll(f, List.of(), COMMON, METHOD));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("batch_size"), e.getMessage());
        Path g = tmp.resolve("unknown.yaml");
        Files.writeString(g, "betta: 1\n");
        e = assertThrows(BadInputException.class, () -> Configs.loadAll(g, List.of(), COMMON, METHOD));
        assertTrue(e.getMessage().contains(g + ": unknown key 'betta'") && e.getMessage().contains("'beta'"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> Configs.loadAll(null, List.of("beta"), COMMON, METHOD));
        assertTrue(e.getMessage().contains("not key=value"), e.getMessage());
    }
}
