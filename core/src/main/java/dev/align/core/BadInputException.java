package dev.align.core;

import java.util.List;

/**
 * Input that fails validation (a data file, a config). Carries every problem found, each already
 * formatted as {@code FILE:LINE: field: reason}; the command line prints them all and exits with 2.
 */
public class BadInputException extends AlignException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public BadInputException(List<String> problems) {
        super(summary(problems));
        this.problems = List.copyOf(problems);
    }

    public BadInputException(String problem) {
        this(List.of(problem));
    }

    private static String summary(List<String> problems) {
        StringBuilder sb = new StringBuilder();
        for (String p : problems) {
            if (sb.length() > 0) {
                sb.append('\n');
            }
            sb.append(p);
        }
        return sb.toString();
    }

    /** Every problem, one line each. */
    public List<String> problems() {
        return problems;
    }
}
