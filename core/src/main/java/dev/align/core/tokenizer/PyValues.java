package dev.align.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.objects.SafeString;
import dev.align.core.AlignException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python's view of template values: {@code str()}, {@code repr()}, truthiness, {@code json.dumps} as
 * transformers' {@code tojson} filter calls it, and the conversion of caller data (maps, lists, Jackson
 * trees) into plain template values: {@code String}, {@code Long}, {@code Double}, {@code Boolean},
 * {@code null}, {@code List}, {@code Map<String, Object>}.
 */
final class PyValues {
    /** Longest string a template may build. */
    static final int MAX_CHARS = JinjaEngine.MAX_OUTPUT;
    /** Longest list a template may build. */
    static final int MAX_ITEMS = 1_000_000;

    private PyValues() {}

    /** {@code s}, or an error if it is longer than {@link #MAX_CHARS}. */
    static String checkSize(String s) {
        if (s.length() > MAX_CHARS) {
            throw new jinjava.javax.el.ELException("the template built a string longer than " + MAX_CHARS
                    + " characters");
        }
        return s;
    }

    /** A Python tuple: an immutable list that prints with parentheses. */
    static final class PyTuple extends java.util.AbstractList<Object> implements java.util.RandomAccess,
            com.hubspot.jinjava.objects.PyWrapper {
        private final Object[] items;

        PyTuple(Object... items) {
            this.items = items.clone();
        }

        PyTuple(List<?> items) {
            this.items = items.toArray();
        }

        @Override
        public Object get(int i) {
            return items[i];
        }

        @Override
        public int size() {
            return items.length;
        }
    }

