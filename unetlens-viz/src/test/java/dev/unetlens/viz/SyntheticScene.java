package dev.unetlens.viz;

import dev.unetlens.io.RgbImage;

import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Random;

/**
 * A deterministic stand-in for a generated image and the tensors a run would capture from it, for rendering every
 * kind of picture without a model: a sunset (sky, sun, mountains, lake), feature maps whose channels mix the
 * scene's colours with positional waves (and a high-norm 2×2 spot, as the anomalies paper finds), and attention
 * probabilities in which "sun" looks at the sun and "mountains" at the mountains.
 */
final class SyntheticScene {
    static final int SIZE = 512;
    /** Token labels as TokenizedPrompt writes them. */
    static final String[] PROMPT = {"<|startoftext|>", "a", "red", "sun", "over", "the", "mountains",
            "<|endoftext|>"};

    final RgbImage image;
    private final float[][] rgb;   // [3][SIZE·SIZE] in [0, 1]
    private final float[] sunMask;
    private final float[] mountainMask;

    SyntheticScene() {
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setPaint(new GradientPaint(0, 0, new Color(0x1B, 0x26, 0x5E), 0, 300, new Color(0xF4, 0x8C, 0x3C)));
        g.fillRect(0, 0, SIZE, 300);
        g.setColor(new Color(0xE8, 0x3A, 0x1E));
        g.fillOval(300, 150, 130, 130);
        Polygon far = new Polygon(new int[] {0, 90, 170, 260, 330, 420, 512, 512, 0},
                new int[] {300, 210, 260, 190, 250, 200, 270, 330, 330}, 9);
        g.setColor(new Color(0x5A, 0x3D, 0x6E));
        g.fillPolygon(far);
        Polygon near = new Polygon(new int[] {0, 60, 150, 230, 512, 512, 0},
                new int[] {360, 300, 340, 290, 380, 400, 400}, 7);
        g.setColor(new Color(0x2E, 0x4A, 0x3A));
        g.fillPolygon(near);
        g.setPaint(new GradientPaint(0, 400, new Color(0x6B, 0x4E, 0x7A), 0, 512, new Color(0x18, 0x20, 0x40)));
        g.fillRect(0, 380, SIZE, 132);
        g.setColor(new Color(0xF0, 0x90, 0x50));
        for (int i = 0; i < 6; i++) {
            g.fillRect(330 + (i % 2) * 14, 410 + i * 14, 70 - i * 8, 4);
        }
        g.dispose();
        image = RgbImage.of(img);
        rgb = new float[3][SIZE * SIZE];
        sunMask = new float[SIZE * SIZE];
        mountainMask = new float[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int p = y * SIZE + x;
                for (int c = 0; c < 3; c++) {
                    rgb[c][p] = image.get(y, x, c) / 255f;
                }
                double dx = x - 365;
                double dy = y - 215;
                sunMask[p] = dx * dx + dy * dy <= 65 * 65 ? 1 : 0;
                mountainMask[p] = far.contains(x, y) || near.contains(x, y) ? 1 : 0;
            }
        }
    }

    /** Average of a full-size map over the h×w cells of the image. */
    private static float[] pool(float[] full, int h, int w) {
        float[] out = new float[h * w];
        int ch = SIZE / h;
        int cw = SIZE / w;
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                out[(y / ch) * w + x / cw] += full[y * SIZE + x];
            }
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= ch * cw;
        }
        return out;
    }

    /**
     * C channels at h×w: each a random mix of the pooled colours, two positional waves and noise, with a
     * high-norm 2×2 spot at a fixed place (the anomalies paper's artefact) when {@code anomaly}.
     */
    FeatureMap features(int channels, int h, int w, long seed, boolean anomaly) {
        Random rnd = new Random(seed);
        float[][] pooled = {pool(rgb[0], h, w), pool(rgb[1], h, w), pool(rgb[2], h, w)};
        float[] v = new float[channels * h * w];
        for (int c = 0; c < channels; c++) {
            double[] mix = {rnd.nextGaussian(), rnd.nextGaussian(), rnd.nextGaussian()};
            double fy = rnd.nextDouble() * 3;
            double fx = rnd.nextDouble() * 3;
            double phase = rnd.nextDouble() * Math.PI * 2;
            double wave = rnd.nextDouble() * 0.8;
            double scale = Math.exp(rnd.nextGaussian() * 0.5);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int p = y * w + x;
                    double s = mix[0] * pooled[0][p] + mix[1] * pooled[1][p] + mix[2] * pooled[2][p]
                            + wave * Math.sin(Math.PI * (fy * y / h + fx * x / w) * 2 + phase)
                            + 0.15 * rnd.nextGaussian();
                    v[c * h * w + p] = (float) (scale * s);
                }
            }
            if (anomaly) {
                int ay = h / 4;
                int ax = w / 5;
                for (int dy = 0; dy < 2; dy++) {
                    for (int dx = 0; dx < 2; dx++) {
                        v[c * h * w + (ay + dy) * w + ax + dx] += (float) (6 * scale * (c % 3 == 0 ? 1 : -0.5));
                    }
                }
            }
        }
        return new FeatureMap(v, channels, h, w);
    }

    /**
     * The same features as a sampler would see them at {@code step} of {@code steps}: mixed with noise that fades
     * as the steps go (the picture "develops").
     */
    FeatureMap featuresAtStep(int channels, int h, int w, long seed, int step, int steps) {
        FeatureMap clean = features(channels, h, w, seed, false);
        Random rnd = new Random(seed * 1000 + step);
        float[] v = clean.values();
        double noise = 1.0 - (double) step / steps;
        double keep = 1.0 - noise;
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (keep * v[i] + 1.5 * noise * rnd.nextGaussian());
        }
        return new FeatureMap(v, channels, h, w);
    }

    /**
     * Cross-attention probabilities (B = 2, N heads, T = h·w, S = 77): row 0 (unconditional) attends to the start
     * token almost only; row 1 (conditional) gives "sun" and "red" the sun, "mountains" the mountains, and the
     * rest to the start token, more or less by head.
     */
    float[] crossAttention(int heads, int h, int w, int keys, long seed) {
        Random rnd = new Random(seed);
        float[] sun = pool(sunMask, h, w);
        float[] mountains = pool(mountainMask, h, w);
        int t = h * w;
        float[] probs = new float[2 * heads * t * keys];
        double[] logits = new double[keys];
        for (int b = 0; b < 2; b++) {
            for (int n = 0; n < heads; n++) {
                double sharp = 2 + 3 * rnd.nextDouble();
                double sink = 3 + 2 * rnd.nextDouble();
                for (int q = 0; q < t; q++) {
                    for (int s = 0; s < keys; s++) {   // padding keys: low, with a little structure
                        logits[s] = s == 0 ? sink : -1 + 0.3 * Math.sin(1.7 * s + 0.13 * q + n);
                    }
                    if (b == 1) {
                        logits[1] = 0.5;
                        logits[2] = sharp * sun[q] + 0.5 * rnd.nextGaussian();
                        logits[3] = 1.2 * sharp * sun[q] + 0.3;
                        logits[4] = 0.4 + 0.3 * rnd.nextGaussian();
                        logits[5] = 0.2;
                        logits[6] = 1.1 * sharp * mountains[q] + 0.2;
                        logits[7] = 1.0 + 0.5 * Math.sin(q * 0.3);
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (double l : logits) {
                        max = Math.max(max, l);
                    }
                    double sum = 0;
                    for (int s = 0; s < keys; s++) {
                        sum += Math.exp(logits[s] - max);
                    }
                    int base = ((b * heads + n) * t + q) * keys;
                    for (int s = 0; s < keys; s++) {
                        probs[base + s] = (float) (Math.exp(logits[s] - max) / sum);
                    }
                }
            }
        }
        return probs;
    }

    /**
     * Self-attention probabilities (B = 1, N heads, T = S = h·w): a query attends to positions of similar colour,
     * more sharply in some heads, and a little to its neighbourhood.
     */
    float[] selfAttention(int heads, int h, int w) {
        float[][] pooled = {pool(rgb[0], h, w), pool(rgb[1], h, w), pool(rgb[2], h, w)};
        int t = h * w;
        float[] probs = new float[heads * t * t];
        double[] logits = new double[t];
        for (int n = 0; n < heads; n++) {
            double colour = 20 + 15 * n;
            double local = 0.02 * (heads - n);
            for (int q = 0; q < t; q++) {
                int qy = q / w;
                int qx = q % w;
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < t; k++) {
                    double d = 0;
                    for (int c = 0; c < 3; c++) {
                        double e = pooled[c][q] - pooled[c][k];
                        d += e * e;
                    }
                    int ky = k / w;
                    int kx = k % w;
                    double dist = Math.hypot(ky - qy, kx - qx);
                    logits[k] = -colour * d - local * dist;
                    max = Math.max(max, logits[k]);
                }
                double sum = 0;
                for (int k = 0; k < t; k++) {
                    sum += Math.exp(logits[k] - max);
                }
                for (int k = 0; k < t; k++) {
                    probs[(n * t + q) * t + k] = (float) (Math.exp(logits[k] - max) / sum);
                }
            }
        }
        return probs;
    }

    /** The 77 token labels: the prompt, then padding. */
    static java.util.List<String> tokenLabels() {
        java.util.List<String> out = new java.util.ArrayList<>(java.util.List.of(PROMPT));
        while (out.size() < 77) {
            out.add("<pad>");
        }
        return out;
    }
}
