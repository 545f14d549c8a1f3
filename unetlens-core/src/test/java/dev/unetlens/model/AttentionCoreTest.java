package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.check.Arithmetic;
import dev.unetlens.model.check.AttentionCheck;
import dev.unetlens.model.check.Comparison;
import dev.unetlens.model.check.KernelChecks;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The run-time check of attention's core ({@link AttentionCheck}, through {@link AttentionCore}): both kernels pass
 * it thoroughly and in spot checks on heads views of seeded random shapes, a wrong core fails it, and the core's
 * verdicts name the kernel that ran.
 */
class AttentionCoreTest {
    /** Batch, heads, queries, keys, head width, value width — SD's and SDXL's shapes and odd ones. */
    record Case(int b, int n, int t, int s, int d, int dv) {
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>(List.of(new Case(2, 8, 256, 77, 40, 40), new Case(1, 10, 1024, 1024, 64, 64),
                new Case(1, 1, 1, 1, 8, 8), new Case(3, 5, 97, 131, 41, 41), new Case(1, 2, 33, 513, 160, 160)));
        SplittableRandom r = new SplittableRandom(24);
        for (int i = 0; i < 6; i++) {
            int d = 1 + r.nextInt(96);
            c.add(new Case(1 + r.nextInt(3), 1 + r.nextInt(12), 1 + r.nextInt(600), 1 + r.nextInt(600), d, d));
        }
        return c;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void bothKernelsPassTheCheckAndAWrongCoreFailsIt(Case c) {
        try (NDManager m = NDManager.newBaseManager()) {
            Inputs in = Inputs.of(m, c, c.hashCode());
            NDArray q = in.q();
            NDArray k = in.k();
            NDArray v = in.v();
            float scale = in.scale();
            for (AttentionKernel kernel : AttentionKernel.values()) {
                NDArray y = kernel.attend(q, k, v, scale);
                for (boolean thorough : new boolean[] {true, false}) {
                    Comparison r = AttentionCheck.compare(q, k, v, scale, y, thorough, new SplittableRandom(7));
                    assertThat(r.passed()).as("%s %s thorough %s: %s", kernel, c, thorough, r.describe()).isTrue();
                }
            }
            if (c.s() > 1 || c.t() > 1) {
                NDArray wrong = AttentionKernel.SDPA.attend(q, k, v, scale * 1.01f);  // a scale 1 % off
                NDArray shifted = AttentionKernel.EXPLICIT.attend(q, k, v, scale).add(1e-3f);
                for (NDArray y : List.of(wrong, shifted)) {
                    Comparison r = AttentionCheck.compare(q, k, v, scale, y, true, new SplittableRandom(7));
                    assertThat(r.passed()).as("%s: a wrong core, %s", c, r.describe()).isFalse();
                }
            }
        }
    }

    /**
     * The explicit kernel's bf16 way passes the bf16 bound (q, k, v rounded as the kernel takes them, its three bf16
     * roundings) and fails the float32 one (it is not float32 arithmetic). A scale 25 % off (the size of the errors of
     * oneDNN's wrong convolutions, 20–40 %) fails the bf16 bound; one 1 % off would not — bf16's own rounding of the
     * scores (u₁₆·|z| ≈ 0.4 % of each) moves the output as much.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void theBf16WayPassesTheBf16BoundOnly(Case c) {
        try (NDManager m = NDManager.newBaseManager()) {
            Inputs in = Inputs.of(m, c, c.hashCode() + 1);
            NDArray q = in.q();
            NDArray k = in.k();
            NDArray v = in.v();
            float scale = in.scale();
            NDArray y = ChunkedAttention.attend(q, k, v, scale, true);
            for (boolean thorough : new boolean[] {true, false}) {
                Comparison r = AttentionCheck.compare(q, k, v, scale, y, thorough, new SplittableRandom(3), Arithmetic.BFLOAT16);
                assertThat(r.passed()).as("%s thorough %s: %s", c, thorough, r.describe()).isTrue();
            }
            if (c.s() > 1 || c.t() > 1) {
                Comparison asFloat32 = AttentionCheck.compare(q, k, v, scale, y, true, new SplittableRandom(3));
                assertThat(asFloat32.passed()).as("%s against the float32 bound: %s", c, asFloat32.describe()).isFalse();
                NDArray wrong = ChunkedAttention.attend(q, k, v, scale * 1.25f, true);
                Comparison off = AttentionCheck.compare(q, k, v, scale, wrong, true, new SplittableRandom(3), Arithmetic.BFLOAT16);
                assertThat(off.passed()).as("%s: a scale 25 %% off, %s", c, off.describe()).isFalse();
            }
        }
    }

    @Test
    void theCoreRecordsAVerdictPerShapeAndKernel() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray q = heads(m.randomNormal(new Shape(1, 45, 3 * 24)), 3);
            NDArray k = heads(m.randomNormal(new Shape(1, 19, 3 * 24)), 3);
            for (AttentionKernel kernel : AttentionKernel.values()) {
                NDArray y = AttentionCore.attend(kernel, q, k, k, 0.2f, null, false);
                assertThat(y.getShape()).isEqualTo(new Shape(1, 3, 45, 24));
                AttentionCore.Key key = new AttentionCore.Key(q.getShape(), k.getShape(), k.getShape(), kernel, false);
                KernelChecks.Verdict verdict = KernelChecks.verdict(key).orElseThrow();
                assertThat(verdict.op()).isEqualTo("attention");
                assertThat(verdict.path()).isEqualTo(kernel.label());
                assertThat(verdict.comparison().samples()).isPositive();
                NDArray again = AttentionCore.attend(kernel, q, k, k, 0.2f, null, false); // a spot-checked call
                assertThat(again.toFloatArray()).isEqualTo(y.toFloatArray());
            }
        }
    }

    /** A case's seeded random q, k, v as head views, and the usual 1/√D scale. */
    record Inputs(NDArray q, NDArray k, NDArray v, float scale) {
        static Inputs of(NDManager m, Case c, int seed) {
            ai.djl.engine.Engine.getInstance().setRandomSeed(seed);
            return new Inputs(heads(m.randomNormal(new Shape(c.b(), c.t(), c.n() * c.d())), c.n()),
                    heads(m.randomNormal(new Shape(c.b(), c.s(), c.n() * c.d())), c.n()),
                    heads(m.randomNormal(new Shape(c.b(), c.s(), c.n() * c.dv())), c.n()), (float) (1 / Math.sqrt(c.d())));
        }
    }

    /** [B, T, N·D] viewed as [B, N, T, D], as Attention makes its heads. */
    private static NDArray heads(NDArray x, int n) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), n, s.get(2) / n).transpose(0, 2, 1, 3);
    }
}