    /** A deep copy of {@code v} made of plain template values (the caller's objects are never exposed). */
    static Object plain(Object v, String where) {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
            return v;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof BigInteger b) {
            return b.longValueExact();
        }
        if (v instanceof Float || v instanceof BigDecimal) {
            return ((Number) v).doubleValue();
        }
        if (v instanceof CharSequence cs) {
            return cs.toString();
        }
        if (v instanceof JsonNode n) {
            return fromJson(n, where);
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String k = String.valueOf(e.getKey());
                out.put(k, plain(e.getValue(), where + "." + k));
            }
            return out;
        }
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>(c.size());
            int i = 0;
            for (Object o : c) {
                out.add(plain(o, where + "[" + i++ + "]"));
            }
            return out;
        }
        if (v instanceof Object[] arr) {
            return plain(List.of(arr), where);
        }
        throw new AlignException(where + ": unsupported value type for a chat template: " + v.getClass().getName());
    }

    private static Object fromJson(JsonNode n, String where) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isIntegralNumber()) {
            return n.longValue();
        }
        if (n.isNumber()) {
            return n.doubleValue();
        }
        if (n.isArray()) {
            List<Object> out = new ArrayList<>(n.size());
            for (int i = 0; i < n.size(); i++) {
                out.add(fromJson(n.get(i), where + "[" + i + "]"));
            }
            return out;
        }
        if (n.isObject()) {
            Map<String, Object> out = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = n.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                out.put(e.getKey(), fromJson(e.getValue(), where + "." + e.getKey()));
            }
            return out;
        }
        throw new AlignException(where + ": unsupported JSON value for a chat template: " + n.getNodeType());
    }

    /** Python's name of the value's type, for error messages. */
    static String typeName(Object v) {
        if (v == null) {
            return "NoneType";
        }
        if (v instanceof CharSequence || v instanceof SafeString) {
            return "str";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
            return "float";
        }
        if (v instanceof Number) {
            return "int";
        }
        if (v instanceof Map) {
            return "dict";
        }
        if (v instanceof Collection || v instanceof Object[]) {
            return "list";
        }
        return v.getClass().getSimpleName();
    }

    /** Python truthiness. */
    static boolean truthy(Object v) {
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Double || v instanceof Float) {
            return ((Number) v).doubleValue() != 0.0;
        }
        if (v instanceof Number n) {
            return n.longValue() != 0;
        }
        if (v instanceof CharSequence cs) {
            return cs.length() > 0;
        }
        if (v instanceof SafeString s) {
            return !s.toString().isEmpty();
        }
        if (v instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        if (v instanceof Object[] a) {
            return a.length > 0;
        }
        return true;
    }

    /** Python's {@code str(v)} (what {@code {{ v }}} prints); an undefined value prints nothing. */
    static String str(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof CharSequence || v instanceof SafeString) {
            return v.toString();
        }
        return repr(v);
    }

    /** Python's {@code repr(v)}. */
    static String repr(Object v) {
        StringBuilder b = new StringBuilder();
        repr(v, b, 0);
        return b.toString();
    }

    private static void repr(Object v, StringBuilder b, int depth) {
        if (depth > 200) {
            throw new AlignException("value nested too deeply to print");
        }
        if (v == null) {
            b.append("None");
        } else if (v instanceof Boolean bool) {
            b.append(bool ? "True" : "False");
        } else if (v instanceof Double || v instanceof Float) {
            b.append(floatRepr(((Number) v).doubleValue()));
        } else if (v instanceof Number n) {
            b.append(n.longValue());
        } else if (v instanceof CharSequence || v instanceof SafeString) {
            strRepr(v.toString(), b);
        } else if (v instanceof PyTuple t) {
            b.append('(');
            for (int i = 0; i < t.size(); i++) {
                if (i > 0) {
                    b.append(", ");
                }
                repr(t.get(i), b, depth + 1);
            }
            b.append(t.size() == 1 ? ",)" : ")");
        } else if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    b.append(", ");
                }
                first = false;
                repr(e.getKey(), b, depth + 1);
                b.append(": ");
                repr(e.getValue(), b, depth + 1);
            }
            b.append('}');
        } else if (v instanceof Iterable<?> it) {
            b.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) {
                    b.append(", ");
                }
                first = false;
                repr(o, b, depth + 1);
            }
            b.append(']');
        } else if (v instanceof Object[] arr) {
            repr(List.of(arr), b, depth);
        } else {
            b.append(v);
        }
    }

    private static void strRepr(String s, StringBuilder b) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        b.append(q);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == q || cp == '\\') {
                b.append('\\').appendCodePoint(cp);
            } else if (cp == '\n') {
                b.append("\\n");
            } else if (cp == '\r') {
                b.append("\\r");
            } else if (cp == '\t') {
                b.append("\\t");
            } else if (cp < 0x20 || cp == 0x7f) {
                b.append(String.format("\\x%02x", cp));
            } else if (!isPrintable(cp)) {
                if (cp <= 0xff) {
                    b.append(String.format("\\x%02x", cp));
                } else if (cp <= 0xffff) {
                    b.append(String.format("\\u%04x", cp));
                } else {
                    b.append(String.format("\\U%08x", cp));
                }
            } else {
                b.appendCodePoint(cp);
            }
        }
        b.append(q);
    }

    private static boolean isPrintable(int cp) {
        if (cp == ' ') {
            return true;
        }
        int t = Character.getType(cp);
        return !(t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE
                || t == Character.PRIVATE_USE || t == Character.UNASSIGNED || t == Character.LINE_SEPARATOR
                || t == Character.PARAGRAPH_SEPARATOR || t == Character.SPACE_SEPARATOR);
    }

    /** Python's {@code repr(float)}: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int decpt = digits.length() - bd.scale(); // value = 0.digits * 10^decpt
        StringBuilder b = new StringBuilder(d < 0 ? "-" : "");
        if (decpt > -4 && decpt <= 16) {
            if (decpt <= 0) {
                b.append("0.").append("0".repeat(-decpt)).append(digits);
            } else if (decpt >= digits.length()) {
                b.append(digits).append("0".repeat(decpt - digits.length())).append(".0");
            } else {
                b.append(digits, 0, decpt).append('.').append(digits.substring(decpt));
            }
        } else {
            b.append(digits.charAt(0));
            if (digits.length() > 1) {
                b.append('.').append(digits.substring(1));
            }
            int exp = decpt - 1;
            b.append('e').append(exp < 0 ? '-' : '+');
            String e = Integer.toString(Math.abs(exp));
            b.append(e.length() < 2 ? "0" + e : e);
        }
        return b.toString();
    }

    /**
     * {@code json.dumps(v, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sortKeys)}.
     *
     * @param indent null for one line, else the indent string per level
     */
    static String json(Object v, String indent, String itemSep, String keySep, boolean sortKeys) {
        StringBuilder b = new StringBuilder();
        String is = itemSep != null ? itemSep : (indent == null ? ", " : ",");
        String ks = keySep != null ? keySep : ": ";
        json(v, b, indent, is, ks, sortKeys, 0);
        return b.toString();
    }

    private static void json(Object v, StringBuilder b, String indent, String itemSep, String keySep,
            boolean sortKeys, int level) {
        if (level > 200) {
            throw new AlignException("tojson: value nested too deeply");
        }
        if (v == null) {
            b.append("null");
        } else if (v instanceof Boolean bool) {
            b.append(bool ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            b.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
                    : floatRepr(d));
        } else if (v instanceof Number n) {
            b.append(n.longValue());
        } else if (v instanceof CharSequence || v instanceof SafeString) {
            jsonString(v.toString(), b);
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                b.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sortKeys) {
                entries.sort((x, y) -> String.valueOf(x.getKey()).compareTo(String.valueOf(y.getKey())));
            }
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) {
                    b.append(itemSep);
                }
                first = false;
                newline(b, indent, level + 1);
                Object k = e.getKey();
                jsonString(k instanceof String s ? s : jsonKey(k), b);
                b.append(keySep);
                json(e.getValue(), b, indent, itemSep, keySep, sortKeys, level + 1);
            }
            newline(b, indent, level);
            b.append('}');
        } else if (v instanceof Iterable<?> it) {
            if (!it.iterator().hasNext()) {
                b.append("[]");
                return;
            }
            b.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) {
                    b.append(itemSep);
                }
                first = false;
                newline(b, indent, level + 1);
                json(o, b, indent, itemSep, keySep, sortKeys, level + 1);
            }
            newline(b, indent, level);
            b.append(']');
        } else if (v instanceof Object[] arr) {
            json(List.of(arr), b, indent, itemSep, keySep, sortKeys, level);
        } else {
            throw new AlignException("tojson: object of type " + typeName(v) + " is not JSON serializable");
        }
    }

    private static String jsonKey(Object k) {
        if (k == null) {
            return "null";
        }
        if (k instanceof Boolean bool) {
            return bool ? "true" : "false";
        }
        if (k instanceof Double || k instanceof Float) {
            return floatRepr(((Number) k).doubleValue());
        }
        return String.valueOf(k);
    }

    private static void newline(StringBuilder b, String indent, int level) {
        if (indent != null) {
            b.append('\n');
            b.append(indent.repeat(level));
        }
    }

    private static void jsonString(String s, StringBuilder b) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
