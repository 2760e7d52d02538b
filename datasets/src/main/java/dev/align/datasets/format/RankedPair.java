package dev.align.datasets.format;

/**
 * One comparison within a ranked group: response {@code better} is preferred to response
 * {@code worse} (indices into the group's responses).
 *
 * @param margin how much better, or NaN when the data gives no margin: the score difference for
 *     {@code scores}, NaN for {@code ranking}, the record's {@code margin} for preference pairs
 */
public record RankedPair(int better, int worse, double margin) {
    /** Whether a margin was given. */
    public boolean hasMargin() {
        return !Double.isNaN(margin);
    }
}
