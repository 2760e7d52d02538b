package dev.align.po.dpo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Win-rate counting on hand-made completers and a judge (the reward of a completion is its length). */
class WinRateTest {
    @Test
    void countsWinsTiesAndLosses() {
        List<String> prompts = List.of("a", "b", "c", "d", "e");
        WinRate.Completer candidate = p -> switch (p) {
            case "a", "b", "c" -> "long answer";
            case "d" -> "same";
            default -> "x";
        };
        WinRate.Completer baseline = p -> p.equals("d") ? "four" : "short";
        WinRate.Scorer judge = (p, c) -> c.length();
        WinRate.Result r = WinRate.of(prompts, candidate, baseline, judge);
        assertEquals(3, r.wins());
        assertEquals(1, r.ties());
        assertEquals(1, r.losses());
        assertEquals(3.5 / 5, r.winRate(), 1e-12);
        assertEquals((11 * 3 + 4 + 1) / 5.0, r.meanCandidate(), 1e-12);
        assertEquals((5 * 4 + 4) / 5.0, r.meanBaseline(), 1e-12);
    }

    @Test
    void batchedOverridesAreUsed() {
        WinRate.Completer batched = new WinRate.Completer() {
            @Override
            public String complete(String prompt) {
                throw new AssertionError("per-prompt path used");
            }

            @Override
            public List<String> completeAll(List<String> prompts) {
                return prompts.stream().map(p -> p + p).toList();
            }
        };
        WinRate.Result r = WinRate.of(List.of("x", "yy"), batched, p -> p, (p, c) -> c.length());
        assertEquals(2, r.wins());
        assertEquals(1.0, r.winRate(), 0.0);
    }
}
