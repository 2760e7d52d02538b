package dev.align.datasets.format;

import dev.align.core.BadInputException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The dataset formats, as TRL names them. Each holds "standard" (text) or "conversational" (message
 * list) records; which one is decided per file from the first record.
 */
public enum Format {
    /** {@code {"text"}} or {@code {"messages"}}: pre-training, continued training, chat SFT. */
    LANGUAGE_MODELING("language_modeling", Kind.SFT),
    /** {@code {"prompt", "completion"}}. */
    PROMPT_COMPLETION("prompt_completion", Kind.SFT),
    /** {@code {"instruction", "input", "output"}}, turned into prompt/completion the Alpaca way. */
    ALPACA("alpaca", Kind.SFT),
    /** {@code {"prompt", ...}}: prompts for generation (GRPO/PPO); other keys are kept (e.g. "answer"). */
    PROMPT_ONLY("prompt_only", Kind.PROMPT),
    /** {@code {"prompt", "chosen", "rejected"}}, optional {@code "margin"}. */
    PREFERENCE("preference", Kind.PREFERENCE),
    /** {@code {"chosen", "rejected"}}: full transcripts whose shared beginning is the prompt. */
    IMPLICIT_PREFERENCE("implicit_preference", Kind.PREFERENCE),
    /** {@code {"prompt", "completion", "label"}}: one completion marked good (true) or bad (false). */
    UNPAIRED_PREFERENCE("unpaired_preference", Kind.UNPAIRED),
    /** {@code {"prompt", "responses", "ranking" | "scores"}}: K ranked responses to one prompt. */
    RANKING("ranking", Kind.RANKING);

    /** What a format's examples are used for, and so which typed view a dataset offers. */
    public enum Kind {
        /** One sequence with a loss mask per example. */
        SFT,
        /** A prompt to generate from, with extra fields. */
        PROMPT,
        /** A chosen and a rejected sequence sharing a prompt. */
        PREFERENCE,
        /** One sequence and a good/bad label. */
        UNPAIRED,
        /** K sequences sharing a prompt and the ordered pairs among them. */
        RANKING
    }

    private final String id;
    private final Kind kind;

    Format(String id, Kind kind) {
        this.id = id;
        this.kind = kind;
    }

    /** The name used in configs and on the command line, e.g. {@code prompt_completion}. */
    public String id() {
        return id;
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public String toString() {
        return id;
    }

    /**
     * The format named {@code name} ({@code -} and {@code _} alike; also {@code text}, {@code lm},
     * {@code messages}, {@code conversational}, {@code chat} for language modelling, {@code rankings}),
     * or null for {@code auto} / null.
     */
    public static Format parse(String name) {
        if (name == null) {
            return null;
        }
        String n = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        switch (n) {
            case "", "auto":
                return null;
            case "text", "lm", "messages", "conversational", "chat":
                return LANGUAGE_MODELING;
            case "rankings":
                return RANKING;
            case "prompt":
                return PROMPT_ONLY;
            case "kto", "unpaired":
                return UNPAIRED_PREFERENCE;
            default:
                for (Format f : values()) {
                    if (f.id.equals(n)) {
                        return f;
                    }
                }
                throw new BadInputException("dataset_format: unknown format '" + name + "' (expected auto, "
                        + Arrays.stream(values()).map(Format::id).collect(Collectors.joining(", ")) + ")");
        }
    }
}
