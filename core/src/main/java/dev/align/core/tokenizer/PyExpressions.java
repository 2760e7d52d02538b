package dev.align.core.tokenizer;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.AstTuple;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.ExtendedScanner;
import com.hubspot.jinjava.el.ext.NamedParameterOperator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstMethod;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ExpressionFactory;

/**
 * Jinjava's expression language with the parts of Python jinja2's grammar that chat templates use and
 * Jinjava lacks or parses differently:
 * <ul>
 *   <li>slices with a step ({@code messages[::-1]}, {@code s[1:-1:2]}) with Python's clamping rules;</li>
 *   <li>{@code not} binds looser than comparisons and tests ({@code not a == b}, {@code not x is defined});</li>
 *   <li>keyword arguments take a whole expression ({@code namespace(i=messages|length - 1)});</li>
 *   <li>string literals decode Python escapes (backslash-u, backslash-x and octal escapes; unknown escapes kept).</li>
 * </ul>
 * Filters and tests bind as in jinja2 (tighter than arithmetic, looser than unary minus), which is
 * Jinjava's "natural operator precedence" mode; the engine turns that mode on.
 */
final class PyExpressions {
    private PyExpressions() {}

    /** The expression factory for Jinjava's interpreter. */
    static ExpressionFactory factory() {
        Properties props = new Properties();
        props.setProperty(TreeBuilder.class.getName(), PyBuilder.class.getName());
        return new ExpressionFactoryImpl(props, new TruthyTypeConverter()) {
            @Override
            protected TreeBuilder createTreeBuilder(Properties properties, Builder.Feature... features) {
                return new PyBuilder(features);
            }
        };
    }

    /** Builds {@link PyParser}s. */
    public static final class PyBuilder extends ExtendedSyntaxBuilder {
        private static final long serialVersionUID = 1L;

        public PyBuilder(Builder.Feature... features) {
            super(features);
        }

        @Override
        protected Parser createParser(String expression) {
            return new PyParser(this, expression);
        }
    }

    /** The parser with the changes listed on {@link PyExpressions}. */
    static final class PyParser extends ExtendedParser {
        PyParser(Builder context, String input) {
            super(context, input);
        }

        @Override
        protected Scanner createScanner(String expression) {
            return new PyScanner(expression);
        }

        /** {@code +} with Python's types: no string + number, no concatenation with None. */
        @Override
        protected AstBinary createAstBinary(AstNode left, AstNode right, AstBinary.Operator op) {
            return super.createAstBinary(left, right, op == AdditionOperator.OP ? PyMethods.PyOps.ADD : op);
        }

        /** A tuple literal evaluates to a {@link PyValues.PyTuple}. */
        @Override
        protected AstTuple createAstTuple(AstParameters parameters) throws Scanner.ScanException, ParseException {
            return new AstTuple(parameters) {
                @Override
                public Object eval(Bindings bindings, ELContext context) {
                    Object[] values = new Object[elements.getCardinality()];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = elements.getChild(i).eval(bindings, context);
                    }
                    return new PyValues.PyTuple(values);
                }
            };
        }

        /** Filters ({@code filter:name.filter}) and tests ({@code exptest:name.evaluate}) must exist, as in jinja2. */
        @Override
        protected AstDot createAstDot(AstNode prefix, String property, boolean lvalue) {
            if (prefix instanceof AstIdentifier id) {
                String n = id.getName();
                JinjavaInterpreter interp = JinjavaInterpreter.getCurrent();
                if (interp != null && n.startsWith(ExtendedParser.FILTER_PREFIX)
                        && interp.getContext().getFilter(n.substring(ExtendedParser.FILTER_PREFIX.length())) == null) {
                    throw new ELException("No filter named '" + n.substring(ExtendedParser.FILTER_PREFIX.length()) + "'.");
                }
                if (interp != null && n.startsWith(ExtendedParser.EXPTEST_PREFIX)
                        && interp.getContext().getExpTest(n.substring(ExtendedParser.EXPTEST_PREFIX.length())) == null) {
                    throw new ELException("No test named '" + n.substring(ExtendedParser.EXPTEST_PREFIX.length()) + "'.");
                }
            }
            return super.createAstDot(prefix, property, lvalue);
        }

