package dev.unetlens.analysis.similarity;

import dev.unetlens.UnetlensException;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.DoubleBinaryOperator;

/**
 * The seven measures of the representation similarity explorer (Loos &amp; Linhardt 2025): a reference token a of
 * map A against every token b of map B, with mᴬ, mᴮ the per-channel means over all tokens of A and of B and
 * ε = 10⁻¹⁰.
 * <pre>
 *   cosine           a·b / (‖a‖‖b‖ + ε)
 *   cosine_centered  (a−m)·(b−m) / (‖a−m‖‖b−m‖ + ε),  m = (mᴬ + mᴮ)/2
 *   dot-product      a·b / (max_B |a·b| + ε)
 *   manhattan        1 − d/max_B d,  d = Σ|a−b|
 *   euclidean        1 − d/max_B d,  d = ‖a−b‖₂
 *   chebyshev        1 − d/max_B d,  d = max|a−b|
 *   rel-l2-norm      (‖b‖ − ‖a‖) / (max_B |‖b‖ − ‖a‖| + ε)
 * </pre>
 * The distance measures have no ε: when every token of B equals a (every d = 0) they are 0/0, NaN.
 */
public enum Measure {
    COSINE("cosine", "a·b / (‖a‖‖b‖ + ε)"),
    COSINE_CENTERED("cosine_centered", "(a−m)·(b−m) / (‖a−m‖‖b−m‖ + ε), m = (mean of A's tokens + mean of B's tokens)/2"),
    DOT_PRODUCT("dot-product", "a·b / (max over B of |a·b| + ε)"),
    MANHATTAN("manhattan", "1 − d/max over B of d, d = Σ|a−b|"),
    EUCLIDEAN("euclidean", "1 − d/max over B of d, d = ‖a−b‖₂"),
    CHEBYSHEV("chebyshev", "1 − d/max over B of d, d = max|a−b|"),
    REL_L2_NORM("rel-l2-norm", "(‖b‖ − ‖a‖) / (max over B of |‖b‖ − ‖a‖| + ε)");

    public static final double EPS = 1e-10;

    private final String cliName;
    private final String formula;

    Measure(String cliName, String formula) {
        this.cliName = cliName;
        this.formula = formula;
    }

    /** The explorer's name ({@code cosine_centered}, {@code dot-product}, …). */
    public String cliName() {
        return cliName;
    }

    public String formula() {
        return formula;
    }

    /** By its explorer name (case-insensitive; '_' and '-' alike). */
    public static Measure parse(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Measure m : values()) {
            if (m.cliName.replace('_', '-').equals(n)) {
                return m;
            }
        }
        throw new UnetlensException("unknown measure '" + name + "'; choose " + names());
    }

    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(Measure::cliName).toList());
    }

    /** The measure between token {@code p} of {@code a} and every token of {@code b}: [P_B], row-major. */
    public double[] map(Tokens a, int p, Tokens b) {
        if (a.channels() != b.channels()) {
            throw new UnetlensException("similarity across " + a.channels() + " and " + b.channels() + " channels");
        }
        return switch (this) {
            case COSINE -> cosine(a.token(p), b);
            case COSINE_CENTERED -> {
                double[] ma = a.channelMeans();
                double[] mb = b.channelMeans();
                double[] m = new double[ma.length];
                for (int c = 0; c < m.length; c++) {
                    m[c] = (ma[c] + mb[c]) / 2;
                }
                yield cosine(a.minus(m).token(p), b.minus(m));
            }
            case DOT_PRODUCT -> {
                double[] d = dots(a.token(p), b);
                yield divide(d, maxAbs(d) + EPS);
            }
            case MANHATTAN -> oneMinusRelative(distances(a.token(p), b, (s, x) -> s + Math.abs(x), false));
            case EUCLIDEAN -> oneMinusRelative(distances(a.token(p), b, (s, x) -> s + x * x, true));
            case CHEBYSHEV -> oneMinusRelative(distances(a.token(p), b, (s, x) -> Math.max(s, Math.abs(x)), false));
            case REL_L2_NORM -> {
                double na = norm(a.token(p));
                double[] nb = norms(b);
                double[] d = new double[nb.length];
                for (int q = 0; q < d.length; q++) {
                    d[q] = nb[q] - na;
                }
                yield divide(d, maxAbs(d) + EPS);
            }
        };
    }

    private static double[] cosine(double[] a, Tokens b) {
        double na = norm(a);
        double[] dot = dots(a, b);
        double[] nb = norms(b);
        for (int q = 0; q < dot.length; q++) {
            dot[q] /= na * nb[q] + EPS;
        }
        return dot;
    }

    private static double[] dots(double[] a, Tokens b) {
        int n = b.positions();
        double[] v = b.values();
        double[] out = new double[n];
        for (int c = 0; c < a.length; c++) {
            for (int q = 0; q < n; q++) {
                out[q] += a[c] * v[c * n + q];
            }
        }
        return out;
    }

    private static double[] norms(Tokens b) {
        int n = b.positions();
        double[] v = b.values();
        double[] out = new double[n];
        for (int c = 0; c < b.channels(); c++) {
            for (int q = 0; q < n; q++) {
                out[q] += v[c * n + q] * v[c * n + q];
            }
        }
        for (int q = 0; q < n; q++) {
            out[q] = Math.sqrt(out[q]);
        }
        return out;
    }

    private static double norm(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    /** Per token q of b: fold(fold(…, a₀ − b₀q), a₁ − b₁q) …, then √ for the Euclidean distance. */
    private static double[] distances(double[] a, Tokens b, DoubleBinaryOperator fold, boolean sqrt) {
        int n = b.positions();
        double[] v = b.values();
        double[] out = new double[n];
        for (int c = 0; c < a.length; c++) {
            for (int q = 0; q < n; q++) {
                out[q] = fold.applyAsDouble(out[q], a[c] - v[c * n + q]);
            }
        }
        if (sqrt) {
            for (int q = 0; q < n; q++) {
                out[q] = Math.sqrt(out[q]);
            }
        }
        return out;
    }

    private static double[] oneMinusRelative(double[] d) {
        double max = Arrays.stream(d).max().orElseThrow();
        double[] out = new double[d.length];
        for (int q = 0; q < d.length; q++) {
            out[q] = 1 - d[q] / max;
        }
        return out;
    }

    private static double maxAbs(double[] d) {
        double m = 0;
        for (double x : d) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static double[] divide(double[] d, double by) {
        double[] out = new double[d.length];
        for (int q = 0; q < d.length; q++) {
            out[q] = d[q] / by;
        }
        return out;
    }
}
