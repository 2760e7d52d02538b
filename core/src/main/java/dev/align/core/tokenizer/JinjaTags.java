package dev.align.core.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter.InterpreterScopeClosable;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.ElseIfTag;
import com.hubspot.jinjava.lib.tag.ElseTag;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The statements whose Jinjava versions differ from jinja2 in ways chat templates notice: {@code if}
 * (Python truthiness), {@code for} (filters, {@code else}, tuple unpacking, jinja2's {@code loop}
 * object, an iteration budget), {@code break}/{@code continue} (stop at once, as in Python), and
 * transformers' {@code generation} block.
 */
final class JinjaTags {
    private JinjaTags() {}

    /**
     * Unwinds to the enclosing loop on {@code break}/{@code continue}, carrying the output rendered so
     * far in the enclosing blocks of the current iteration. An {@link Error} so that no Jinjava
     * {@code catch (Exception)} swallows it.
     */
    static final class LoopSignal extends Error {
        private static final long serialVersionUID = 1L;
        final boolean isBreak;
        final StringBuilder partial = new StringBuilder();

        LoopSignal(boolean isBreak) {
            super(isBreak ? "break" : "continue", null, false, false);
            this.isBreak = isBreak;
        }
    }

    /** Renders nodes; on a loop signal, prepends what was rendered before it and rethrows. */
    static String renderNodes(List<Node> nodes, JinjavaInterpreter interpreter) {
        StringBuilder b = new StringBuilder();
        for (Node n : nodes) {
            try {
                b.append(n.render(interpreter).getValue());
            } catch (LoopSignal s) {
                s.partial.insert(0, b);
                throw s;
            }
            JinjaEngine.checkOutput(b);
        }
        return b.toString();
    }

    private static boolean isMarker(Node n, Class<? extends Tag> type) {
        return n instanceof TagNode t && type.isInstance(t.getTag());
    }

