package dev.align.core.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a Jinja template into text, output ({@code {{ }}}) and statement ({@code {% %}}) pieces with
 * exactly the whitespace handling of Python's jinja2 lexer as transformers configures it
 * ({@code trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False}): newlines are normalised to
 * {@code \n}, one trailing newline is dropped, {@code -} markers strip all whitespace on their side,
 * {@code +} markers disable lstrip/trim, a statement or comment alone on its line loses its indentation,
 * and the first newline after a statement or comment is removed. Comments vanish; {@code raw} blocks
 * become text.
 *
 * <p>Whitespace control is resolved here, so the pieces carry no markers and the engine renders text
 * verbatim.
 */
final class JinjaLexer {
    /** Kind of a piece. */
    enum Kind { TEXT, OUTPUT, STATEMENT }

    /**
     * One piece of a template. For {@code TEXT} the value is the literal text; for {@code OUTPUT} the
     * expression; for {@code STATEMENT} the tag's inner source (e.g. {@code "if x"}), without markers.
     */
    record Piece(Kind kind, String value, int line) {}

    /** A template that does not lex: the message and the 1-based line. */
    static final class SyntaxError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int line;

        SyntaxError(String message, int line) {
            super(message);
            this.line = line;
        }
    }

    private final String src;
    private final List<Piece> out = new ArrayList<>();
    private int pos;
    private boolean lineStarting = true;

    private JinjaLexer(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        this.src = s;
    }

    /** The pieces of {@code source}. */
    static List<Piece> lex(String source) {
        JinjaLexer lx = new JinjaLexer(source);
        lx.run();
        return lx.out;
    }

    private int lineAt(int p) {
        int line = 1;
        for (int i = 0; i < p && i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }

    private void run() {
        int n = src.length();
        while (pos < n) {
            int start = nextTagStart(pos);
            if (start < 0) {
                emitText(src.substring(pos), pos);
                return;
            }
            String text = src.substring(pos, start);
            char type = src.charAt(start + 1); // '{', '%' or '#'
            int afterOpen = start + 2;
            char sign = afterOpen < n && (src.charAt(afterOpen) == '-' || src.charAt(afterOpen) == '+')
                    ? src.charAt(afterOpen) : 0;
            int rawEnd = type == '%' ? matchRawBegin(start) : -1;
            text = stripBefore(text, sign, type != '{');
            emitText(text, pos);
            int bodyStart = afterOpen + (sign != 0 ? 1 : 0);
            if (rawEnd >= 0) {
                lexRaw(start, rawEnd);
            } else if (type == '#') {
                lexComment(start, bodyStart);
            } else {
                lexTag(start, bodyStart, type == '%');
            }
        }
    }

    /** Position of the next {@code {{}, {@code {%} or {@code {#} at or after {@code from}, or -1. */
    private int nextTagStart(int from) {
        for (int i = from; i + 1 < src.length(); i++) {
            if (src.charAt(i) == '{') {
                char c = src.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') {
                    return i;
                }
            }
        }
        return -1;
    }

    /** Applies {@code -} stripping or lstrip_blocks to the text before a tag. */
    private String stripBefore(String text, char sign, boolean lstripApplies) {
        if (sign == '-') {
            return rstrip(text);
        }
        if (sign != '+' && lstripApplies) {
            int lpos = text.lastIndexOf('\n') + 1;
            if ((lpos > 0 || lineStarting) && lpos < text.length() && allSpace(text, lpos)) {
                return text.substring(0, lpos);
            }
        }
        return text;
    }

    private void emitText(String text, int at) {
        if (!text.isEmpty()) {
            out.add(new Piece(Kind.TEXT, text, lineAt(at)));
        }
    }

    /** If a {@code {% raw %}} (with markers) starts at {@code start}, the end of that tag; else -1. */
    private int matchRawBegin(int start) {
        int i = start + 2;
        if (i < src.length() && (src.charAt(i) == '-' || src.charAt(i) == '+')) {
            i++;
        }
        i = skipSpace(i);
        if (!src.startsWith("raw", i)) {
            return -1;
        }
        i = skipSpace(i + 3);
        if (src.startsWith("-%}", i)) {
            return skipSpace(i + 3);
        }
        if (src.startsWith("%}", i)) {
            return i + 2;
        }
        return -1;
    }

    private void lexRaw(int start, int bodyStart) {
        lineStarting = bodyStart > 0 && src.charAt(bodyStart - 1) == '\n';
        int i = bodyStart;
        while (true) {
            int tag = src.indexOf("{%", i);
            if (tag < 0) {
                throw new SyntaxError("missing end of raw directive", lineAt(start));
            }
            int j = tag + 2;
            char sign = j < src.length() && (src.charAt(j) == '-' || src.charAt(j) == '+') ? src.charAt(j) : 0;
            if (sign != 0) {
                j++;
            }
            j = skipSpace(j);
            if (src.startsWith("endraw", j)) {
                int k = skipSpace(j + 6);
                int end = blockEnd(k);
                if (end >= 0) {
                    String body = stripBefore(src.substring(bodyStart, tag), sign, true);
                    emitText(body, bodyStart);
                    finishTag(k, end);
                    return;
                }
            }
            i = tag + 2;
        }
    }

    private void lexComment(int start, int bodyStart) {
        for (int k = bodyStart; k + 1 < src.length(); k++) {
            char c = src.charAt(k);
            if ((c == '-' || c == '+') && src.startsWith("#}", k + 1)) {
                int end = k + 3;
                if (c == '-') {
                    end = skipSpace(end);
                }
                finishTag(k, end);
                return;
            }
            if (c == '#' && src.charAt(k + 1) == '}') {
                int end = k + 2;
                if (end < src.length() && src.charAt(end) == '\n') {
                    end++;
                }
                finishTag(k, end);
                return;
            }
        }
        throw new SyntaxError("missing end of comment tag", lineAt(start));
    }

    /**
     * Scans a statement or output tag body, skipping string literals and bracketed expressions, up to
     * its end delimiter.
     */
    private void lexTag(int start, int bodyStart, boolean statement) {
        int depth = 0;
        int n = src.length();
        int i = bodyStart;
        while (i < n) {
            char c = src.charAt(i);
            if (depth == 0) {
                int end = statement ? blockEnd(i) : variableEnd(i);
                if (end >= 0) {
                    int bodyEnd = i;
                    String body = src.substring(bodyStart, bodyEnd);
                    if (statement && body.isBlank()) {
                        throw new SyntaxError("empty statement tag", lineAt(start));
                    }
                    if (!statement && body.isBlank()) {
                        throw new SyntaxError("expected an expression, got end of print statement", lineAt(start));
                    }
                    out.add(new Piece(statement ? Kind.STATEMENT : Kind.OUTPUT, body, lineAt(start)));
                    finishTag(i, end);
                    return;
                }
            }
            if (c == '\'' || c == '"') {
                i = skipString(i, start);
                continue;
            }
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) {
                    throw new SyntaxError("unexpected '" + c + "'", lineAt(i));
                }
                depth--;
            }
            i++;
        }
        throw new SyntaxError("unexpected end of template: unclosed '" + (statement ? "{%" : "{{") + "'",
                lineAt(start));
    }

    /** End of a statement tag starting at {@code i} ({@code +%}, {@code -%}\s*, {@code %}\n?}), or -1. */
    private int blockEnd(int i) {
        if (src.startsWith("+%}", i)) {
            return i + 3;
        }
        if (src.startsWith("-%}", i)) {
            return skipSpace(i + 3);
        }
        if (src.startsWith("%}", i)) {
            int e = i + 2;
            return e < src.length() && src.charAt(e) == '\n' ? e + 1 : e;
        }
        return -1;
    }

    /** End of an output tag starting at {@code i} ({@code -}}\s*}, {@code }}}), or -1. */
    private int variableEnd(int i) {
        if (src.startsWith("-}}", i)) {
            return skipSpace(i + 3);
        }
        if (src.startsWith("}}", i)) {
            return i + 2;
        }
        return -1;
    }

    private void finishTag(int endStart, int end) {
        lineStarting = end > endStart && src.charAt(end - 1) == '\n';
        pos = end;
    }

    private int skipString(int i, int tagStart) {
        char q = src.charAt(i);
        int j = i + 1;
        while (j < src.length()) {
            char c = src.charAt(j);
            if (c == '\\') {
                j += 2;
                continue;
            }
            if (c == q) {
                return j + 1;
            }
            j++;
        }
        throw new SyntaxError("unterminated string", lineAt(tagStart));
    }

    private int skipSpace(int i) {
        while (i < src.length() && isSpace(src.charAt(i))) {
            i++;
        }
        return i;
    }

    /** Python's {@code str.isspace} for one char. */
    static boolean isSpace(char c) {
        switch (c) {
            case ' ', '\t', '\n', '\r', '\u000b', '\u000c', '\u001c', '\u001d', '\u001e', '\u001f', '\u0085':
                return true;
            default:
                return Character.isSpaceChar(c);
        }
    }

    private static boolean allSpace(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (!isSpace(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** Python's {@code str.rstrip()}. */
    static String rstrip(String s) {
        int e = s.length();
        while (e > 0 && isSpace(s.charAt(e - 1))) {
            e--;
        }
        return s.substring(0, e);
    }
}
