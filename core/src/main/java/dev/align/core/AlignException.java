package dev.align.core;

/**
 * An error a user can act on: bad input, a bad model directory, a bad config. The message is printed
 * as is by the command line, so it names the file, line and field where there is one.
 */
public class AlignException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public AlignException(String message) {
        super(message);
    }

    public AlignException(String message, Throwable cause) {
        super(message, cause);
    }
}
