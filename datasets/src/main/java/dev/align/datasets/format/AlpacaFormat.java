package dev.align.datasets.format;

/**
 * Alpaca records {@code {"instruction", "input", "output"}} ({@code input} optional or empty), read as
 * prompt/completion with Stanford Alpaca's prompt text. With an input the prompt is
 *
 * <pre>
 * Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.
 *
 * ### Instruction:
 * {instruction}
 *
 * ### Input:
 * {input}
 *
 * ### Response:
 * </pre>
 *
 * and without one
 *
 * <pre>
 * Below is an instruction that describes a task. Write a response that appropriately completes the request.
 *
 * ### Instruction:
 * {instruction}
 *
 * ### Response:
 * </pre>
 *
 * each ending with a newline after {@code ### Response:}; the completion is {@code output} (and eos).
 */
public final class AlpacaFormat {
    static final String WITH_INPUT = "Below is an instruction that describes a task, paired with an input that provides"
            + " further context. Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\n%s\n\n### Input:\n%s\n\n### Response:\n";
    static final String NO_INPUT = "Below is an instruction that describes a task. Write a response that"
            + " appropriately completes the request.\n\n### Instruction:\n%s\n\n### Response:\n";

    private AlpacaFormat() {}

    /** The Alpaca prompt for an instruction and an optional input (null or empty: none). */
    public static String prompt(String instruction, String input) {
        return input == null || input.isEmpty()
                ? String.format(NO_INPUT, instruction)
                : String.format(WITH_INPUT, instruction, input);
    }

    static Sample.PromptCompletion parse(Fields f) {
        String instruction = f.string("instruction");
        String input = f.optionalString("input");
        String output = f.string("output");
        if (instruction != null && instruction.isBlank()) {
            f.problem(f.column("instruction"), "empty instruction");
        }
        if (output != null && output.isBlank()) {
            f.problem(f.column("output"), "empty completion");
        }
        if (f.bad()) {
            return null;
        }
        return new Sample.PromptCompletion(f.row().origin(), Content.of(prompt(instruction, input)), Content.of(output));
    }
}
