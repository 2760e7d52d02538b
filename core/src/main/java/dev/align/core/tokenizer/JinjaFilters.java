package dev.align.core.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Filters whose jinja2 (and transformers) behaviour differs from Jinjava's: transformers' {@code tojson}
 * ({@code json.dumps(ensure_ascii=False)} with {@code indent}, {@code separators}, {@code sort_keys}),
 * and {@code trim}, {@code string}, {@code join}, {@code capitalize}, {@code title}, {@code upper},
 * {@code lower}, {@code items}, {@code list}, {@code length}/{@code count}, {@code first}, {@code last}
 * with Python's semantics.
 */
final class JinjaFilters {
    private JinjaFilters() {}

    /** A filter written against positional and keyword arguments. */
    private abstract static class PyFilter implements Filter {
        private final String name;

        PyFilter(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        abstract Object apply(Object v, List<Object> args, Map<String, Object> kwargs);

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            return apply(var, args == null ? List.of() : java.util.Arrays.asList(args), kwargs == null ? Map.of()
                    : kwargs);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return apply(var, args == null ? List.of() : List.of((Object[]) args), Map.of());
        }

        Object arg(List<Object> args, Map<String, Object> kwargs, int i, String key, Object dflt) {
            if (kwargs.containsKey(key)) {
                return kwargs.get(key);
            }
            return i < args.size() ? args.get(i) : dflt;
        }
    }

    /** A one-argument test ({@code x is name}). */
    private abstract static class PyTest implements ExpTest {
        private final String name;

        PyTest(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        abstract boolean test(Object v);

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return test(var);
        }
    }

    private static String text(Object v, String filter) {
        if (v == null) {
            return "";
        }
        if (v instanceof CharSequence || v instanceof SafeString) {
            return v.toString();
        }
        return PyValues.str(v);
    }

