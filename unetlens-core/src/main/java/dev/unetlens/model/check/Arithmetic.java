package dev.unetlens.model.check;

import dev.unetlens.convert.Casts;

/**
 * The arithmetic a kernel was asked to do, and so what its inputs really are and what rounding bound a correct
 * result keeps ({@link Comparison.Tally}).
 *
 * <p>{@link #FLOAT32}: inputs as given, sums of K products accumulated in float32 in any order: error within
 * λ·√(K+1)·u·Σ|tᵢ| + u·|y| (Higham–Mary, probabilistic, λ = {@value Comparison#LAMBDA}; u = 2⁻²⁴).
 *
 * <p>{@link #BFLOAT16}: the kernel's inputs are the float32 ones rounded to bfloat16 (to nearest, ties to even, as
 * torch's cast), so the exact sums are taken over those rounded values ({@link #inputs}) — the check is of the
 * kernel, not of the rounding the path chose. A product of two bf16 numbers (8-bit significands) has at most 16
 * significant bits and is exact in float32; oneDNN's and ATen's bf16 kernels accumulate in float32 (AVX512_BF16's
 * {@code vdpbf16ps}), which adds the float32 term above; the result is then rounded once to bf16 (p = 8, unit roundoff
 * u₁₆ = 2⁻⁸) when the kernel writes its bf16 output: |y − ŝ| ≤ u₁₆·|ŝ| ≤ u₁₆·(|s| + |ŝ − s|). A bias b may be
 * added after a first rounding: ATen's bf16 {@code addmm} (a linear layer with bias) writes the product p = s − b
 * to bf16 and then adds b, rounding again, which costs u₁₆·|p| ≤ u₁₆·(|s| + |b|) more — at an output where p and b
 * cancel, many times u₁₆·|s| (measured: 7.5× the bound without this term, on the golden tiny U-Net's GEGLU output
 * layer). So, with the second-order terms taken generously:
 * |y − s| ≤ (λ·√(K+1)·u·Σ|tᵢ| + u₁₆·(2·|s| + |b|))·(1 + 2u₁₆). A kernel that accumulated in bf16 would be off by
 * about √K·u₁₆·Σ|tᵢ|, 2¹⁶ times the first term and √K times the second at outputs of typical size, and fails; a
 * wrong kernel (20–40 % off) fails by far more.
 */
public enum Arithmetic {
    FLOAT32, BFLOAT16;

    /** Unit roundoff of bfloat16's 8-bit significand. */
    static final double U_BF16 = 0x1p-8;

    /** What the kernel computes with: {@code values} itself (float32) or a copy rounded to bfloat16. */
    public float[] inputs(float[] values) {
        if (this == FLOAT32) {
            return values;
        }
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = round(values[i]);
        }
        return out;
    }

    /** {@code f} rounded to bfloat16 as torch rounds it, as a float (exact). */
    public static float round(float f) {
        return Float.intBitsToFloat(Casts.bfloat16(f) << 16);
    }

    /**
     * The bound on |result − exact| of a correct kernel: the exact sum, Σ|terms|, the number of terms, and the bias
     * (the term added after the products; 0 if none).
     */
    double bound(double exact, double absSum, long terms, double bias) {
        double accumulation = Comparison.LAMBDA * Math.sqrt(terms + 1.0) * Comparison.U * absSum;
        return switch (this) {
            case FLOAT32 -> accumulation + Comparison.U * Math.abs(exact) + Float.MIN_NORMAL;
            case BFLOAT16 -> (accumulation + U_BF16 * (2 * Math.abs(exact) + Math.abs(bias))) * (1 + 2 * U_BF16)
                    + Float.MIN_NORMAL;
        };
    }
}
