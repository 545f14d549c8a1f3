package dev.unetlens.rng;

/**
 * One lane of torch's AVX2 {@code log256_ps} and {@code sincos256_ps} ({@code aten/src/ATen/native/cpu/avx_mathfun.h},
 * Giovanni Garberoglio's AVX port of Julien Pommier's {@code sse_mathfun.h}, itself the Cephes {@code logf} /
 * {@code sinf} / {@code cosf}), the functions torch's vectorised normal sampler {@code normal_fill_16_AVX2} calls.
 *
 * <p>They are polynomial approximations, not libm: their results differ from correctly rounded {@code log},
 * {@code sin}, {@code cos} in the last bit for a good share of inputs, so bit-exact {@code torch.randn} needs them
 * as written, operation by operation in float32. torch's x86-64 wheels and libtorch builds compile this file with
 * FMA enabled and GCC's default {@code -ffp-contract=fast}, which fuses a multiply into the add that consumes it;
 * where a step below is a {@link Math#fma}, the compiled kernel has a fused multiply-add there. Which operand pair
 * is fused was pinned down against the golden {@code torch_rng/} fixtures (all 3 × 1024 values bit-exact only with
 * exactly these fusions; a plain mul-then-add in {@code log} or in the cosine polynomial gives 2–11 mismatches).
 */
final class AvxMathFun {
    private static final float SQRTHF = 0.707106781186547524f;
    private static final float[] LOG_P = {
        7.0376836292E-2f, -1.1514610310E-1f, 1.1676998740E-1f, -1.2420140846E-1f, 1.4249322787E-1f,
        -1.6668057665E-1f, 2.0000714765E-1f, -2.4999993993E-1f, 3.3333331174E-1f};
    private static final float LOG_Q1 = -2.12194440e-4f;
    private static final float LOG_Q2 = 0.693359375f;

    private static final float FOPI = 1.27323954473516f; // 4 / π
    private static final float MINUS_DP1 = -0.78515625f;
    private static final float MINUS_DP2 = -2.4187564849853515625e-4f;
    private static final float MINUS_DP3 = -3.77489497744594108e-8f;
    private static final float SINCOF_P0 = -1.9515295891E-4f;
    private static final float SINCOF_P1 = 8.3321608736E-3f;
    private static final float SINCOF_P2 = -1.6666654611E-1f;
    private static final float COSCOF_P0 = 2.443315711809948E-005f;
    private static final float COSCOF_P1 = -1.388731625493765E-003f;
    private static final float COSCOF_P2 = 4.166664568298827E-002f;
    private static final int SIGN = 0x80000000;

    private AvxMathFun() {
    }

    /** {@code log256_ps} for one lane: natural log, NaN for x ≤ 0. */
    static float log(float x) {
        if (!(x > 0)) {
            return Float.NaN;                               // invalid_mask
        }
        x = Math.max(x, Float.MIN_NORMAL);                  // cut off denormals
        int bits = Float.floatToRawIntBits(x);
        float e = (float) ((bits >>> 23) - 0x7f);
        e = e + 1f;
        x = Float.intBitsToFloat((bits & ~0x7f800000) | Float.floatToRawIntBits(0.5f)); // mantissa in [0.5, 1)
        // if (x < SQRTHF) { e -= 1; x = x + x - 1 } else { x = x - 1 }
        boolean small = x < SQRTHF;
        float tmp = small ? x : 0f;
        x = x - 1f;
        e = e - (small ? 1f : 0f);
        x = x + tmp;
        float z = x * x;
        float y = LOG_P[0];
        for (int i = 1; i < LOG_P.length; i++) {
            y = Math.fma(y, x, LOG_P[i]);
        }
        y = y * x;
        y = Math.fma(y, z, e * LOG_Q1);                     // y·z + e·q1, the y·z product fused
        y = Math.fma(-z, 0.5f, y);                          // y − z·0.5
        x = x + y;
        return Math.fma(e, LOG_Q2, x);                      // x + e·q2
    }

    /**
     * {@code sincos256_ps} for one lane: writes sin(x) to {@code out[0]} and cos(x) to {@code out[1]}. Accurate for
     * |x| < 8192 (the sampler passes θ ∈ [0, 2π)).
     */
    static void sincos(float x, float[] out) {
        int signSin = Float.floatToRawIntBits(x) & SIGN;
        x = Math.abs(x);
        // j = (int(x·4/π) + 1) & ~1; y = j
        int j = (int) (x * FOPI);
        j = (j + 1) & ~1;
        float y = j;
        int swapSignSin = (j & 4) << 29;
        boolean polyMask = (j & 2) == 0;
        // extended precision modular arithmetic: x = ((x − y·DP1) − y·DP2) − y·DP3
        x = Math.fma(y, MINUS_DP1, x);
        x = Math.fma(y, MINUS_DP2, x);
        x = Math.fma(y, MINUS_DP3, x);
        int signCos = (~(j - 2) & 4) << 29;
        signSin ^= swapSignSin;

        float z = x * x;
        float c = Math.fma(COSCOF_P0, z, COSCOF_P1);        // cosine polynomial, 0 ≤ x ≤ π/4
        c = Math.fma(c, z, COSCOF_P2);
        c = c * z;
        c = Math.fma(c, z, -(z * 0.5f));                    // c·z − z·0.5, the c·z product fused
        c = c + 1f;

        float s = Math.fma(SINCOF_P0, z, SINCOF_P1);        // sine polynomial
        s = Math.fma(s, z, SINCOF_P2);
        s = s * z;
        s = Math.fma(s, x, x);

        // select with the polynomial mask, literally as the vector code does (so signed zeros come out the same)
        float ysin2 = polyMask ? s : 0f;
        float ysin1 = polyMask ? 0f : c;
        s = s - ysin2;
        c = c - ysin1;
        float sin = ysin1 + ysin2;
        float cos = c + s;
        out[0] = Float.intBitsToFloat(Float.floatToRawIntBits(sin) ^ signSin);
        out[1] = Float.intBitsToFloat(Float.floatToRawIntBits(cos) ^ signCos);
    }
}