    private static List<Object> seq(Object v) {
        if (v == null) {
            return List.of();
        }
        if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof Collection<?> c) {
            return new ArrayList<>(c);
        }
        if (v instanceof Object[] a) {
            return new ArrayList<>(List.of(a));
        }
        if (v instanceof CharSequence || v instanceof SafeString) {
            List<Object> out = new ArrayList<>();
            v.toString().codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
            return out;
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            it.forEach(out::add);
            return out;
        }
        throw new JinjaEngine.TemplateFailure("TypeError: '" + PyValues.typeName(v) + "' object is not iterable", -1);
    }

    static void register(Jinjava j) {
        j.registerFilter(new PyFilter("tojson") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                Object indent = arg(args, kw, 1, "indent", null);
                Object seps = arg(args, kw, 2, "separators", null);
                Object sort = arg(args, kw, 3, "sort_keys", false);
                String ind = indent == null ? null : indent instanceof Number n ? " ".repeat(n.intValue())
                        : indent.toString();
                String itemSep = null;
                String keySep = null;
                if (seps instanceof List<?> l && l.size() == 2) {
                    itemSep = String.valueOf(l.get(0));
                    keySep = String.valueOf(l.get(1));
                }
                return PyValues.json(v, ind, itemSep, keySep, PyValues.truthy(sort));
            }
        });
        j.registerFilter(new PyFilter("trim") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                Object chars = arg(args, kw, 0, "chars", null);
                return PyMethods.strip(text(v, "trim"), chars == null ? null : chars.toString(), true, true);
            }
        });
        j.registerFilter(new PyFilter("string") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                return text(v, "string");
            }
        });
        j.registerFilter(new PyFilter("upper") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                return text(v, "upper").toUpperCase(Locale.ROOT);
            }
        });
        j.registerFilter(new PyFilter("lower") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                return text(v, "lower").toLowerCase(Locale.ROOT);
            }
        });
        j.registerFilter(new PyFilter("capitalize") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                String s = text(v, "capitalize");
                if (s.isEmpty()) {
                    return s;
                }
                int k = s.offsetByCodePoints(0, 1);
                return s.substring(0, k).toUpperCase(Locale.ROOT) + s.substring(k).toLowerCase(Locale.ROOT);
            }
        });
        j.registerFilter(new PyFilter("title") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                // jinja2: capitalize the first letter of each word (words split on whitespace and any of -({[<)
                String s = text(v, "title");
                StringBuilder b = new StringBuilder();
                boolean start = true;
                for (int i = 0; i < s.length(); ) {
                    int cp = s.codePointAt(i);
                    i += Character.charCount(cp);
                    b.appendCodePoint(start ? Character.toUpperCase(cp) : Character.toLowerCase(cp));
                    start = JinjaLexer.isSpace((char) cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
                }
                return b.toString();
            }
        });
        j.registerFilter(new PyFilter("join") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                String sep = String.valueOf(arg(args, kw, 0, "d", ""));
                Object attr = arg(args, kw, 1, "attribute", null);
                StringBuilder b = new StringBuilder();
                boolean first = true;
                for (Object o : seq(v)) {
                    if (!first) {
                        b.append(sep);
                    }
                    first = false;
                    if (attr != null) {
                        o = o instanceof Map<?, ?> m ? m.get(attr.toString()) : null;
                    }
                    b.append(o == null ? "" : PyValues.str(o));
                    PyValues.checkSize(b.length() > PyValues.MAX_CHARS ? b.toString() : "");
                }
                return b.toString();
            }
        });
        j.registerFilter(new PyFilter("items") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                if (v == null) {
                    return List.of();
                }
                if (!(v instanceof Map<?, ?> m)) {
                    throw new JinjaEngine.TemplateFailure("TypeError: can only get item pairs from a mapping.", -1);
                }
                List<Object> out = new ArrayList<>();
                m.forEach((k, val) -> out.add(new PyValues.PyTuple(k, val)));
                return out;
            }
        });
        j.registerFilter(new PyFilter("dictsort") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                if (!(v instanceof Map<?, ?> m)) {
                    throw new JinjaEngine.TemplateFailure("TypeError: dictsort requires a mapping", -1);
                }
                boolean caseSensitive = PyValues.truthy(arg(args, kw, 0, "case_sensitive", false));
                boolean byValue = "value".equals(arg(args, kw, 1, "by", "key"));
                boolean reverse = PyValues.truthy(arg(args, kw, 2, "reverse", false));
                List<PyValues.PyTuple> out = new ArrayList<>();
                m.forEach((k, val) -> out.add(new PyValues.PyTuple(k, val)));
                java.util.Comparator<PyValues.PyTuple> cmp = (a, b) -> {
                    Object x = a.get(byValue ? 1 : 0);
                    Object y = b.get(byValue ? 1 : 0);
                    if (x instanceof Number nx && y instanceof Number ny) {
                        return Double.compare(nx.doubleValue(), ny.doubleValue());
                    }
                    String sx = PyValues.str(x);
                    String sy = PyValues.str(y);
                    return caseSensitive ? sx.compareTo(sy) : sx.toLowerCase(Locale.ROOT).compareTo(sy.toLowerCase(Locale.ROOT));
                };
                out.sort(reverse ? cmp.reversed() : cmp);
                return new ArrayList<Object>(out);
            }
        });
        j.registerFilter(new PyFilter("list") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                return seq(v);
            }
        });
        for (String name : List.of("default", "d")) {
            j.registerFilter(new PyFilter(name) {
                @Override
                Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                    Object dflt = arg(args, kw, 0, "default_value", "");
                    boolean bool = PyValues.truthy(arg(args, kw, 1, "boolean", false));
                    return v == null || (bool && !PyValues.truthy(v)) ? dflt : v;
                }
            });
        }
        j.registerExpTest(new PyTest("iterable") {
            @Override
            boolean test(Object v) {
                return v instanceof Iterable || v instanceof Map || v instanceof CharSequence
                        || v instanceof SafeString || v instanceof Object[];
            }
        });
        j.registerExpTest(new PyTest("sequence") {
            @Override
            boolean test(Object v) {
                return v instanceof Collection || v instanceof Map || v instanceof CharSequence
                        || v instanceof SafeString || v instanceof Object[];
            }
        });
        for (String name : List.of("length", "count")) {
            j.registerFilter(new PyFilter(name) {
                @Override
                Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                    if (v == null) {
                        return 0L;
                    }
                    if (v instanceof CharSequence || v instanceof SafeString) {
                        String s = v.toString();
                        return (long) s.codePointCount(0, s.length());
                    }
                    if (v instanceof Map<?, ?> m) {
                        return (long) m.size();
                    }
                    if (v instanceof Collection<?> c) {
                        return (long) c.size();
                    }
                    if (v instanceof Object[] a) {
                        return (long) a.length;
                    }
                    throw new JinjaEngine.TemplateFailure("TypeError: object of type '" + PyValues.typeName(v)
                            + "' has no len()", -1);
                }
            });
        }
        j.registerFilter(new PyFilter("first") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                List<Object> s = seq(v);
                return s.isEmpty() ? null : s.get(0);
            }
        });
        j.registerFilter(new PyFilter("last") {
            @Override
            Object apply(Object v, List<Object> args, Map<String, Object> kw) {
                List<Object> s = seq(v);
                return s.isEmpty() ? null : s.get(s.size() - 1);
            }
        });
    }
}
