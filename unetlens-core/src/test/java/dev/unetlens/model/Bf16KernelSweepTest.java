package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.check.Arithmetic;
import dev.unetlens.model.check.Comparison;
import dev.unetlens.model.check.KernelChecks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Trust no kernel, in bf16: the bf16 ways of {@link Conv2d}, {@link Linear} and attention's batched products
 * ({@link ChunkedAttention}) over the shapes of {@link KernelSweepTest} (its known-bad and large convolutions and the
 * first {@value #RANDOM_CONVS} of its random ones, all its products), each checked at every output against float64
 * loops ({@link Reference64}) over the inputs the kernel really computed with — the float32 inputs rounded to bf16,
 * as torch rounds them — to the bound of {@link Arithmetic#BFLOAT16}.
 *
 * <p>The bound, derived in {@link Arithmetic}: products of two bf16 numbers are exact in float32, the kernel
 * accumulates K of them in float32 (Higham–Mary: λ·√(K+1)·2⁻²⁴·Σ|tᵢ|, λ = 8), and rounds to bf16 once at its output
 * and possibly once before adding a bias (2⁻⁸·(2|s| + |b|)); (1 + 2⁻⁷) covers the second-order terms. A kernel that
 * accumulated in bf16, or read memory it never wrote, is far beyond it. Claims per shape, as in the fp32 sweep: what
 * the module returns is right at every output (to the bf16 bound where the bf16 way was chosen, to the float32 bound
 * of the unrounded inputs where it fell back), and where libtorch's bf16 kernel is wrong anywhere, it was not chosen.
 */
class Bf16KernelSweepTest {
    private static final int RANDOM_CONVS = 24;
    private static final Arithmetic BF16 = Arithmetic.BFLOAT16;
    private static NDManager weights;

    @BeforeAll
    static void open() {
        weights = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        weights.close();
    }

    static List<KernelSweepTest.ConvCase> convCases() {
        List<KernelSweepTest.ConvCase> all = KernelSweepTest.convCases();
        int fixed = KernelSweepTest.knownBad().size() + KernelSweepTest.large().size();
        return new ArrayList<>(all.subList(0, Math.min(all.size(), fixed + RANDOM_CONVS)));
    }

    @ParameterizedTest(name = "bf16 {0}")
    @MethodSource("convCases")
    void everyBf16ConvolutionOutputIsRight(KernelSweepTest.ConvCase c) {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c.hashCode(), weights, "sweep").precision(Precision.BF16);
            Conv2d conv = new Conv2d(w, "conv", c.cin(), c.cout(), c.k(), c.stride(), c.pad());
            ai.djl.engine.Engine.getInstance().setRandomSeed(c.hashCode());
            NDArray x = m.randomNormal(new Shape(c.batch(), c.cin(), c.h(), c.w()));
            float[] xv = x.toFloatArray();
            float[] wv = conv.weight().toFloatArray();
            float[] bv = conv.bias().toFloatArray();
            float[] rounded = BF16.inputs(bv);
            Reference64.Sums exact = Reference64.conv2d(BF16.inputs(xv), BF16.inputs(wv), rounded, c.batch(), c.cin(),
                    c.h(), c.w(), c.cout(), c.k(), c.stride(), c.pad());
            long ho = (c.h() + 2L * c.pad() - c.k()) / c.stride() + 1;
            long wo = (c.w() + 2L * c.pad() - c.k()) / c.stride() + 1;
            java.util.function.IntToDoubleFunction bias = i -> rounded[(int) (i / (ho * wo) % c.cout())];

            float[] got = conv.forward(x).toFloatArray();
            Conv2d.Key key = new Conv2d.Key(x.getShape(), conv.weight().getShape(), c.stride(), c.pad(), c.pad(), true);
            String path = KernelChecks.verdict(key).orElseThrow().path();
            Comparison guarded = path.equals(ConvPath.BF16.toString()) ? exact.compare(got, BF16, bias)
                    : Reference64.conv2d(xv, wv, bv, c.batch(), c.cin(), c.h(), c.w(), c.cout(), c.k(), c.stride(),
                            c.pad()).compare(got);
            assertThat(guarded.passed()).as("%s through %s: %s", c, path, guarded.describe()).isTrue();
            System.out.printf(java.util.Locale.ROOT, "bf16 sweep %s: %s, error at most %.2f of the bound%n", c, path,
                    guarded.worstRatio());
            Comparison libtorch = exact.compare(conv.directBf16(x).toFloatArray(), BF16, bias);
            if (!libtorch.passed()) {
                assertThat(path).as("libtorch's bf16 convolution is wrong for %s (%s), so it must not be chosen", c,
                        libtorch.describe()).isNotEqualTo(ConvPath.BF16.toString());
            }
        }
    }

    static List<KernelSweepTest.LinearCase> linearCases() {
        return KernelSweepTest.linearCases();
    }

    @ParameterizedTest(name = "bf16 {0}")
    @MethodSource("linearCases")
    void everyBf16LinearOutputIsRight(KernelSweepTest.LinearCase c) {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c.hashCode(), weights, "sweep").precision(Precision.BF16);
            Linear linear = new Linear(w, "fc", c.in(), c.out(), c.bias());
            ai.djl.engine.Engine.getInstance().setRandomSeed(c.hashCode());
            NDArray x = m.randomNormal(new Shape(c.rows(), c.in()));
            float[] wv = BF16.inputs(w.taken().get("fc.weight").toFloatArray());
            float[] bv = c.bias() ? BF16.inputs(w.taken().get("fc.bias").toFloatArray()) : null;
            Reference64.Sums exact = Reference64.linear(BF16.inputs(x.toFloatArray()), wv, bv, c.rows(), c.in(), c.out());
            float[] got = linear.forward(x).toFloatArray();
            Comparison result = exact.compare(got, BF16, i -> bv == null ? 0 : bv[i % c.out()]);
            assertThat(KernelChecks.verdicts()).as("%s: the bf16 way was chosen", c).anySatisfy(v -> {
                assertThat(v.shape()).isEqualTo(new Linear.Key(x.getShape(), new Shape(c.out(), c.in()), c.bias(), true).toString());
                assertThat(v.path()).isEqualTo("bf16");
            });
            assertThat(result.passed()).as("%s: %s", c, result.describe()).isTrue();
        }
    }

    static List<org.junit.jupiter.params.provider.Arguments> matmulCases() {
        return KernelSweepTest.matmulCases();
    }

    /** Attention's two products as {@link ChunkedAttention} takes them in bf16: factors cast, product widened. */
    @ParameterizedTest(name = "bf16 batched product {0}×({1}×{2})·({2}×{3}), transposed view {4}")
    @MethodSource("matmulCases")
    void everyBf16BatchedProductOutputIsRight(int groups, int rows, int inner, int cols, boolean transposed) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] f = KernelSweepTest.factors(m, groups, rows, inner, cols, transposed);
            NDArray a = f[0];
            NDArray b = f[1];
            Reference64.Sums exact = Reference64.matmul(BF16.inputs(a.toFloatArray()), BF16.inputs(b.toFloatArray()),
                    groups, rows, inner, cols);
            NDArray product = Bf16.widen(Bf16.of(a).batchMatMul(Bf16.of(b)));
            Comparison got = exact.compare(product.toFloatArray(), BF16, i -> 0);
            assertThat(got.passed()).as(got.describe()).isTrue();
        }
    }
}
