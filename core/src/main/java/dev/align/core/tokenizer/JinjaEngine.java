package dev.align.core.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.EndTag;
import com.hubspot.jinjava.lib.tag.FlexibleTag;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.TextNode;
import com.hubspot.jinjava.tree.output.OutputNode;
import com.hubspot.jinjava.tree.output.RenderedOutputNode;
import com.hubspot.jinjava.tree.parse.TagToken;
import com.hubspot.jinjava.tree.parse.TextToken;
import com.hubspot.jinjava.tree.parse.TokenScannerSymbols;
import com.hubspot.jinjava.el.TypeConvertingMapELResolver;
import com.hubspot.jinjava.el.ext.JinjavaBeanELResolver;
import com.hubspot.jinjava.el.ext.JinjavaListELResolver;
import com.hubspot.jinjava.el.ext.NamedParameter;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import jinjava.javax.el.ArrayELResolver;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * The Jinjava engine configured like transformers' jinja2 environment ({@code ImmutableSandboxedEnvironment},
 * {@code trim_blocks}, {@code lstrip_blocks}, loop controls, the {@code generation} extension, the
 * {@code raise_exception} and {@code strftime_now} globals, and its {@code tojson}).
 *
 * <p>Sandbox: templates see only plain copies of the caller's data, no Java method of any value is
 * callable (only Python's str/dict/list methods, read-only), there is no file or template loading, and
 * each render has a budget of steps (loop iterations and expression evaluations), a bound on output
 * size and on macro recursion, so a hostile template fails fast with an error instead of hanging.
 */
final class JinjaEngine {
    /** Steps (loop iterations plus expression evaluations) one render may take. */
    static final long MAX_STEPS = 2_000_000;
    /** Characters one render may produce. */
    static final int MAX_OUTPUT = 32 << 20;
    /** jinja2's sandbox limit on {@code range()}. */
    static final int MAX_RANGE = 100_000;

    /** Statements a template may use (jinja2's built-ins plus transformers' extensions). */
    private static final Set<String> STATEMENTS = Set.of("if", "elif", "else", "endif", "for", "endfor", "set",
            "endset", "macro", "endmacro", "call", "endcall", "filter", "endfilter", "break", "continue",
            "generation", "endgeneration");

    private static final ExpressionFactory FACTORY = PyExpressions.factory();
    private static final JinjavaConfig CONFIG = config();
    private static final Jinjava JINJAVA = jinjava();

    private JinjaEngine() {}

    /**
     * Aborts a render: an {@link Error} so that Jinjava's {@code catch (Exception)} blocks, which turn
     * failures into collected warnings, cannot swallow it.
     */
    static final class TemplateFailure extends Error {
        private static final long serialVersionUID = 1L;
        final int line;

        TemplateFailure(String message, int line) {
            super(message, null, false, false);
            this.line = line;
        }
    }

    /** A compiled template: its node tree, and whether it has a {@code generation} block. */
    record Compiled(Node root, boolean hasGeneration) {}

    /** Per-render state: step budget, clock, span markers. */
    static final class RenderState {
        final Supplier<ZonedDateTime> clock;
        final String[] markers;
        long steps;

        RenderState(Supplier<ZonedDateTime> clock, String[] markers) {
            this.clock = clock;
            this.markers = markers;
        }
    }

    private static JinjavaConfig config() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyMethods());
        resolver.add(new ArrayELResolver(true));
        resolver.add(new JinjavaListELResolver(true));
        resolver.add(new TypeConvertingMapELResolver(true));
        resolver.add(new JinjavaBeanELResolver(true));
        Map<Context.Library, Set<String>> disabled = new HashMap<>();
        disabled.put(Context.Library.FUNCTION, Set.of("datetimeformat", "format_date", "format_time",
                "format_datetime", "unixtimestamp", "truncate", "strtotime", "strtodate", "fn:immutable_list",
                "fn:map_entry", "fn:list"));
        disabled.put(Context.Library.FILTER, Set.of("render", "fromjson", "fromyaml", "toyaml", "ipaddr",
                "ipv4", "ipv6", "md5", "b64encode", "b64decode", "random", "shuffle", "datetimeformat",
                "strtotime", "strtodate", "unixtimestamp", "closehtml", "truncatehtml", "format", "center", "indent",
                "wordwrap", "filesizeformat", "urlize", "xmlattr"));
        disabled.put(Context.Library.TAG, Set.of("include", "import", "from", "extends", "block", "print",
                "raw", "autoescape", "cycle", "ifchanged", "unless", "do"));
        return JinjavaConfig.newBuilder()
                .withTrimBlocks(false)
                .withLstripBlocks(false)
                .withNestedInterpretationEnabled(false)
                .withFailOnUnknownTokens(false)
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(50)
                .withMaxOutputSize(MAX_OUTPUT)
                .withMaxStringLength(MAX_OUTPUT)
                .withMaxListSize(1_000_000)
                .withMaxMapSize(1_000_000)
                .withLocale(Locale.ENGLISH)
                .withDisabled(disabled)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withIterateOverMapKeys(true)
                        .build())
                .withElResolver(resolver)
                .withInterperterFactory(new InterpreterFactory() {
                    @Override
                    public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
                        return new PyInterpreter(orig);
                    }

                    @Override
                    public JinjavaInterpreter newInstance(Jinjava app, Context context, JinjavaConfig cfg) {
                        return new PyInterpreter(app, context, cfg, null);
                    }
                })
                .build();
    }

    private static Jinjava jinjava() {
        Jinjava j = new Jinjava(CONFIG) {
            @Override
            public ExpressionFactory getExpressionFactory() {
                return FACTORY;
            }

            @Override
            public ExpressionFactory getEagerExpressionFactory() {
                return FACTORY;
            }
        };
        j.setResourceLocator((name, encoding, interpreter) -> {
            throw new ResourceNotFoundException("templates cannot load files: " + name);
        });
        j.registerTag(new JinjaTags.IfTag());
        j.registerTag(new JinjaTags.ForTag());
        j.registerTag(new JinjaTags.BreakTag());
        j.registerTag(new JinjaTags.ContinueTag());
        j.registerTag(new JinjaTags.GenerationTag());
        j.registerFunction(new ELFunctionDefinition("", "raise_exception", Functions.class, "raiseException",
                Object.class));
        j.registerFunction(new ELFunctionDefinition("", "strftime_now", Functions.class, "strftimeNow",
                Object.class));
        j.registerFunction(new ELFunctionDefinition("", "range", Functions.class, "range", Object[].class));
        j.registerFunction(new ELFunctionDefinition("", "dict", Functions.class, "dict", Object[].class));
        JinjaFilters.register(j);
        return j;
    }

    /** Globals that jinja2 exposes as variables too ({@code strftime_now is defined}). */
    static final List<String> GLOBAL_NAMES = List.of("raise_exception", "strftime_now", "range", "dict",
            "namespace");

    /** Parses a template into Jinjava nodes. */
    static Compiled compile(String source) {
        List<JinjaLexer.Piece> pieces;
        try {
            pieces = JinjaLexer.lex(source);
        } catch (JinjaLexer.SyntaxError e) {
            throw new TemplateFailure(e.getMessage(), e.line);
        }
        JinjavaInterpreter interp = new PyInterpreter(JINJAVA, JINJAVA.getGlobalContextCopy(), CONFIG, null);
        JinjavaInterpreter.pushCurrent(interp);
        try {
            TokenScannerSymbols symbols = CONFIG.getTokenScannerSymbols();
            Node root = new Root(new TextToken("", 1, 0, symbols));
            Node parent = root;
            boolean generation = false;
            for (JinjaLexer.Piece p : pieces) {
                switch (p.kind()) {
                    case TEXT -> {
                        TextNode t = new TextNode(new TextToken(p.value(), p.line(), 0, symbols));
                        t.setParent(parent);
                        parent.getChildren().add(t);
                    }
                    case OUTPUT -> {
                        OutputNode0 o = new OutputNode0(p.value().trim(),
                                new TextToken("{{" + p.value() + "}}", p.line(), 0, symbols));
                        o.setParent(parent);
                        parent.getChildren().add(o);
                    }
                    case STATEMENT -> {
                        String body = p.value().trim();
                        int e = 0;
                        while (e < body.length() && (Character.isLetterOrDigit(body.charAt(e)) || body.charAt(e) == '_')) {
                            e++;
                        }
                        String name = body.substring(0, e);
                        if (!STATEMENTS.contains(name)) {
                            throw new TemplateFailure("Encountered unknown tag '" + name + "'", p.line());
                        }
                        generation |= name.equals("generation");
                        Tag tag = interp.getContext().getTag(name);
                        TagToken token = new TagToken("{% " + body + " %}", p.line(), 0, symbols);
                        if (tag instanceof EndTag) {
                            if (!(parent instanceof TagNode open) || !open.getEndName().equals(name)) {
                                String expected = parent instanceof TagNode open2 ? open2.getEndName() : null;
                                throw new TemplateFailure("Encountered unknown tag '" + name + "'"
                                        + (expected != null ? "; Jinja was looking for '" + expected + "'" : ""),
                                        p.line());
                            }
                            parent = parent.getParent();
                            continue;
                        }
                        if ((name.equals("elif") || name.equals("else"))
                                && !(parent instanceof TagNode open && (open.getName().equals("if")
                                        || (name.equals("else") && open.getName().equals("for"))))) {
                            throw new TemplateFailure("Encountered unknown tag '" + name + "'", p.line());
                        }
                        TagNode node = new TagNode(tag, token, symbols);
                        node.setParent(parent);
                        parent.getChildren().add(node);
                        boolean block = tag.getEndTagName() != null
                                && (!(tag instanceof FlexibleTag f) || f.hasEndTag(token));
                        if (block) {
                            parent = node;
                        }
                    }
                    default -> throw new IllegalStateException();
                }
            }
            if (parent != root) {
                throw new TemplateFailure("Unexpected end of template. Jinja was looking for the following tags: '"
                        + ((TagNode) parent).getEndName() + "'", parent.getLineNumber());
            }
            return new Compiled(root, generation);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
    }

    /** Renders a compiled template with the given variables. */
    static String render(Compiled compiled, Map<String, Object> variables, RenderState state) {
        Map<String, Object> bindings = new LinkedHashMap<>();
        for (String g : GLOBAL_NAMES) {
            bindings.put(g, new Callable(g));
        }
        bindings.putAll(variables);
        Context context = new Context(JINJAVA.getGlobalContextCopy(), bindings, CONFIG.getDisabled());
        PyInterpreter interp = new PyInterpreter(JINJAVA, context, CONFIG, state);
        JinjavaInterpreter.pushCurrent(interp);
        try {
            String out = JinjaTags.renderNodes(compiled.root().getChildren(), interp);
            for (TemplateError e : interp.getErrors()) {
                if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                    throw new TemplateFailure(e.getMessage(), e.getLineno());
                }
            }
            return out;
        } catch (JinjaTags.LoopSignal s) {
            throw new TemplateFailure("'" + s.getMessage() + "' outside of a loop", -1);
        } catch (StackOverflowError e) {
            throw new TemplateFailure("template recursion too deep", -1);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
    }

    /** A global function's value when used as a variable (it is defined and truthy). */
    static final class Callable {
        private final String name;

        Callable(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return "<function " + name + ">";
        }
    }

    /** Counts one step of the current render against its budget. */
    static void tick(JinjavaInterpreter interpreter) {
        if (interpreter instanceof PyInterpreter p && p.state != null && ++p.state.steps > MAX_STEPS) {
            throw new TemplateFailure("the template exceeded its budget of " + MAX_STEPS
                    + " steps (loop iterations and expression evaluations): it may loop without bound",
                    interpreter.getLineNumber());
        }
    }

    /** Fails when output grows past {@link #MAX_OUTPUT}. */
    static void checkOutput(CharSequence out) {
        if (out.length() > MAX_OUTPUT) {
            throw new TemplateFailure("the template's output exceeded " + MAX_OUTPUT + " characters", -1);
        }
    }

    /** The current render's generation span markers. */
    static String[] markers(JinjavaInterpreter interpreter) {
        if (interpreter instanceof PyInterpreter p && p.state != null) {
            return p.state.markers;
        }
        throw new TemplateFailure("generation block outside of a render", -1);
    }

    private static RenderState state() {
        JinjavaInterpreter i = JinjavaInterpreter.getCurrent();
        return i instanceof PyInterpreter p ? p.state : null;
    }

    /** The container of a template's top-level nodes. */
    static final class Root extends Node {
        private static final long serialVersionUID = 1L;

        Root(TextToken master) {
            super(master, 1, 0);
        }

        @Override
        public OutputNode render(JinjavaInterpreter interpreter) {
            return new RenderedOutputNode(JinjaTags.renderNodes(getChildren(), interpreter));
        }

        @Override
        public String getName() {
            return "root";
        }
    }

    /** {@code {{ expression }}}: Python's {@code str()} of the value; an undefined value prints nothing. */
    static final class OutputNode0 extends Node {
        private static final long serialVersionUID = 1L;
        private final String expression;

        OutputNode0(String expression, TextToken master) {
            super(master, master.getLineNumber(), 0);
            this.expression = expression;
        }

        @Override
        public OutputNode render(JinjavaInterpreter interpreter) {
            interpreter.setLineNumber(getLineNumber());
            Object v = interpreter.resolveELExpression(expression, getLineNumber());
            return new RenderedOutputNode(v == null ? "" : PyValues.str(v));
        }

        @Override
        public String getName() {
            return "output";
        }

        @Override
        public String toString() {
            return "{{ " + expression + " }}";
        }
    }

    /** Jinjava's interpreter with errors that abort the render, a step budget and Python printing. */
    static final class PyInterpreter extends JinjavaInterpreter {
        final RenderState state;

        PyInterpreter(Jinjava app, Context context, JinjavaConfig config, RenderState state) {
            super(app, context, config);
            this.state = state;
        }

        PyInterpreter(JinjavaInterpreter orig) {
            super(orig);
            this.state = orig instanceof PyInterpreter p ? p.state : null;
        }

        @Override
        public void addError(TemplateError error) {
            if (error == null) {
                return;
            }
            for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                if (t instanceof TemplateFailure f) {
                    throw f;
                }
                if (t.getCause() == t) {
                    break;
                }
            }
            if (error.getReason() == TemplateError.ErrorReason.UNKNOWN
                    && error.getItem() == TemplateError.ErrorItem.PROPERTY
                    && error.getSeverity() == TemplateError.ErrorType.WARNING) {
                return; // a missing attribute is undefined in jinja2, not an error (until it is used)
            }
            // jinja2 raises on every other error; Jinjava would collect them and go on
            throw new TemplateFailure(clean(error.getMessage()), error.getLineno());
        }

        @Override
        public Object resolveELExpression(String expression, int lineNumber) {
            tick(this);
            return super.resolveELExpression(expression, lineNumber);
        }

        @Override
        public Object resolveELExpression(String expression, int lineNumber, int position) {
            tick(this);
            return super.resolveELExpression(expression, lineNumber, position);
        }

        @Override
        public String getAsString(Object object) {
            return object == null ? "" : PyValues.str(object);
        }

        private static String clean(String m) {
            if (m == null) {
                return "template error";
            }
            int i = m.indexOf("\nOriginating Exception:");
            return i >= 0 ? m.substring(0, i) : m;
        }
    }

    /** The global functions ({@code raise_exception}, {@code strftime_now}, {@code range}, {@code dict}). */
    static final class Functions {
        private Functions() {}

        static Object raiseException(Object message) {
            JinjavaInterpreter current = JinjavaInterpreter.getCurrent();
            throw new TemplateFailure(PyValues.str(message), current == null ? -1 : current.getLineNumber());
        }

        static String strftimeNow(Object format) {
            RenderState s = state();
            ZonedDateTime now = s != null && s.clock != null ? s.clock.get() : ZonedDateTime.now();
            return Strftime.format(now, PyValues.str(format));
        }

        static List<Long> range(Object... args) {
            long start = 0;
            long stop;
            long step = 1;
            long[] a = new long[args.length];
            for (int i = 0; i < args.length; i++) {
                if (!(args[i] instanceof Number n) || args[i] instanceof Double || args[i] instanceof Float) {
                    throw new TemplateFailure("TypeError: range() arguments must be integers", -1);
                }
                a[i] = n.longValue();
            }
            switch (a.length) {
                case 1 -> stop = a[0];
                case 2 -> {
                    start = a[0];
                    stop = a[1];
                }
                case 3 -> {
                    start = a[0];
                    stop = a[1];
                    step = a[2];
                }
                default -> throw new TemplateFailure("TypeError: range expected 1 to 3 arguments, got "
                        + a.length, -1);
            }
            if (step == 0) {
                throw new TemplateFailure("ValueError: range() arg 3 must not be zero", -1);
            }
            long n = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                    : (start > stop ? (start - stop - step - 1) / -step : 0);
            if (n > MAX_RANGE) {
                throw new TemplateFailure("Range too big. The sandbox blocks ranges larger than MAX_RANGE ("
                        + MAX_RANGE + ").", -1);
            }
            List<Long> out = new ArrayList<>((int) n);
            for (long i = 0; i < n; i++) {
                out.add(start + i * step);
            }
            return out;
        }

        static Map<String, Object> dict(Object... args) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Object o : args) {
                if (o instanceof NamedParameter np) {
                    out.put(np.getName(), np.getValue());
                } else if (o instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> out.put(String.valueOf(k), v));
                } else {
                    throw new TemplateFailure("dict() takes keyword arguments or a mapping", -1);
                }
            }
            return out;
        }
    }

    /** Python's {@code datetime.strftime} for the directives chat templates use. */
    static final class Strftime {
        private Strftime() {}

        static String format(ZonedDateTime t, String fmt) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < fmt.length(); i++) {
                char c = fmt.charAt(i);
                if (c != '%' || i + 1 >= fmt.length()) {
                    b.append(c);
                    continue;
                }
                char d = fmt.charAt(++i);
                b.append(switch (d) {
                    case 'd' -> String.format("%02d", t.getDayOfMonth());
                    case 'm' -> String.format("%02d", t.getMonthValue());
                    case 'Y' -> String.format("%04d", t.getYear());
                    case 'y' -> String.format("%02d", t.getYear() % 100);
                    case 'H' -> String.format("%02d", t.getHour());
                    case 'M' -> String.format("%02d", t.getMinute());
                    case 'S' -> String.format("%02d", t.getSecond());
                    case 'I' -> String.format("%02d", (t.getHour() + 11) % 12 + 1);
                    case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                    case 'b' -> t.getMonth().getDisplayName(java.time.format.TextStyle.SHORT, Locale.US);
                    case 'B' -> t.getMonth().getDisplayName(java.time.format.TextStyle.FULL, Locale.US);
                    case 'a' -> t.getDayOfWeek().getDisplayName(java.time.format.TextStyle.SHORT, Locale.US);
                    case 'A' -> t.getDayOfWeek().getDisplayName(java.time.format.TextStyle.FULL, Locale.US);
                    case 'j' -> String.format("%03d", t.getDayOfYear());
                    case 'f' -> String.format("%06d", t.getNano() / 1000);
                    case 'w' -> Integer.toString(t.getDayOfWeek().getValue() % 7);
                    case 'e' -> String.format("%2d", t.getDayOfMonth());
                    case '%' -> "%";
                    default -> StrftimeFormatter.format(t, "%" + d, Locale.US);
                });
            }
            return b.toString();
        }
    }
}
