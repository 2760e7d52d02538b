package dev.align.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.BadInputException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Schedules against transformers' get_scheduler (goldens from make_goldens.py) and by hand. */
class LrScheduleTest {

    @Test
    void matchesTransformers() {
        JsonNode all = TrainTesting.golden("schedules.json").get("schedules");
        assertEquals(9, all.size());
        for (JsonNode c : all) {
            Map<String, Double> kw = new HashMap<>();
            c.get("kwargs").properties().forEach(e -> kw.put(e.getKey(), e.getValue().asDouble()));
            LrSchedule s = LrSchedule.of(c.get("name").asText(), c.get("lr").asDouble(), c.get("warmup").asLong(),
                    c.get("total").asLong(), kw);
            JsonNode lrs = c.get("lrs");
            for (int step = 0; step < lrs.size(); step++) {
                double expected = lrs.get(step).asDouble();
                assertEquals(expected, s.lr(step), 1e-12 * c.get("lr").asDouble(),
                        c.get("name").asText() + " warmup " + c.get("warmup") + " total " + c.get("total") + " step " + step);
            }
        }
    }

    @Test
    void warmupResolutionMatchesTransformers() {
        for (JsonNode c : TrainTesting.golden("schedules.json").get("warmup")) {
            assertEquals(c.get("resolved").asLong(),
                    LrSchedule.warmupSteps(c.get("warmup_steps").asDouble(), c.get("total").asLong()), c.toString());
        }
    }

    @Test
    void byHand() {
        LrSchedule lin = LrSchedule.of("linear", 1.0, 2, 6);
        assertEquals(0.0, lin.lr(0));
        assertEquals(0.5, lin.lr(1));
        assertEquals(1.0, lin.lr(2));
        assertEquals(0.75, lin.lr(3));
        assertEquals(0.0, lin.lr(6));
        assertEquals(0.0, lin.lr(9));
        LrSchedule cos = LrSchedule.of("cosine", 2.0, 0, 4);
        assertEquals(2.0, cos.lr(0), 1e-15);
        assertEquals(1.0, cos.lr(2), 1e-15); // half way: cos(π/2) = 0 → factor ½
        assertEquals(0.0, cos.lr(4), 1e-15);
        LrSchedule min = LrSchedule.of("cosine_with_min_lr", 2.0, 0, 4, Map.of("min_lr", 0.5));
        assertEquals(0.5, min.lr(4), 1e-15);
        assertEquals(1.25, min.lr(2), 1e-15);
    }

    @Test
    void badNamesAndKwargsAreConfigErrors() {
        BadInputException e = assertThrows(BadInputException.class, () -> LrSchedule.of("cosine_restarts", 1e-3, 0, 10));
        assertTrue(e.getMessage().startsWith("lr_scheduler_type:"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> LrSchedule.of("linear", 1e-3, 0, 10, Map.of("num_cycles", 1.0)));
        assertTrue(e.getMessage().startsWith("lr_scheduler_kwargs:"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> LrSchedule.of("cosine_with_min_lr", 1e-3, 0, 10));
        assertTrue(e.getMessage().contains("min_lr"), e.getMessage());
        assertThrows(BadInputException.class, () -> LrSchedule.warmupSteps(-0.1, 10));
    }
}
