package dev.align.core.generate;

/**
 * Receives a generation as it happens (streaming). Called on the generating thread, after each step's
 * tensors are released.
 */
public interface GenerationListener {
    /** Row {@code row} produced {@code token} as its {@code index}-th new token (0-based). */
    default void onToken(int row, int index, long token) {}

    /**
     * New text of row {@code row}, in order; the pieces of a row concatenate to its final {@link
     * Generation#text()}. Only called when the generator has a tokenizer.
     */
    default void onText(int row, String delta) {}

    /** Row {@code row} finished (called once per row). */
    default void onFinish(int row, Generation result) {}
}
