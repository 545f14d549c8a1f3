package dev.unetlens.viz.expr;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * A per-pixel colour expression of the value {@code v}, as Dump U-Net's "Custom" colorization takes for R, G, B or
 * H, S, L — but in a small grammar of our own that is parsed, never evaluated as code:
 * <pre>
 *   expr    := product (('+' | '-') product)*
 *   product := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | atom
 *   atom    := NUMBER | 'v' | 'pi' | NAME '(' expr (',' expr)* ')' | '(' expr ')'
 *   NUMBER  := digits ['.' digits] [('e' | 'E') ['+' | '-'] digits]   (or '.' digits)
 * </pre>
 * Functions: {@code abs sin cos exp log sqrt sigmoid} (one argument; {@code log} is natural, {@code sigmoid(x)} =
 * 1/(1+e^−x)), {@code pow(x, y)}, {@code clip(x, lo, hi)}, and {@code min}/{@code max} of two or more arguments,
 * element-wise (unlike numpy's reductions of the same name). The typographic {@code − × ÷} read as {@code - * /}.
 * Arithmetic is IEEE double: division by zero gives ±∞ or NaN, which the colorizer clips or draws black.
 *
 * <p>A Dump U-Net expression that uses only these ({@code (2+v)/3}, {@code abs(v)}, {@code 1.0}) means the same
 * here; {@code v**2} and {@code np.abs(v)} are refused with a pointer to the column and the spelling we take.
 */
public final class Expression {
    private static final Map<String, DoubleUnaryOperator> UNARY = Map.of(
            "abs", Math::abs, "sin", Math::sin, "cos", Math::cos, "exp", Math::exp, "log", Math::log,
            "sqrt", Math::sqrt, "sigmoid", x -> 1.0 / (1.0 + Math.exp(-x)));
    private static final List<String> FUNCTIONS =
            List.of("abs", "clip", "cos", "exp", "log", "max", "min", "pow", "sigmoid", "sin", "sqrt");

    private final String source;
    private final Node root;

    private Expression(String source, Node root) {
        this.source = source;
        this.root = root;
    }

    /** Parses {@code text}; throws {@link ExpressionException} naming the column of the first problem. */
    public static Expression parse(String text) {
        Parser p = new Parser(text);
        Node n = p.parse();
        return new Expression(text, n);
    }

    /** The value of the expression at {@code v}. */
    public double eval(double v) {
        return root.eval(v);
    }

    /** Whether the expression uses {@code v} at all (a constant such as {@code 1.0} does not). */
    public boolean isConstant() {
        return root.constant();
    }

    /** The text as given. */
    public String source() {
        return source;
    }

    @Override
    public String toString() {
        return source;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Expression e && e.source.equals(source);
    }

    @Override
    public int hashCode() {
        return source.hashCode();
    }

    /** A node of the parsed tree. */
    private sealed interface Node {
        double eval(double v);

        boolean constant();
    }

    private record Num(double value) implements Node {
        public double eval(double v) {
            return value;
        }

        public boolean constant() {
            return true;
        }
    }

    private record Var() implements Node {
        public double eval(double v) {
            return v;
        }

        public boolean constant() {
            return false;
        }
    }

    private record Neg(Node x) implements Node {
        public double eval(double v) {
            return -x.eval(v);
        }

        public boolean constant() {
            return x.constant();
        }
    }

    private record Binary(DoubleBinaryOperator op, Node a, Node b) implements Node {
        public double eval(double v) {
            return op.applyAsDouble(a.eval(v), b.eval(v));
        }

        public boolean constant() {
            return a.constant() && b.constant();
        }
    }

    private record Unary(DoubleUnaryOperator f, Node x) implements Node {
        public double eval(double v) {
            return f.applyAsDouble(x.eval(v));
        }

        public boolean constant() {
            return x.constant();
        }
    }

    /** min or max over two or more arguments; NaN if any argument is NaN (as numpy's minimum/maximum). */
    private record Extreme(boolean max, List<Node> args) implements Node {
        public double eval(double v) {
            double r = args.getFirst().eval(v);
            for (int i = 1; i < args.size(); i++) {
                double x = args.get(i).eval(v);
                r = max ? Math.max(r, x) : Math.min(r, x);
            }
            return r;
        }

        public boolean constant() {
            return args.stream().allMatch(Node::constant);
        }
    }

    /** clip(x, lo, hi) = min(max(x, lo), hi), as numpy.clip. */
    private record Clip(Node x, Node lo, Node hi) implements Node {
        public double eval(double v) {
            return Math.min(Math.max(x.eval(v), lo.eval(v)), hi.eval(v));
        }

        public boolean constant() {
            return x.constant() && lo.constant() && hi.constant();
        }
    }

    /** Recursive descent over the characters; positions are 0-based inside, columns 1-based in messages. */
    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        Node parse() {
            skipSpace();
            if (pos == s.length()) {
                throw error(pos, "empty expression; write a number or a formula of v, e.g. (2+v)/3");
            }
            Node n = sum();
            skipSpace();
            if (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ')') {
                    throw error(pos, "')' without a matching '('");
                }
                throw error(pos, "unexpected '" + c + "' after a complete expression");
            }
            return n;
        }

        private Node sum() {
            Node n = product();
            while (true) {
                skipSpace();
                char c = peek();
                if (c == '+') {
                    pos++;
                    n = new Binary(Double::sum, n, product());
                } else if (c == '-' || c == '−') {
                    pos++;
                    n = new Binary((a, b) -> a - b, n, product());
                } else {
                    return n;
                }
            }
        }

        private Node product() {
            Node n = unary();
            while (true) {
                skipSpace();
                char c = peek();
                if (c == '*' || c == '×') {
                    if (c == '*' && pos + 1 < s.length() && s.charAt(pos + 1) == '*') {
                        throw error(pos, "'**' is not an operator here; write a power as pow(x, y)");
                    }
                    pos++;
                    n = new Binary((a, b) -> a * b, n, unary());
                } else if (c == '/' || c == '÷') {
                    pos++;
                    n = new Binary((a, b) -> a / b, n, unary());
                } else if (c == '^') {
                    throw error(pos, "'^' is not an operator here; write a power as pow(x, y)");
                } else {
                    return n;
                }
            }
        }

        private Node unary() {
            skipSpace();
            char c = peek();
            if (c == '-' || c == '−') {
                pos++;
                return new Neg(unary());
            }
            if (c == '+') {
                pos++;
                return unary();
            }
            return atom();
        }

        private Node atom() {
            skipSpace();
            if (pos == s.length()) {
                throw error(pos, "expression ends where a number, v, a function or '(' is expected");
            }
            char c = s.charAt(pos);
            if (c == '(') {
                int open = pos++;
                Node n = sum();
                skipSpace();
                if (peek() != ')') {
                    throw pos == s.length() ? error(open, "'(' is never closed")
                            : error(pos, "expected ')' but found '" + s.charAt(pos) + "'");
                }
                pos++;
                return n;
            }
            if (Character.isDigit(c) || c == '.') {
                return number();
            }
            if (Character.isLetter(c) || c == '_') {
                return name();
            }
            throw error(pos, "unexpected '" + c + "'; expected a number, v, a function or '('");
        }

        private Node number() {
            int start = pos;
            int digits = 0;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                pos++;
                digits++;
            }
            if (peek() == '.') {
                pos++;
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                    pos++;
                    digits++;
                }
            }
            if (digits == 0) {
                throw error(start, "'.' is not a number; write 0.5 or .5");
            }
            if (peek() == 'e' || peek() == 'E') {
                int e = pos++;
                if (peek() == '+' || peek() == '-') {
                    pos++;
                }
                int expDigits = 0;
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                    pos++;
                    expDigits++;
                }
                if (expDigits == 0) {
                    throw error(e, "exponent needs digits, e.g. 1e-3");
                }
            }
            if (pos < s.length() && (Character.isLetter(s.charAt(pos)) || s.charAt(pos) == '_')) {
                throw error(pos, "a name cannot follow a number directly; write 2*v, not 2v");
            }
            return new Num(Double.parseDouble(s.substring(start, pos)));
        }

        private Node name() {
            int start = pos;
            while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
                pos++;
            }
            String name = s.substring(start, pos);
            skipSpace();
            if (peek() == '.' && pos + 1 < s.length() && Character.isLetter(s.charAt(pos + 1))) {
                throw error(start, "'" + name + ".' — there are no modules here; write abs(v), not np.abs(v)");
            }
            if (peek() != '(') {
                return switch (name) {
                    case "v" -> new Var();
                    case "pi" -> new Num(Math.PI);
                    default -> throw error(start, FUNCTIONS.contains(name)
                            ? name + " is a function; call it as " + name + "(...)"
                            : "unknown name '" + name + "'; the value is v, the constant pi, the functions "
                                    + String.join(", ", FUNCTIONS));
                };
            }
            if (!FUNCTIONS.contains(name)) {
                throw error(start, "unknown function '" + name + "'; known: " + String.join(", ", FUNCTIONS));
            }
            pos++;   // '('
            List<Node> args = new ArrayList<>();
            skipSpace();
            if (peek() == ')') {
                throw error(pos, name + " needs " + arity(name));
            }
            while (true) {
                args.add(sum());
                skipSpace();
                char c = peek();
                if (c == ',') {
                    pos++;
                } else if (c == ')') {
                    pos++;
                    break;
                } else if (pos == s.length()) {
                    throw error(pos, name + "( is never closed; expected ',' or ')'");
                } else {
                    throw error(pos, "expected ',' or ')' in the arguments of " + name + ", found '" + c + "'");
                }
            }
            return call(name, args, start);
        }

        private Node call(String name, List<Node> args, int at) {
            int n = args.size();
            switch (name) {
                case "pow" -> {
                    check(name, n == 2, at);
                    return new Binary(Math::pow, args.get(0), args.get(1));
                }
                case "clip" -> {
                    check(name, n == 3, at);
                    return new Clip(args.get(0), args.get(1), args.get(2));
                }
                case "min", "max" -> {
                    check(name, n >= 2, at);
                    return new Extreme(name.equals("max"), List.copyOf(args));
                }
                default -> {
                    check(name, n == 1, at);
                    return new Unary(UNARY.get(name), args.getFirst());
                }
            }
        }

        private void check(String name, boolean ok, int at) {
            if (!ok) {
                throw error(at, name + " takes " + arity(name));
            }
        }

        private static String arity(String name) {
            return switch (name) {
                case "pow" -> "2 arguments: pow(x, y)";
                case "clip" -> "3 arguments: clip(x, lo, hi)";
                case "min", "max" -> "2 or more arguments: " + name + "(a, b, ...)";
                default -> "1 argument: " + name + "(x)";
            };
        }

        private char peek() {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private ExpressionException error(int at, String problem) {
            return new ExpressionException(s, at + 1, problem);
        }
    }
}
