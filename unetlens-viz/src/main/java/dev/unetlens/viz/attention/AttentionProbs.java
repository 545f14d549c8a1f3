package dev.unetlens.viz.attention;

import dev.unetlens.io.NpyArray;
import dev.unetlens.viz.Plane;

import java.util.Arrays;

/**
 * Attention probabilities of one attention module at one step, as the {@code …attnN:probs} hook point gives them:
 * softmax over keys, per batch row and head. Immutable: the array is copied in and out.
 *
 * @param values  [B, N, T, S] row-major
 * @param batch   B (with classifier-free guidance: unconditional rows first, then conditional)
 * @param heads   N
 * @param queries T = H·W, the block's positions in row-major order
 * @param keys    S: text tokens (cross-attention) or T (self-attention)
 * @param height  H of the block's map
 * @param width   W of the block's map
 */
public record AttentionProbs(float[] values, int batch, int heads, int queries, int keys, int height, int width) {
    public AttentionProbs {
        if (batch <= 0 || heads <= 0 || keys <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("attention shape must be positive, got [" + batch + ", " + heads
                    + ", " + queries + ", " + keys + "] on a " + height + "×" + width + " map");
        }
        if (queries != height * width) {
            throw new IllegalArgumentException("queries must be H·W = " + height + "·" + width + " = "
                    + height * width + ", got " + queries);
        }
        long n = (long) batch * heads * queries * keys;
        if (values.length != n) {
            throw new IllegalArgumentException("attention [" + batch + ", " + heads + ", " + queries + ", " + keys
                    + "] needs " + n + " values, got " + values.length);
        }
        values = values.clone();
    }

    /** A dumped [B, N, T, S] array on a block of H×W positions. */
    public static AttentionProbs of(NpyArray array, int height, int width) {
        long[] s = array.shape();
        if (s.length != 4) {
            throw new IllegalArgumentException("attention probabilities are [B, N, T, S], got " + Arrays.toString(s));
        }
        return new AttentionProbs(array.toFloats(), Math.toIntExact(s[0]), Math.toIntExact(s[1]),
                Math.toIntExact(s[2]), Math.toIntExact(s[3]), height, width);
    }

    /**
     * The block's H×W for T queries in a U-Net whose latent is latentH×latentW: the latent halved (rounding up,
     * as a stride-2 convolution with padding 1 does) until H·W = T. Throws if no level fits.
     */
    public static int[] blockSize(int queries, int latentHeight, int latentWidth) {
        int h = latentHeight;
        int w = latentWidth;
        while (h * w > queries && (h > 1 || w > 1)) {
            h = (h + 1) / 2;
            w = (w + 1) / 2;
        }
        if (h * w != queries) {
            throw new IllegalArgumentException(queries + " queries are no level of a " + latentHeight + "×"
                    + latentWidth + " latent (its levels have " + latentHeight * latentWidth + ", "
                    + ((latentHeight + 1) / 2) * ((latentWidth + 1) / 2) + ", … positions)");
        }
        return new int[] {h, w};
    }

    /** The conditional rows' first index under classifier-free guidance (B/2), or 0 without guidance (B = 1). */
    public int firstConditionalRow() {
        return batch / 2;
    }

    /** probs[row, head, :, key] as an H×W map: where the block's positions look at key {@code key}. */
    public Plane keyMap(int row, int head, int key) {
        check(row, head);
        if (key < 0 || key >= keys) {
            throw new IllegalArgumentException("key must be in [0, " + (keys - 1) + "], got " + key);
        }
        float[] out = new float[queries];
        int base = (row * heads + head) * queries * keys;
        for (int q = 0; q < queries; q++) {
            out[q] = values[base + q * keys + key];
        }
        return new Plane(out, height, width);
    }

    /** probs[row, head, query, :], the S probabilities of one query. */
    public float[] queryRow(int row, int head, int query) {
        check(row, head);
        if (query < 0 || query >= queries) {
            throw new IllegalArgumentException("query must be in [0, " + (queries - 1) + "], got " + query);
        }
        int base = ((row * heads + head) * queries + query) * keys;
        return Arrays.copyOfRange(values, base, base + keys);
    }

    /**
     * Self-attention (S = T): where the position (qRow, qCol) looks, as an H×W map, averaged over {@code heads}.
     */
    public Plane selfMap(int row, int[] headList, int qRow, int qCol) {
        if (keys != queries) {
            throw new IllegalArgumentException("a self-attention map needs S = T; this attention has " + keys
                    + " keys for " + queries + " queries (cross-attention?)");
        }
        if (qRow < 0 || qRow >= height || qCol < 0 || qCol >= width) {
            throw new IllegalArgumentException("query position must be inside the " + height + "×" + width
                    + " map, got (" + qRow + ", " + qCol + ")");
        }
        double[] acc = new double[keys];
        for (int h : headList) {
            float[] r = queryRow(row, h, qRow * width + qCol);
            for (int k = 0; k < keys; k++) {
                acc[k] += r[k];
            }
        }
        float[] out = new float[keys];
        for (int k = 0; k < keys; k++) {
            out[k] = (float) (acc[k] / headList.length);
        }
        return new Plane(out, height, width);
    }

    /** The mean over heads and queries of probs[row, :, :, s] for every key s: how much each token is attended. */
    public double[] keyMass(int row) {
        check(row, 0);
        double[] out = new double[keys];
        for (int h = 0; h < heads; h++) {
            int base = (row * heads + h) * queries * keys;
            for (int q = 0; q < queries; q++) {
                for (int s = 0; s < keys; s++) {
                    out[s] += values[base + q * keys + s];
                }
            }
        }
        for (int s = 0; s < keys; s++) {
            out[s] /= (double) heads * queries;
        }
        return out;
    }

    /** All heads, 0 … N−1. */
    public int[] allHeads() {
        int[] h = new int[heads];
        for (int i = 0; i < heads; i++) {
            h[i] = i;
        }
        return h;
    }

    private void check(int row, int head) {
        if (row < 0 || row >= batch) {
            throw new IllegalArgumentException("batch row must be in [0, " + (batch - 1) + "], got " + row);
        }
        if (head < 0 || head >= heads) {
            throw new IllegalArgumentException("head must be in [0, " + (heads - 1) + "], got " + head);
        }
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AttentionProbs a && batch == a.batch && heads == a.heads && queries == a.queries
                && keys == a.keys && height == a.height && width == a.width && Arrays.equals(values, a.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values) * 31 + Arrays.hashCode(new int[] {batch, heads, queries, keys, height, width});
    }

    @Override
    public String toString() {
        return "AttentionProbs[" + batch + ", " + heads + ", " + queries + ", " + keys + "] on " + height + "×" + width;
    }
}
