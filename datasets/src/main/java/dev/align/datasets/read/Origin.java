package dev.align.datasets.read;

/**
 * Where a record came from, for messages of the form {@code FILE:LINE: field: reason}.
 *
 * @param file the file as the user named it
 * @param line the 1-based line the record starts on
 * @param element for records of a JSON array, {@code "[i]"} (the 0-based element index), which
 *     prefixes the field; empty otherwise
 */
public record Origin(String file, int line, String element) {

    /** {@code FILE:LINE: field: reason} (the element index, if any, prefixes the field). */
    public String problem(String field, String reason) {
        String f = field == null ? "" : field;
        if (!element.isEmpty()) {
            f = f.isEmpty() ? element : element + "." + f;
        }
        return file + ":" + line + ": " + (f.isEmpty() ? "" : f + ": ") + reason;
    }

    /** {@code FILE:LINE} (with the element index for JSON arrays). */
    @Override
    public String toString() {
        return file + ":" + line + (element.isEmpty() ? "" : " " + element);
    }
}