        /** {@code not} at the level of jinja2's {@code parse_not}: below {@code and}, above comparisons. */
        @Override
        protected AstNode eq(boolean required) throws Scanner.ScanException, ParseException {
            if (getToken().getSymbol() == Symbol.NOT) {
                consumeToken();
                return createAstUnary(eq(true), AstUnary.NOT);
            }
            return super.eq(required);
        }

        /** Call arguments; {@code name=expr} takes the whole expression as the value. */
        @Override
        protected AstParameters params(Symbol left, Symbol right) throws Scanner.ScanException, ParseException {
            consumeToken(left);
            List<AstNode> l = new ArrayList<>();
            AstNode v = argument(false);
            if (v != null) {
                l.add(v);
                while (getToken().getSymbol() == Symbol.COMMA) {
                    consumeToken();
                    AstNode next = argument(false); // a trailing comma is allowed
                    if (next == null) {
                        break;
                    }
                    l.add(next);
                }
            }
            consumeToken(right);
            return createAstParameters(l);
        }

        private AstNode argument(boolean required) throws Scanner.ScanException, ParseException {
            if (getToken().getSymbol() == Symbol.IDENTIFIER && lookahead(0) == NamedParameterOperator.TOKEN) {
                String name = consumeToken().getImage();
                consumeToken(); // '='
                return new AstNamedParameter(new AstIdentifier(name, 0), expr(true));
            }
            return expr(required);
        }

        /** Primary expression with postfix {@code .name}, {@code .name(...)}, {@code [i]}, {@code [a:b:c]}. */
        @Override
        protected AstNode value() throws Scanner.ScanException, ParseException {
            boolean lvalue = true;
            AstNode v = nonliteral();
            if (v == null) {
                v = literal();
                if (v == null) {
                    return null;
                }
                lvalue = false;
            }
            boolean calls = context.isEnabled(Builder.Feature.METHOD_INVOCATIONS);
            while (true) {
                Symbol s = getToken().getSymbol();
                if (s == Symbol.DOT) {
                    consumeToken();
                    String name = consumeToken(Symbol.IDENTIFIER).getImage();
                    AstDot dot = new PyDot(v, name, lvalue);
                    v = getToken().getSymbol() == Symbol.LPAREN && calls ? new PyMethod(v, name, null, params()) : dot;
                } else if (s == Symbol.LBRACK) {
                    consumeToken();
                    AstNode first = getToken().getSymbol() == Symbol.COLON ? null : expr(true);
                    if (getToken().getSymbol() == Symbol.COLON) {
                        consumeToken();
                        AstNode stop = isSliceEnd() ? null : expr(true);
                        AstNode step = null;
                        if (getToken().getSymbol() == Symbol.COLON) {
                            consumeToken();
                            step = getToken().getSymbol() == Symbol.RBRACK ? null : expr(true);
                        }
                        consumeToken(Symbol.RBRACK);
                        v = new AstSlice(v, first, stop, step);
                    } else {
                        consumeToken(Symbol.RBRACK);
                        AstBracket bracket = new PyBracket(v, first, lvalue);
                        v = getToken().getSymbol() == Symbol.LPAREN && calls
                                ? new PyMethod(v, null, first, params()) : bracket;
                    }
                } else {
                    return v; // filters and tests are applied by filter() (natural precedence)
                }
            }
        }