    /** {@code if / elif / else} with Python truthiness. */
    static final class IfTag implements Tag {
        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "if";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            String cond = tagNode.getHelpers();
            boolean taken = PyValues.truthy(interpreter.resolveELExpression(cond, tagNode.getLineNumber()));
            List<Node> branch = new ArrayList<>();
            for (Node child : tagNode.getChildren()) {
                if (isMarker(child, ElseIfTag.class) || isMarker(child, ElseTag.class)) {
                    if (taken) {
                        break;
                    }
                    TagNode marker = (TagNode) child;
                    taken = isMarker(child, ElseTag.class)
                            || PyValues.truthy(interpreter.resolveELExpression(marker.getHelpers(),
                                    marker.getLineNumber()));
                    continue;
                }
                if (taken) {
                    branch.add(child);
                }
            }
            return taken ? renderNodes(branch, interpreter) : "";
        }
    }

    /** {@code break}. */
    static final class BreakTag implements Tag {
        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "break";
        }

        @Override
        public String getEndTagName() {
            return null;
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            throw new LoopSignal(true);
        }
    }

    /** {@code continue}. */
    static final class ContinueTag implements Tag {
        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "continue";
        }

        @Override
        public String getEndTagName() {
            return null;
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            throw new LoopSignal(false);
        }
    }

    /**
     * {@code for targets in iterable [if condition]} ... [{@code else}] ... {@code endfor}, as jinja2:
     * a mapping iterates its keys, a string its characters, an undefined value nothing; the filter
     * applies before {@code loop} counts; {@code else} renders when nothing was iterated.
     */
    static final class ForTag implements Tag {
        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "for";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            Header h = Header.parse(tagNode.getHelpers(), tagNode.getLineNumber());
            Object seq = interpreter.resolveELExpression(h.iterable, tagNode.getLineNumber());
            List<Object> items = items(seq);
            List<Node> body = new ArrayList<>();
            List<Node> orElse = new ArrayList<>();
            List<Node> target = body;
            for (Node child : tagNode.getChildren()) {
                if (target == body && isMarker(child, ElseTag.class)) {
                    target = orElse;
                    continue;
                }
                target.add(child);
            }
            StringBuilder out = new StringBuilder();
            try (InterpreterScopeClosable c = interpreter.enterScope()) {
                if (h.condition != null) {
                    List<Object> kept = new ArrayList<>();
                    for (Object item : items) {
                        JinjaEngine.tick(interpreter);
                        assign(h.targets, item, interpreter, tagNode.getLineNumber());
                        if (PyValues.truthy(interpreter.resolveELExpression(h.condition, tagNode.getLineNumber()))) {
                            kept.add(item);
                        }
                    }
                    items = kept;
                }
                Loop loop = new Loop(items);
                interpreter.getContext().put("loop", loop);
                for (int i = 0; i < items.size(); i++) {
                    JinjaEngine.tick(interpreter);
                    loop.index0 = i;
                    assign(h.targets, items.get(i), interpreter, tagNode.getLineNumber());
                    try {
                        out.append(renderNodes(body, interpreter));
                    } catch (LoopSignal s) {
                        out.append(s.partial);
                        if (s.isBreak) {
                            break;
                        }
                    }
                    JinjaEngine.checkOutput(out);
                }
            }
            if (items.isEmpty() && !orElse.isEmpty()) {
                out.append(renderNodes(orElse, interpreter));
            }
            return out.toString();
        }

        private static List<Object> items(Object seq) {
            if (seq == null) {
                return List.of();
            }
            if (seq instanceof Map<?, ?> m) {
                return new ArrayList<>(m.keySet());
            }
            if (seq instanceof Collection<?> c) {
                return new ArrayList<>(c);
            }
            if (seq instanceof Object[] arr) {
                return new ArrayList<>(List.of(arr));
            }
            if (seq instanceof CharSequence || seq instanceof com.hubspot.jinjava.objects.SafeString) {
                List<Object> out = new ArrayList<>();
                seq.toString().codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
                return out;
            }
            if (seq instanceof Iterable<?> it) {
                List<Object> out = new ArrayList<>();
                it.forEach(out::add);
                return out;
            }
            throw new JinjaEngine.TemplateFailure("TypeError: '" + PyValues.typeName(seq) + "' object is not iterable",
                    -1);
        }

        private static void assign(List<String> targets, Object item, JinjavaInterpreter interpreter, int line) {
            if (targets.size() == 1) {
                interpreter.getContext().put(targets.get(0), item);
                return;
            }
            List<?> parts;
            if (item instanceof List<?> l) {
                parts = l;
            } else if (item instanceof Map.Entry<?, ?> e) {
                parts = java.util.Arrays.asList(e.getKey(), e.getValue());
            } else if (item instanceof CharSequence cs) {
                List<Object> chars = new ArrayList<>();
                cs.toString().codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
                parts = chars;
            } else {
                throw new JinjaEngine.TemplateFailure("TypeError: cannot unpack non-iterable "
                        + PyValues.typeName(item) + " object", line);
            }
            if (parts.size() != targets.size()) {
                throw new JinjaEngine.TemplateFailure("ValueError: expected " + targets.size()
                        + " values to unpack, got " + parts.size(), line);
            }
            for (int i = 0; i < targets.size(); i++) {
                interpreter.getContext().put(targets.get(i), parts.get(i));
            }
        }

        /** The parsed {@code for} header. */
        record Header(List<String> targets, String iterable, String condition) {
            static Header parse(String helpers, int line) {
                String h = helpers.trim();
                int in = topLevelKeyword(h, "in", 0);
                if (in < 0) {
                    throw new JinjaEngine.TemplateFailure("expected 'in' in for loop: for " + h, line);
                }
                String t = h.substring(0, in).trim();
                if (t.startsWith("(") && t.endsWith(")")) {
                    t = t.substring(1, t.length() - 1);
                }
                List<String> targets = new ArrayList<>();
                for (String part : t.split(",")) {
                    String name = part.trim();
                    if (name.isEmpty()) {
                        continue;
                    }
                    if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                        throw new JinjaEngine.TemplateFailure("cannot assign to '" + name + "' in for loop", line);
                    }
                    targets.add(name);
                }
                if (targets.isEmpty()) {
                    throw new JinjaEngine.TemplateFailure("for loop without a target: for " + h, line);
                }
                String rest = h.substring(in + 2).trim();
                if (topLevelKeyword(rest, "recursive", 0) >= 0) {
                    throw new JinjaEngine.TemplateFailure("recursive for loops are not supported", line);
                }
                int iff = topLevelKeyword(rest, "if", 0);
                if (iff >= 0) {
                    return new Header(targets, rest.substring(0, iff).trim(), rest.substring(iff + 2).trim());
                }
                return new Header(targets, rest, null);
            }

            /** Index of a keyword outside strings and brackets, as a whole word, or -1. */
            static int topLevelKeyword(String s, String kw, int from) {
                int depth = 0;
                for (int i = from; i < s.length(); i++) {
                    char c = s.charAt(i);
                    if (c == '\'' || c == '"') {
                        int j = i + 1;
                        while (j < s.length() && s.charAt(j) != c) {
                            j += s.charAt(j) == '\\' ? 2 : 1;
                        }
                        i = j;
                        continue;
                    }
                    if (c == '(' || c == '[' || c == '{') {
                        depth++;
                    } else if (c == ')' || c == ']' || c == '}') {
                        depth--;
                    } else if (depth == 0 && s.startsWith(kw, i)
                            && (i == 0 || !isIdent(s.charAt(i - 1)))
                            && (i + kw.length() == s.length() || !isIdent(s.charAt(i + kw.length())))) {
                        return i;
                    }
                }
                return -1;
            }

            private static boolean isIdent(char c) {
                return Character.isLetterOrDigit(c) || c == '_';
            }
        }
    }

    /** jinja2's {@code loop} object. */
    public static final class Loop {
        private final List<Object> items;
        int index0;
        private Object[] lastChanged;

        Loop(List<Object> items) {
            this.items = items;
        }

        public int getIndex() {
            return index0 + 1;
        }

        public int getIndex0() {
            return index0;
        }

        public int getRevindex() {
            return items.size() - index0;
        }

        public int getRevindex0() {
            return items.size() - index0 - 1;
        }

        public boolean isFirst() {
            return index0 == 0;
        }

        public boolean isLast() {
            return index0 == items.size() - 1;
        }

        public int getLength() {
            return items.size();
        }

        public int getDepth() {
            return 1;
        }

        public int getDepth0() {
            return 0;
        }

        public Object getPrevitem() {
            return index0 > 0 ? items.get(index0 - 1) : null;
        }

        public Object getNextitem() {
            return index0 + 1 < items.size() ? items.get(index0 + 1) : null;
        }

        public Object cycle(Object... values) {
            if (values.length == 0) {
                throw new JinjaEngine.TemplateFailure("no items for cycling given", -1);
            }
            return values[index0 % values.length];
        }

        public boolean changed(Object... values) {
            if (lastChanged != null && java.util.Arrays.equals(lastChanged, values)) {
                return false;
            }
            lastChanged = values.clone();
            return true;
        }

        @Override
        public String toString() {
            return "<LoopContext " + getIndex() + "/" + getLength() + ">";
        }
    }

    /**
     * transformers' {@code {% generation %}}: renders its body (in its own scope, as a call block) and
     * wraps it in the render's span markers, from which the caller recovers the character spans.
     */
    static final class GenerationTag implements Tag {
        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            String[] markers = JinjaEngine.markers(interpreter);
            try (InterpreterScopeClosable c = interpreter.enterScope()) {
                return markers[0] + renderNodes(tagNode.getChildren(), interpreter) + markers[1];
            } catch (LoopSignal s) {
                s.partial.insert(0, markers[0]).append(markers[1]);
                throw s;
            }
        }
    }
}
