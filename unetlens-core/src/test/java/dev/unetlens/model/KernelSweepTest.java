package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.check.Comparison;
import dev.unetlens.model.check.KernelChecks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Trust no kernel: convolutions over a seeded sample of shapes — input and output channels 1–96 and a few up to 1280,
 * maps 1×1 to 64×64, square and not, batch 1–4, kernels 1×1 and 3×3, strides 1 and 2 — plus every shape known to be
 * computed wrongly by some kernel, each checked at every output against float64 loops written here
 * ({@link Reference64}), to the rounding bound of {@link Comparison}. Two claims per shape:
 * <ol>
 *   <li>what {@link Conv2d} returns (the way {@link KernelChecks} chose) is right at every output;</li>
 *   <li>wherever libtorch's own convolution is wrong at any output, the chosen way is not libtorch's.</li>
 * </ol>
 * Whether the sampled checks alone catch a wrong kernel is {@link KernelChecksTest}'s subject.
 * The same for Linear, and, checked directly (no way around them at run time, so a failure here is a finding to act
 * on), GroupNorm and LayerNorm over odd widths, the batched products of attention and both attention kernels
 * ({@link AttentionKernel}: the explicit softmax and torch's fused SDPA). The shapes, paths and how
 * often libtorch's oneDNN was wrong go to {@code target/kernel-sweep.txt}.
 */
class KernelSweepTest {
    /** Java float64 work per case: keeps the sweep to seconds. */
    private static final long MAC_BUDGET = 40_000_000;
    private static final int RANDOM_CASES = 160;
    private static final Map<String, String> REPORT = new ConcurrentHashMap<>();
    private static NDManager weights;

    /** One convolution: batch, Cin, H × W, Cout, k, stride, padding. */
    record ConvCase(int batch, int cin, int h, int w, int cout, int k, int stride, int pad) {
        long macs() {
            long ho = (h + 2L * pad - k) / stride + 1;
            long wo = (w + 2L * pad - k) / stride + 1;
            return batch * cout * ho * wo * (long) cin * k * k;
        }

        @Override
        public String toString() {
            return String.format("b%d %d→%d k%d s%d p%d over %d×%d", batch, cin, cout, k, stride, pad, h, w);
        }
    }

    /** Wrong in libtorch 2.7.1's oneDNN on AVX-512 (Zen 5): Cin over 20 and not a multiple of 16, 3×3; kept always. */
    static List<ConvCase> knownBad() {
        return List.of(
                new ConvCase(1, 24, 32, 32, 24, 3, 1, 1), new ConvCase(1, 40, 32, 32, 40, 3, 1, 1),
                new ConvCase(1, 56, 32, 32, 56, 3, 1, 1), new ConvCase(1, 72, 32, 32, 72, 3, 1, 1),
                new ConvCase(1, 88, 32, 32, 88, 3, 1, 1), new ConvCase(2, 24, 12, 8, 24, 3, 1, 1),
                new ConvCase(1, 25, 32, 32, 25, 3, 1, 1), new ConvCase(1, 28, 32, 32, 28, 3, 1, 1),
                new ConvCase(1, 21, 40, 40, 21, 3, 1, 1), new ConvCase(1, 24, 32, 32, 8, 3, 1, 1),
                new ConvCase(1, 24, 32, 32, 24, 3, 2, 1), new ConvCase(2, 40, 16, 24, 40, 3, 1, 1),
                new ConvCase(1, 56, 16, 24, 40, 3, 1, 1), new ConvCase(2, 24, 1, 1, 24, 3, 1, 1),
                new ConvCase(1, 24, 22, 40, 24, 3, 1, 1), new ConvCase(4, 95, 7, 5, 33, 3, 2, 1),
                new ConvCase(1, 648, 8, 8, 40, 3, 1, 1), new ConvCase(2, 1288, 4, 4, 24, 3, 1, 1));
    }

    /** SD's own shapes at small maps, and big channel counts. */
    static List<ConvCase> large() {
        return List.of(
                new ConvCase(1, 1280, 8, 8, 1280, 3, 1, 1), new ConvCase(2, 2560, 4, 4, 1280, 1, 1, 0),
                new ConvCase(1, 320, 16, 16, 320, 3, 1, 1), new ConvCase(1, 640, 8, 12, 1280, 3, 2, 1),
                new ConvCase(2, 4, 64, 48, 320, 3, 1, 1), new ConvCase(1, 320, 32, 24, 4, 3, 1, 1),
                new ConvCase(1, 512, 8, 8, 512, 3, 1, 1), new ConvCase(1, 128, 40, 24, 128, 3, 1, 1));
    }

    static List<ConvCase> convCases() {
        List<ConvCase> cases = new ArrayList<>(knownBad());
        cases.addAll(large());
        SplittableRandom r = new SplittableRandom(20261202);
        while (cases.size() < knownBad().size() + large().size() + RANDOM_CASES) {
            int k = r.nextBoolean() ? 3 : 1;
            int stride = r.nextInt(4) == 0 ? 2 : 1;
            int pad = k == 3 && r.nextInt(5) > 0 ? 1 : 0;
            int h = 1 + r.nextInt(64);
            int w = r.nextInt(3) == 0 ? h : 1 + r.nextInt(64);
            ConvCase c = new ConvCase(1 + r.nextInt(4), 1 + r.nextInt(96), h, w, 1 + r.nextInt(96), k, stride, pad);
            if (h + 2 * pad >= k && w + 2 * pad >= k && c.macs() <= MAC_BUDGET) {
                cases.add(c);
            }
        }
        return cases;
    }

    @BeforeAll
    static void open() {
        weights = NDManager.newBaseManager();
    }

    @AfterAll
    static void report() throws IOException {
        weights.close();
        Map<String, String> sorted = new TreeMap<>(REPORT);
        StringBuilder sb = new StringBuilder("kernel sweep: " + sorted.size() + " shapes; ONEDNN = libtorch's own kernel\n");
        sorted.forEach((k, v) -> sb.append(k).append(" : ").append(v).append('\n'));
        Path target = Path.of("target");
        if (Files.isDirectory(target)) {
            Files.writeString(target.resolve("kernel-sweep.txt"), sb);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void everyConvolutionOutputIsRight(ConvCase c) {
        try (NDManager m = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(Weights.random(c.hashCode(), weights, "sweep"), "conv", c.cin(), c.cout(), c.k(),
                    c.stride(), c.pad());
            ai.djl.engine.Engine.getInstance().setRandomSeed(c.hashCode());
            NDArray x = m.randomNormal(new Shape(c.batch(), c.cin(), c.h(), c.w()));
            Reference64.Sums exact = Reference64.conv2d(x.toFloatArray(), conv.weight().toFloatArray(),
                    conv.bias().toFloatArray(), c.batch(), c.cin(), c.h(), c.w(), c.cout(), c.k(), c.stride(), c.pad());
            Comparison guarded = exact.compare(conv.forward(x).toFloatArray());
            Comparison libtorch = exact.compare(conv.direct(x).toFloatArray());
            Conv2d.Key key = new Conv2d.Key(x.getShape(), conv.weight().getShape(), c.stride(), c.pad(), c.pad());
            String path = KernelChecks.verdict(key).orElseThrow().path();
            REPORT.put(c.toString(), path + String.format(java.util.Locale.ROOT, " (error at most %.2f of the bound)",
                    guarded.worstRatio()) + (libtorch.passed() ? "" : "; libtorch's own: " + libtorch.describe()));

            assertThat(guarded.passed()).as("%s through %s: %s", c, path, guarded.describe()).isTrue();
            if (!libtorch.passed()) {
                assertThat(path).as("libtorch is wrong for %s (%s), so its way must not be chosen", c,
                        libtorch.describe()).isNotEqualTo(ConvPath.ONEDNN.toString());
            }
        }
    }

    /** One product: rows × in → out. */
    record LinearCase(int rows, int in, int out, boolean bias) {
        @Override
        public String toString() {
            return String.format("linear %d rows × %d → %d%s", rows, in, out, bias ? " + bias" : "");
        }
    }

    static List<LinearCase> linearCases() {
        List<LinearCase> cases = new ArrayList<>(List.of(
                new LinearCase(77, 768, 768, true), new LinearCase(4096, 320, 40, false),
                new LinearCase(64, 1280, 1280, true), new LinearCase(2, 1280, 1280, true),
                new LinearCase(1, 1, 1, false), new LinearCase(154, 1024, 2560, true)));
        SplittableRandom r = new SplittableRandom(1202);
        while (cases.size() < 6 + 60) {
            LinearCase c = new LinearCase(1 + r.nextInt(300), 1 + r.nextInt(96), 1 + r.nextInt(96), r.nextBoolean());
            cases.add(c);
        }
        return cases;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("linearCases")
    void everyLinearOutputIsRight(LinearCase c) {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c.hashCode(), weights, "sweep");
            Linear linear = new Linear(w, "fc", c.in(), c.out(), c.bias());
            ai.djl.engine.Engine.getInstance().setRandomSeed(c.hashCode());
            NDArray x = m.randomNormal(new Shape(c.rows(), c.in()));
            float[] wv = w.taken().get("fc.weight").toFloatArray();
            float[] bv = c.bias() ? w.taken().get("fc.bias").toFloatArray() : null;
            Reference64.Sums exact = Reference64.linear(x.toFloatArray(), wv, bv, c.rows(), c.in(), c.out());
            Comparison got = exact.compare(linear.forward(x).toFloatArray());
            REPORT.put(c.toString(), String.format(java.util.Locale.ROOT, "libtorch (error at most %.2f of the bound)",
                    got.worstRatio()));
            assertThat(got.passed()).as("%s: %s", c, got.describe()).isTrue();
        }
    }

    /** One group norm: batch, channels, groups, H × W. */
    record NormCase(int batch, int channels, int groups, int h, int w) {
        @Override
        public String toString() {
            return String.format("group norm b%d %d channels in %d groups over %d×%d", batch, channels, groups, h, w);
        }
    }

    static List<NormCase> groupNormCases() {
        List<NormCase> cases = new ArrayList<>(List.of(new NormCase(2, 320, 32, 16, 16), new NormCase(1, 24, 8, 16, 24),
                new NormCase(2, 40, 8, 7, 5), new NormCase(1, 56, 8, 1, 1), new NormCase(1, 1280, 32, 8, 8)));
        SplittableRandom r = new SplittableRandom(77);
        while (cases.size() < 5 + 40) {
            int groups = 1 + r.nextInt(8);
            cases.add(new NormCase(1 + r.nextInt(3), groups * (1 + r.nextInt(12)), groups, 1 + r.nextInt(33), 1 + r.nextInt(33)));
        }
        return cases;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("groupNormCases")
    void everyGroupNormOutputIsRight(NormCase c) {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(c.hashCode(), weights, "sweep");
            GroupNorm norm = new GroupNorm(w, "gn", c.groups(), c.channels(), 1e-5);
            ai.djl.engine.Engine.getInstance().setRandomSeed(c.hashCode());
            NDArray x = m.randomNormal(new Shape(c.batch(), c.channels(), c.h(), c.w())).add(1.5f);
            int perGroup = c.channels() / c.groups() * c.h() * c.w();
            int hw = c.h() * c.w();
            int channelsPerGroup = c.channels() / c.groups();
            Reference64.Sums exact = Reference64.norm(x.toFloatArray(), w.taken().get("gn.weight").toFloatArray(),
                    w.taken().get("gn.bias").toFloatArray(), c.batch() * c.groups(), perGroup, 1e-5,
                    (row, t) -> row % c.groups() * channelsPerGroup + t / hw);
            Comparison got = exact.compare(norm.forward(x).toFloatArray());
            assertThat(got.passed()).as("%s: %s", c, got.describe()).isTrue();
        }
    }

    @ParameterizedTest(name = "layer norm over {0}, {1} rows")
    @MethodSource("layerNormCases")
    void everyLayerNormOutputIsRight(int width, int rows) {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(width * 31L + rows, weights, "sweep");
            LayerNorm norm = new LayerNorm(w, "ln", width, 1e-5);
            ai.djl.engine.Engine.getInstance().setRandomSeed(width * 31 + rows);
            NDArray x = m.randomNormal(new Shape(rows, width)).sub(0.7f);
            Reference64.Sums exact = Reference64.norm(x.toFloatArray(), w.taken().get("ln.weight").toFloatArray(),
                    w.taken().get("ln.bias").toFloatArray(), rows, width, 1e-5, (row, t) -> t);
            Comparison got = exact.compare(norm.forward(x).toFloatArray());
            assertThat(got.passed()).as("width %d, %d rows: %s", width, rows, got.describe()).isTrue();
        }
    }

    static List<org.junit.jupiter.params.provider.Arguments> layerNormCases() {
        List<org.junit.jupiter.params.provider.Arguments> cases = new ArrayList<>();
        for (int width : new int[] {1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 40, 63, 65, 96, 320, 768, 1024, 1280}) {
            cases.add(org.junit.jupiter.params.provider.Arguments.of(width, 1 + (width * 37) % 300));
        }
        return cases;
    }

    /** Batched products as attention takes them: [G, M, K] · [G, K, N], the right factor also as a transposed view. */
    @ParameterizedTest(name = "batched product {0}×({1}×{2})·({2}×{3}), transposed view {4}")
    @MethodSource("matmulCases")
    void everyBatchedProductOutputIsRight(int groups, int rows, int inner, int cols, boolean transposed) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] f = factors(m, groups, rows, inner, cols, transposed);
            NDArray a = f[0];
            NDArray b = f[1];
            Reference64.Sums exact = Reference64.matmul(a.toFloatArray(), b.toFloatArray(), groups, rows, inner, cols);
            Comparison got = exact.compare(a.batchMatMul(b).toFloatArray());
            assertThat(got.passed()).as(got.describe()).isTrue();
            Comparison plain = exact.compare(a.matMul(b).toFloatArray());
            assertThat(plain.passed()).as("matMul: " + plain.describe()).isTrue();
        }
    }

    /** Seeded factors of one case: a [G, M, K], b [G, K, N] (a transposed view of [G, N, K] if {@code transposed}). */
    static NDArray[] factors(NDManager m, int groups, int rows, int inner, int cols, boolean transposed) {
        ai.djl.engine.Engine.getInstance().setRandomSeed(groups * 1_000_003 + rows * 1009 + inner * 31 + cols);
        NDArray a = m.randomNormal(new Shape(groups, rows, inner));
        NDArray b = transposed ? m.randomNormal(new Shape(groups, cols, inner)).transpose(0, 2, 1)
                : m.randomNormal(new Shape(groups, inner, cols));
        return new NDArray[] {a, b};
    }

    static List<org.junit.jupiter.params.provider.Arguments> matmulCases() {
        List<org.junit.jupiter.params.provider.Arguments> cases = new ArrayList<>(List.of(
                org.junit.jupiter.params.provider.Arguments.of(16, 256, 40, 256, true),
                org.junit.jupiter.params.provider.Arguments.of(16, 256, 256, 40, false),
                org.junit.jupiter.params.provider.Arguments.of(8, 64, 160, 77, true),
                org.junit.jupiter.params.provider.Arguments.of(2, 77, 64, 77, true)));
        SplittableRandom r = new SplittableRandom(4242);
        while (cases.size() < 4 + 40) {
            cases.add(org.junit.jupiter.params.provider.Arguments.of(1 + r.nextInt(8), 1 + r.nextInt(96),
                    1 + r.nextInt(96), 1 + r.nextInt(96), r.nextBoolean()));
        }
        return cases;
    }

    /** One attention core: batch, heads, queries T, keys S, head width D, and a factor on q (peaked softmax). */
    record AttentionCase(int batch, int heads, int t, int s, int d, float sharpness) {
        long macs() {
            return 2L * batch * heads * t * s * d;
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "attention %d×%d heads, %d queries × %d keys, D %d, q×%.0f",
                    batch, heads, t, s, d, sharpness);
        }
    }

    /**
     * Head widths of SD 1.x/2.x/XL and the VAE's neighbours (8, 40, 41, 64, 72, 80, 160), odd query and key counts
     * that are not multiples of a flash kernel's blocks (32, 64, 256, 512) — some over 768 queries and 512 keys, where
     * libtorch's kernel uses its largest blocks — batch × heads 1 to 20, keys ≠ queries (77 text tokens, a single key).
     */
    static List<AttentionCase> attentionCases() {
        List<AttentionCase> cases = new ArrayList<>(List.of(
                new AttentionCase(1, 1, 1, 1, 8, 1), new AttentionCase(2, 8, 193, 77, 40, 1),
                new AttentionCase(1, 20, 65, 65, 64, 1), new AttentionCase(1, 1, 777, 1031, 40, 1),
                new AttentionCase(3, 5, 257, 1, 80, 1), new AttentionCase(1, 2, 33, 513, 160, 1),
                new AttentionCase(2, 5, 129, 131, 41, 4), new AttentionCase(1, 10, 97, 77, 72, 1),
                new AttentionCase(1, 1, 769, 63, 512, 1), new AttentionCase(2, 1, 31, 4099, 8, 3)));
        int[] widths = {8, 40, 41, 64, 72, 80, 160};
        SplittableRandom r = new SplittableRandom(2415);
        while (cases.size() < 10 + 30) {
            int batch = 1 + r.nextInt(2);
            AttentionCase c = new AttentionCase(batch, 1 + r.nextInt(20 / batch), 1 + 2 * r.nextInt(400),
                    r.nextInt(4) == 0 ? 77 : 1 + 2 * r.nextInt(700), widths[r.nextInt(widths.length)], 1 + r.nextInt(3));
            if (c.macs() <= 2 * MAC_BUDGET) {
                cases.add(c);
            }
        }
        return cases;
    }

    /**
     * The bound is tight enough to matter: the fused kernel given a scale 0.1 % off (the error of a kernel that
     * rounded the scale to 10 bits, or mis-scaled one block) is outside it.
     */
    @org.junit.jupiter.api.Test
    void theAttentionBoundCatchesAScaleOffByAThousandth() {
        AttentionCase c = new AttentionCase(2, 8, 193, 77, 40, 1);
        try (NDManager m = NDManager.newBaseManager()) {
            ai.djl.engine.Engine.getInstance().setRandomSeed(c.hashCode());
            NDArray q = m.randomNormal(new Shape(c.batch(), c.t(), c.heads(), c.d()));
            NDArray k = m.randomNormal(new Shape(c.batch(), c.s(), c.heads(), c.d()));
            NDArray v = m.randomNormal(new Shape(c.batch(), c.s(), c.heads(), c.d()));
            float scale = (float) (1 / Math.sqrt(c.d()));
            Reference64.Bounded exact = exactAttention(c, q, k, v, scale);
            NDArray off = AttentionKernel.SDPA.attend(q.transpose(0, 2, 1, 3), k.transpose(0, 2, 1, 3),
                    v.transpose(0, 2, 1, 3), scale * 1.001f);
            assertThat(exact.worst(off.toFloatArray())[0]).isGreaterThan(1.0);
        }
    }

    private static Reference64.Bounded exactAttention(AttentionCase c, NDArray q, NDArray k, NDArray v, float scale) {
        int n = c.heads();
        int d = c.d();
        return Reference64.attention(q.toFloatArray(), k.toFloatArray(), v.toFloatArray(), c.batch() * n, c.t(), c.s(),
                d, scale, (g, t) -> ((g / n * c.t() + t) * n + g % n) * d, (g, s) -> ((g / n * c.s() + s) * n + g % n) * d);
    }

    /**
     * Both attention kernels at every output against float64 loops ({@link Reference64#attention}, where the bound
     * is derived), on q, k, v as {@link Attention} makes them: [B, T, N·D] viewed as [B, N, T, D].
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("attentionCases")
    void everyAttentionOutputIsRight(AttentionCase c) {
        try (NDManager m = NDManager.newBaseManager()) {
            ai.djl.engine.Engine.getInstance().setRandomSeed(c.hashCode());
            NDArray q = m.randomNormal(new Shape(c.batch(), c.t(), c.heads(), c.d())).mul(c.sharpness()); // [B, T, N, D]
            NDArray k = m.randomNormal(new Shape(c.batch(), c.s(), c.heads(), c.d()));                    // [B, S, N, D]
            NDArray v = m.randomNormal(new Shape(c.batch(), c.s(), c.heads(), c.d()));
            float scale = (float) (1 / Math.sqrt(c.d()));
            Reference64.Bounded exact = exactAttention(c, q, k, v, scale);
            StringBuilder report = new StringBuilder();
            for (AttentionKernel kernel : AttentionKernel.values()) {
                NDArray o = kernel.attend(q.transpose(0, 2, 1, 3), k.transpose(0, 2, 1, 3), v.transpose(0, 2, 1, 3), scale);
                assertThat(o.getShape()).isEqualTo(new Shape(c.batch(), c.heads(), c.t(), c.d()));
                double[] worst = exact.worst(o.toFloatArray());
                report.append(String.format(java.util.Locale.ROOT, "%s %.3f of the bound; ", kernel.label(), worst[0]));
                assertThat(worst[0]).as("%s, %s kernel: |error| / bound at flat index %d", c, kernel.label(),
                        (long) worst[1]).isLessThanOrEqualTo(1.0);
            }
            REPORT.put(c.toString(), report.toString());
        }
    }
}