        private boolean isSliceEnd() {
            Symbol s = getToken().getSymbol();
            return s == Symbol.COLON || s == Symbol.RBRACK;
        }
    }

    /** The name of an expression for messages. */
    static String describe(AstNode n) {
        try {
            StringBuilder b = new StringBuilder();
            n.appendStructure(b, null);
            return b.toString();
        } catch (RuntimeException e) {
            return String.valueOf(n);
        }
    }

    /** Reads {@code base[property]} (or {@code base.property}); an undefined or None base is an error. */
    private static Object get(AstNode prefix, Object property, Bindings bindings, ELContext context) {
        Object base = prefix.eval(bindings, context);
        if (base == null) {
            throw new ELException("UndefinedError: '" + describe(prefix) + "' is undefined (or None), so it has no attribute or item "
                    + PyValues.repr(property));
        }
        context.setPropertyResolved(false);
        return context.getELResolver().getValue(context, base, property);
    }

    /** {@code a.b}, failing like jinja2 when {@code a} is undefined. */
    static final class PyDot extends AstDot {
        PyDot(AstNode base, String property, boolean lvalue) {
            super(base, property, lvalue, false);
        }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            return get(prefix, property, bindings, context);
        }
    }

    /** {@code a[b]}, failing like jinja2 when {@code a} is undefined. */
    static final class PyBracket extends AstBracket {
        PyBracket(AstNode base, AstNode property, boolean lvalue) {
            super(base, property, lvalue, true, false);
        }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            return get(prefix, property.eval(bindings, context), bindings, context);
        }
    }

    /** {@code a.name(args)} or {@code a[expr](args)}, failing like jinja2 when {@code a} is undefined. */
    static final class PyMethod extends AstMethod {
        private final AstNode base;
        private final String name;
        private final AstNode nameExpr;
        private final AstParameters args;

        PyMethod(AstNode base, String name, AstNode nameExpr, AstParameters args) {
            super(name != null ? new AstDot(base, name, false) : new AstBracket(base, nameExpr, false, true), args);
            this.base = base;
            this.name = name;
            this.nameExpr = nameExpr;
            this.args = args;
        }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            Object target = base.eval(bindings, context);
            String method = name != null ? name : String.valueOf(nameExpr.eval(bindings, context));
            if (target == null) {
                throw new ELException("UndefinedError: '" + describe(base) + "' is undefined (or None), so it has no "
                        + "method '" + method + "'");
            }
            Object[] values = args.eval(bindings, context);
            context.setPropertyResolved(false);
            Object result = context.getELResolver().invoke(context, target, method, null, values);
            if (!context.isPropertyResolved()) {
                throw new ELException("'" + PyValues.typeName(target) + "' object has no attribute '" + method + "'");
            }
            return result;
        }
    }

    /** String literals with Python's escapes. */
    static final class PyScanner extends ExtendedScanner {
        PyScanner(String input) {
            super(input);
        }

        @Override
        protected Scanner.Token nextString() throws ScanException {
            String in = getInput();
            char quote = in.charAt(getPosition());
            StringBuilder b = new StringBuilder();
            int i = getPosition() + 1;
            int l = in.length();
            while (i < l) {
                char c = in.charAt(i++);
                if (c == quote) {
                    return token(Symbol.STRING, b.toString(), i - getPosition());
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                if (i == l) {
                    break;
                }
                char e = in.charAt(i++);
                switch (e) {
                    case '\n' -> { }
                    case '\\', '\'', '"' -> b.append(e);
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'v' -> b.append('\u000b');
                    case 'a' -> b.append('\u0007');
                    case 'x', 'u', 'U' -> {
                        int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        if (i + len > l) {
                            throw new ScanException(getPosition(), "truncated \\" + e + " escape", "hex digits");
                        }
                        int cp;
                        try {
                            cp = Integer.parseInt(in.substring(i, i + len), 16);
                        } catch (NumberFormatException ex) {
                            throw new ScanException(getPosition(), "truncated \\" + e + " escape", "hex digits");
                        }
                        b.appendCodePoint(cp);
                        i += len;
                    }
                    default -> {
                        if (e >= '0' && e <= '7') {
                            int v = e - '0';
                            for (int k = 0; k < 2 && i < l && in.charAt(i) >= '0' && in.charAt(i) <= '7'; k++) {
                                v = v * 8 + (in.charAt(i++) - '0');
                            }
                            b.append((char) v);
                        } else {
                            b.append('\\').append(e); // Python keeps unknown escapes
                        }
                    }
                }
            }
            throw new ScanException(getPosition(), "unterminated string", String.valueOf(quote));
        }
    }

    /** {@code base[start:stop:step]} with Python's semantics on lists, tuples and strings. */
    static final class AstSlice extends AstRightValue {
        private final AstNode base;
        private final AstNode start;
        private final AstNode stop;
        private final AstNode step;

        AstSlice(AstNode base, AstNode start, AstNode stop, AstNode step) {
            this.base = base;
            this.start = start;
            this.stop = stop;
            this.step = step;
        }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            Object b = base.eval(bindings, context);
            if (b == null) {
                throw new ELException("cannot slice an undefined value: " + base);
            }
            Integer st = bound(start, bindings, context);
            Integer sp = bound(stop, bindings, context);
            Integer stepV = bound(step, bindings, context);
            int k = stepV == null ? 1 : stepV;
            if (k == 0) {
                throw new ELException("slice step cannot be zero");
            }
            if (b instanceof CharSequence cs) {
                String s = cs.toString();
                int[] cps = s.codePoints().toArray();
                StringBuilder out = new StringBuilder();
                for (int i : indices(cps.length, st, sp, k)) {
                    out.appendCodePoint(cps[i]);
                }
                return out.toString();
            }
            List<?> list;
            if (b instanceof List<?> l) {
                list = l;
            } else if (b instanceof Collection<?> c) {
                list = new ArrayList<>(c);
            } else if (b instanceof Object[] arr) {
                list = Arrays.asList(arr);
            } else if (b instanceof Map<?, ?> m) {
                throw new ELException("a mapping cannot be sliced");
            } else {
                throw new ELException("'" + PyValues.typeName(b) + "' object is not subscriptable");
            }
            List<Object> out = new ArrayList<>();
            for (int i : indices(list.size(), st, sp, k)) {
                out.add(list.get(i));
            }
            return out;
        }

        private static Integer bound(AstNode n, Bindings bindings, ELContext context) {
            if (n == null) {
                return null;
            }
            Object v = n.eval(bindings, context);
            if (v == null) {
                return null;
            }
            if (v instanceof Number num && !(v instanceof Double) && !(v instanceof Float)) {
                return (int) Math.max(Integer.MIN_VALUE / 2, Math.min(Integer.MAX_VALUE / 2, num.longValue()));
            }
            if (v instanceof Boolean bool) {
                return bool ? 1 : 0;
            }
            throw new ELException("slice indices must be integers or None");
        }

        /** The indices Python's {@code slice(start, stop, step).indices(len)} walks. */
        static int[] indices(int len, Integer start, Integer stop, int step) {
            int lo;
            int hi;
            if (step > 0) {
                lo = start == null ? 0 : clamp(start, len, 0, len);
                hi = stop == null ? len : clamp(stop, len, 0, len);
            } else {
                lo = start == null ? len - 1 : clamp(start, len, -1, len - 1);
                hi = stop == null ? -1 : clamp(stop, len, -1, len - 1);
            }
            int n = step > 0 ? (hi > lo ? (hi - lo + step - 1) / step : 0)
                    : (lo > hi ? (lo - hi + (-step) - 1) / (-step) : 0);
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = lo + i * step;
            }
            return out;
        }

        private static int clamp(int v, int len, int min, int max) {
            if (v < 0) {
                v += len;
            }
            return Math.max(min, Math.min(max, v));
        }

        @Override
        public void appendStructure(StringBuilder b, Bindings bindings) {
            base.appendStructure(b, bindings);
            b.append('[');
            if (start != null) {
                start.appendStructure(b, bindings);
            }
            b.append(':');
            if (stop != null) {
                stop.appendStructure(b, bindings);
            }
            b.append(':');
            if (step != null) {
                step.appendStructure(b, bindings);
            }
            b.append(']');
        }

        @Override
        public int getCardinality() {
            return 4;
        }

        @Override
        public AstNode getChild(int i) {
            return switch (i) {
                case 0 -> base;
                case 1 -> start;
                case 2 -> stop;
                case 3 -> step;
                default -> null;
            };
        }

        @Override
        public String toString() {
            return "[::]";
        }
    }
}
