package dev.align.core.tokenizer;

import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.objects.SafeString;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.de.odysseus.el.misc.NumberOperations;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;

/**
 * Python's methods on {@code str}, {@code dict} and {@code list} values ({@code s.startswith(...)},
 * {@code s.split(...)[-1]}, {@code d.items()}, ...), resolved before Jinjava's bean resolver so that no
 * Java method of a template value is ever callable. As in transformers' immutable sandbox, methods that
 * would modify a list or dict are refused.
 */
final class PyMethods extends ELResolver {
    private static final java.util.Set<String> MUTATING = java.util.Set.of(
            "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault",
            "popitem", "put", "putAll", "add", "addAll", "removeAll", "set", "replaceAll", "merge");

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (base instanceof CharSequence || base instanceof SafeString) {
            // jinja2: s[i] is a character; an index out of range or any attribute is undefined
            context.setPropertyResolved(true);
            Long index = property instanceof Number n && !(property instanceof Double) ? (Long) n.longValue()
                    : property instanceof String p && p.matches("-?[0-9]{1,9}") ? (Long) Long.parseLong(p) : null;
            if (index == null) {
                return null;
            }
            int[] cps = base.toString().codePoints().toArray();
            long i = index < 0 ? index + cps.length : index;
            return i < 0 || i >= cps.length ? null : new String(cps, (int) i, 1);
        }
        return null;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (method == null) {
            return null;
        }
        String name = method.toString();
        Object[] args = params == null ? new Object[0] : params;
        if (base instanceof CharSequence || base instanceof SafeString) {
            context.setPropertyResolved(true);
            Object out = str(base.toString(), name, args);
            return out instanceof String r ? PyValues.checkSize(r) : out;
        }
        if (base instanceof Map<?, ?> m) {
            context.setPropertyResolved(true);
            return dict(m, name, args);
        }
        if (base instanceof List<?> l) {
            context.setPropertyResolved(true);
            return list(l, name, args);
        }
        return null;
    }

    private static ELException noAttr(String type, String name) {
        return new ELException("'" + type + "' object has no attribute '" + name + "'");
    }

    private static Object dict(Map<?, ?> m, String name, Object[] a) {
        switch (name) {
            case "items": {
                List<Object> out = new ArrayList<>(m.size());
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    out.add(new PyValues.PyTuple(e.getKey(), e.getValue()));
                }
                return out;
            }
            case "keys":
                return new ArrayList<>(m.keySet());
            case "values":
                return new ArrayList<>(m.values());
            case "get": {
                arity(name, a, 1, 2);
                Object k = a[0];
                if (m.containsKey(k)) {
                    return m.get(k);
                }
                return a.length > 1 ? a[1] : null;
            }
            case "copy":
                return new java.util.LinkedHashMap<>(m);
            default:
                if (MUTATING.contains(name)) {
                    throw unsafe(name, "dict");
                }
                throw noAttr("dict", name);
        }
    }

    private static Object list(List<?> l, String name, Object[] a) {
        switch (name) {
            case "index": {
                arity(name, a, 1, 1);
                for (int i = 0; i < l.size(); i++) {
                    if (PyOps.eq(l.get(i), a[0])) {
                        return (long) i;
                    }
                }
                throw new ELException("ValueError: " + PyValues.repr(a[0]) + " is not in list");
            }
            case "count": {
                arity(name, a, 1, 1);
                long c = 0;
                for (Object o : l) {
                    if (PyOps.eq(o, a[0])) {
                        c++;
                    }
                }
                return c;
            }
            case "copy":
                return new ArrayList<>(l);
            default:
                if (MUTATING.contains(name)) {
                    throw unsafe(name, "list");
                }
                throw noAttr("list", name);
        }
    }

    private static ELException unsafe(String name, String type) {
        return new ELException("SecurityError: access to attribute '" + name + "' of '" + type
                + "' object is unsafe.");
    }

    private static void arity(String name, Object[] a, int min, int max) {
        for (Object o : a) {
            if (o instanceof NamedParameter np) {
                throw new ELException(name + "() takes no keyword argument '" + np.getName() + "'");
            }
        }
        if (a.length < min || a.length > max) {
            throw new ELException(name + "() takes " + (min == max ? "exactly " + min : min + " to " + max)
                    + " argument(s) (" + a.length + " given)");
        }
    }

    private static String s(Object o, String name) {
        if (o instanceof CharSequence || o instanceof SafeString) {
            return o.toString();
        }
        throw new ELException("TypeError: " + name + "() argument must be str, not " + PyValues.typeName(o));
    }

    private static Object str(String s, String name, Object[] a) {
        switch (name) {
            case "startswith":
            case "endswith": {
                arity(name, a, 1, 3);
                String t = slice(s, a, 1);
                boolean start = name.equals("startswith");
                if (a[0] instanceof Collection<?> c) {
                    for (Object o : c) {
                        String p = s(o, name);
                        if (start ? t.startsWith(p) : t.endsWith(p)) {
                            return true;
                        }
                    }
                    return false;
                }
                String p = s(a[0], name);
                return start ? t.startsWith(p) : t.endsWith(p);
            }
            case "strip":
            case "lstrip":
            case "rstrip": {
                arity(name, a, 0, 1);
                String chars = a.length == 0 || a[0] == null ? null : s(a[0], name);
                return strip(s, chars, !name.equals("rstrip"), !name.equals("lstrip"));
            }
            case "split":
            case "rsplit": {
                arity(name, a, 0, 2);
                String sep = a.length == 0 || a[0] == null ? null : s(a[0], name);
                int max = a.length > 1 && a[1] != null ? ((Number) a[1]).intValue() : -1;
                return name.equals("split") ? split(s, sep, max) : rsplit(s, sep, max);
            }
            case "splitlines": {
                arity(name, a, 0, 1);
                boolean keep = a.length > 0 && PyValues.truthy(a[0]);
                return splitlines(s, keep);
            }
            case "upper":
                return s.toUpperCase(Locale.ROOT);
            case "lower":
                return s.toLowerCase(Locale.ROOT);
            case "casefold":
                return s.toLowerCase(Locale.ROOT);
            case "swapcase": {
                StringBuilder b = new StringBuilder();
                s.codePoints().forEach(cp -> b.appendCodePoint(Character.isUpperCase(cp)
                        ? Character.toLowerCase(cp) : Character.toUpperCase(cp)));
                return b.toString();
            }
            case "title":
                return title(s);
            case "capitalize":
                return s.isEmpty() ? s
                        : s.substring(0, s.offsetByCodePoints(0, 1)).toUpperCase(Locale.ROOT)
                                + s.substring(s.offsetByCodePoints(0, 1)).toLowerCase(Locale.ROOT);
            case "replace": {
                arity(name, a, 2, 3);
                String old = s(a[0], name);
                String neu = s(a[1], name);
                int count = a.length > 2 && a[2] != null ? ((Number) a[2]).intValue() : -1;
                return replace(s, old, neu, count);
            }
            case "join": {
                arity(name, a, 1, 1);
                StringBuilder b = new StringBuilder();
                boolean first = true;
                for (Object o : iterable(a[0])) {
                    if (!first) {
                        b.append(s);
                    }
                    first = false;
                    b.append(s(o, name));
                    if (b.length() > PyValues.MAX_CHARS) {
                        throw new ELException("the template built a string longer than " + PyValues.MAX_CHARS
                                + " characters");
                    }
                }
                return b.toString();
            }
            case "find":
            case "rfind":
            case "index":
            case "rindex":
            case "count": {
                arity(name, a, 1, 3);
                String sub = s(a[0], name);
                int from = a.length > 1 && a[1] != null ? norm(((Number) a[1]).intValue(), s.length()) : 0;
                int to = a.length > 2 && a[2] != null ? norm(((Number) a[2]).intValue(), s.length()) : s.length();
                String t = from <= to ? s.substring(from, to) : "";
                if (name.equals("count")) {
                    if (sub.isEmpty()) {
                        return (long) t.codePointCount(0, t.length()) + 1;
                    }
                    long c = 0;
                    for (int i = t.indexOf(sub); i >= 0; i = t.indexOf(sub, i + sub.length())) {
                        c++;
                    }
                    return c;
                }
                int i = name.startsWith("r") ? t.lastIndexOf(sub) : t.indexOf(sub);
                if (i < 0) {
                    if (name.endsWith("index")) {
                        throw new ELException("ValueError: substring not found");
                    }
                    return -1L;
                }
                return (long) s.codePointCount(0, from + i);
            }
            case "partition":
            case "rpartition": {
                arity(name, a, 1, 1);
                String sep = s(a[0], name);
                int i = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (i < 0) {
                    return name.equals("partition") ? new PyValues.PyTuple(s, "", "") : new PyValues.PyTuple("", "", s);
                }
                return new PyValues.PyTuple(s.substring(0, i), sep, s.substring(i + sep.length()));
            }
            case "removeprefix":
                arity(name, a, 1, 1);
                return s.startsWith(s(a[0], name)) ? s.substring(s(a[0], name).length()) : s;
            case "removesuffix":
                arity(name, a, 1, 1);
                return s.endsWith(s(a[0], name)) && !s(a[0], name).isEmpty()
                        ? s.substring(0, s.length() - s(a[0], name).length()) : s;
            case "isdigit":
            case "isnumeric":
            case "isdecimal":
                return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha":
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum":
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace":
                return !s.isEmpty() && s.chars().allMatch(c -> JinjaLexer.isSpace((char) c));
            case "isupper":
                return s.codePoints().anyMatch(Character::isUpperCase)
                        && s.codePoints().noneMatch(Character::isLowerCase);
            case "islower":
                return s.codePoints().anyMatch(Character::isLowerCase)
                        && s.codePoints().noneMatch(Character::isUpperCase);
            case "zfill": {
                arity(name, a, 1, 1);
                int w = width(a[0]);
                int len = s.codePointCount(0, s.length());
                if (len >= w) {
                    return s;
                }
                boolean sign = !s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-');
                String pad = "0".repeat(w - len);
                return sign ? s.charAt(0) + pad + s.substring(1) : pad + s;
            }
            case "center":
            case "ljust":
            case "rjust": {
                arity(name, a, 1, 2);
                int w = width(a[0]);
                String fill = a.length > 1 ? s(a[1], name) : " ";
                int len = s.codePointCount(0, s.length());
                if (len >= w) {
                    return s;
                }
                int total = w - len;
                int left = name.equals("ljust") ? 0 : name.equals("rjust") ? total
                        : total / 2 + (total & w & 1);
                return fill.repeat(left) + s + fill.repeat(total - left);
            }
            case "format":
                return format(s, a);
            default:
                throw noAttr("str", name);
        }
    }

    private static int width(Object w) {
        long v = ((Number) w).longValue();
        if (v > PyValues.MAX_CHARS) {
            throw new ELException("the template built a string longer than " + PyValues.MAX_CHARS + " characters");
        }
        return (int) v;
    }

    private static int norm(int i, int len) {
        if (i < 0) {
            i += len;
        }
        return Math.max(0, Math.min(len, i));
    }

    /** {@code s[start:end]} for the optional start/end arguments of startswith/endswith. */
    private static String slice(String s, Object[] a, int from) {
        int st = a.length > from && a[from] != null ? norm(((Number) a[from]).intValue(), s.length()) : 0;
        int en = a.length > from + 1 && a[from + 1] != null ? norm(((Number) a[from + 1]).intValue(), s.length())
                : s.length();
        return st <= en ? s.substring(st, en) : "";
    }

    private static Iterable<?> iterable(Object o) {
        if (o instanceof Iterable<?> it) {
            return it;
        }
        if (o instanceof Map<?, ?> m) {
            return m.keySet();
        }
        if (o instanceof CharSequence cs) {
            List<String> out = new ArrayList<>();
            cs.toString().codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
            return out;
        }
        throw new ELException("TypeError: can only join an iterable");
    }

    /** Python's {@code str.strip/lstrip/rstrip}: whitespace, or any of {@code chars}. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0;
        int e = s.length();
        if (left) {
            while (b < e && stripped(s.charAt(b), chars)) {
                b++;
            }
        }
        if (right) {
            while (e > b && stripped(s.charAt(e - 1), chars)) {
                e--;
            }
        }
        return s.substring(b, e);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? JinjaLexer.isSpace(c) : chars.indexOf(c) >= 0;
    }

    static List<Object> split(String s, String sep, int max) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && JinjaLexer.isSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    break;
                }
                if (max >= 0 && out.size() == max) {
                    out.add(JinjaLexer.rstrip(s.substring(i)));
                    break;
                }
                int j = i;
                while (j < n && !JinjaLexer.isSpace(s.charAt(j))) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new ELException("ValueError: empty separator");
        }
        int i = 0;
        while (true) {
            int j = s.indexOf(sep, i);
            if (j < 0 || (max >= 0 && out.size() == max)) {
                out.add(s.substring(i));
                return out;
            }
            out.add(s.substring(i, j));
            i = j + sep.length();
        }
    }

    private static List<Object> rsplit(String s, String sep, int max) {
        if (max < 0) {
            return split(s, sep, max);
        }
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int e = s.length();
            while (true) {
                while (e > 0 && JinjaLexer.isSpace(s.charAt(e - 1))) {
                    e--;
                }
                if (e == 0) {
                    break;
                }
                if (out.size() == max) {
                    out.add(0, strip(s.substring(0, e), null, true, false));
                    break;
                }
                int b = e;
                while (b > 0 && !JinjaLexer.isSpace(s.charAt(b - 1))) {
                    b--;
                }
                out.add(0, s.substring(b, e));
                e = b;
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new ELException("ValueError: empty separator");
        }
        int e = s.length();
        while (true) {
            int j = s.lastIndexOf(sep, e - sep.length());
            if (j < 0 || out.size() == max || e - sep.length() < 0) {
                out.add(0, s.substring(0, e));
                return out;
            }
            out.add(0, s.substring(j + sep.length(), e));
            e = j;
        }
    }

    private static List<Object> splitlines(String s, boolean keep) {
        List<Object> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            int j = i;
            while (j < n && !isLineBreak(s.charAt(j))) {
                j++;
            }
            int eol = j;
            if (j < n) {
                j += s.charAt(j) == '\r' && j + 1 < n && s.charAt(j + 1) == '\n' ? 2 : 1;
            }
            out.add(s.substring(i, keep ? j : eol));
            i = j;
        }
        return out;
    }

    private static boolean isLineBreak(char c) {
        return c == '\n' || c == '\r' || c == '\u000b' || c == '\u000c' || c == '\u001c' || c == '\u001d'
                || c == '\u001e' || c == '\u0085' || c == '\u2028' || c == '\u2029';
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder();
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
            b.appendCodePoint(prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            prevCased = cased;
        }
        return b.toString();
    }

    private static String replace(String s, String old, String neu, int count) {
        if (neu.length() > old.length()) {
            long n = 0;
            if (old.isEmpty()) {
                n = s.length() + 1L;
            } else {
                for (int i = s.indexOf(old); i >= 0; i = s.indexOf(old, i + old.length())) {
                    n++;
                }
            }
            if (count >= 0) {
                n = Math.min(n, count);
            }
            if (s.length() + n * (neu.length() - old.length()) > PyValues.MAX_CHARS) {
                throw new ELException("the template built a string longer than " + PyValues.MAX_CHARS + " characters");
            }
        }
        if (count < 0) {
            if (old.isEmpty()) {
                StringBuilder b = new StringBuilder(neu);
                s.codePoints().forEach(cp -> b.appendCodePoint(cp).append(neu));
                return b.toString();
            }
            return s.replace(old, neu);
        }
        StringBuilder b = new StringBuilder();
        int i = 0;
        int done = 0;
        while (done < count) {
            int j = old.isEmpty() ? (i <= s.length() ? i : -1) : s.indexOf(old, i);
            if (j < 0) {
                break;
            }
            b.append(s, i, j).append(neu);
            if (old.isEmpty()) {
                if (j < s.length()) {
                    int cp = s.codePointAt(j);
                    b.appendCodePoint(cp);
                    i = j + Character.charCount(cp);
                } else {
                    i = j + 1;
                }
            } else {
                i = j + old.length();
            }
            done++;
        }
        if (i <= s.length()) {
            b.append(s.substring(Math.min(i, s.length())));
        }
        return b.toString();
    }

    /** {@code str.format} with {@code {}}, {@code {0}}, {@code {name}} fields and {@code {{ }}} escapes. */
    private static String format(String s, Object[] a) {
        List<Object> pos = new ArrayList<>();
        Map<String, Object> kw = new java.util.HashMap<>();
        for (Object o : a) {
            if (o instanceof NamedParameter np) {
                kw.put(np.getName(), np.getValue());
            } else {
                pos.add(o);
            }
        }
        StringBuilder b = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{') {
                if (i + 1 < s.length() && s.charAt(i + 1) == '{') {
                    b.append('{');
                    i++;
                    continue;
                }
                int j = s.indexOf('}', i);
                if (j < 0) {
                    throw new ELException("ValueError: Single '{' encountered in format string");
                }
                String field = s.substring(i + 1, j);
                if (field.contains(":") || field.contains("!")) {
                    throw new ELException("str.format: format specs are not supported: {" + field + "}");
                }
                Object v;
                if (field.isEmpty()) {
                    if (auto >= pos.size()) {
                        throw new ELException("IndexError: Replacement index " + auto + " out of range");
                    }
                    v = pos.get(auto++);
                } else if (field.chars().allMatch(Character::isDigit)) {
                    int k = Integer.parseInt(field);
                    if (k >= pos.size()) {
                        throw new ELException("IndexError: Replacement index " + k + " out of range");
                    }
                    v = pos.get(k);
                } else {
                    if (!kw.containsKey(field)) {
                        throw new ELException("KeyError: '" + field + "'");
                    }
                    v = kw.get(field);
                }
                b.append(PyValues.str(v));
                i = j;
            } else if (c == '}') {
                if (i + 1 < s.length() && s.charAt(i + 1) == '}') {
                    i++;
                }
                b.append('}');
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // read-only: other resolvers decide
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }

    /** Python operators that Jinjava evaluates differently. */
    static final class PyOps {
        private PyOps() {}

        /** Python {@code ==} for template values. */
        static boolean eq(Object a, Object b) {
            if (a == null || b == null) {
                return a == b;
            }
            if (a instanceof Number x && b instanceof Number y && !(a instanceof Boolean)) {
                return x.doubleValue() == y.doubleValue();
            }
            if ((a instanceof CharSequence || a instanceof SafeString)
                    && (b instanceof CharSequence || b instanceof SafeString)) {
                return a.toString().equals(b.toString());
            }
            return a.equals(b);
        }

        /** {@code a + b}: numbers add, strings and lists concatenate, anything else is a TypeError. */
        static final AstBinary.Operator ADD = new AstBinary.SimpleOperator() {
            @Override
            protected Object apply(TypeConverter converter, Object o1, Object o2) {
                boolean s1 = o1 instanceof CharSequence || o1 instanceof SafeString;
                boolean s2 = o2 instanceof CharSequence || o2 instanceof SafeString;
                if (s1 && s2) {
                    return PyValues.checkSize(o1.toString() + o2);
                }
                if (s1) {
                    throw new ELException("TypeError: can only concatenate str (not \"" + PyValues.typeName(o2)
                            + "\") to str");
                }
                if (o1 instanceof List<?> l1 && o2 instanceof List<?> l2) {
                    if ((long) l1.size() + l2.size() > PyValues.MAX_ITEMS) {
                        throw new ELException("the template built a list longer than " + PyValues.MAX_ITEMS + " items");
                    }
                    List<Object> out = new ArrayList<>(l1);
                    out.addAll(l2);
                    return out;
                }
                if (o1 instanceof Number && o2 instanceof Number) {
                    return NumberOperations.add(converter, o1, o2);
                }
                throw new ELException("TypeError: unsupported operand type(s) for +: '" + PyValues.typeName(o1)
                        + "' and '" + PyValues.typeName(o2) + "'");
            }

            @Override
            public String toString() {
                return "+";
            }
        };
    }
}
