package dev.unetlens.viz.colorize;

import dev.unetlens.viz.Plane;
import dev.unetlens.viz.expr.Expression;

import java.awt.image.BufferedImage;

/**
 * A value transform and a colour method: feature value → pixel. A channel value v becomes t =
 * {@code transform.apply(v, method.domain(), lo, hi)}, then a colour {r, g, b} = {@code method.color(t)}, and each
 * channel the byte {@code min(255, floor(256·clip(x, 0, 1)))} — Dump U-Net's {@code np.clip(x*256, 0, 255)
 * .astype(uint8)}; NaN draws as 0. Colour maps return matplotlib's bytes directly (see {@link Colormap}).
 *
 * @param transform how values are scaled ({@link ValueTransform})
 * @param method    how scaled values are coloured ({@link ColorMethod})
 */
public record Colorizer(ValueTransform transform, ColorMethod method) {

    /** Our default for feature maps: Auto [0,1] through viridis. */
    public static Colorizer viridis() {
        return new Colorizer(new ValueTransform.Auto01(), new ColorMethod.Lut(Colormap.VIRIDIS));
    }

    /** Auto [0,1] through magma: heat maps, norms, attention probabilities. */
    public static Colorizer magma() {
        return new Colorizer(new ValueTransform.Auto01(), new ColorMethod.Lut(Colormap.MAGMA));
    }

    /** Dump U-Net's recommendation for U-Net features: Custom HSL, H = (2+v)/3, S = 1.0, L = 0.5, Sigmoid(1, 0). */
    public static Colorizer dumpUnetFeatures() {
        return new Colorizer(new ValueTransform.Sigmoid(1, 0), ColorMethod.CustomHsl.parse("(2+v)/3", "1.0", "0.5"));
    }

    /** Dump U-Net's recommendation for attention: Custom HSL, H = (2−2v)/3, S = 1.0, L = 0.5, Auto [0,1]. */
    public static Colorizer dumpUnetAttention() {
        return new Colorizer(new ValueTransform.Auto01(), ColorMethod.CustomHsl.parse("(2-2*v)/3", "1.0", "0.5"));
    }

    /** The packed 0xRRGGBB pixel of value v, with lo, hi the range the Auto transforms scale from. */
    public int rgb(double v, double lo, double hi) {
        ColorMethod.Domain domain = method.domain();
        double t = transform.apply(v, domain, lo, hi);
        if (method instanceof ColorMethod.Lut(Colormap map)) {
            double[] r = transform.outputRange(domain);
            return map.rgb(Double.isNaN(t) ? Double.NaN : (t - r[0]) / (r[1] - r[0]));
        }
        double[] c = method.color(t, 0, 1, new double[3]);
        return toByte(c[0]) << 16 | toByte(c[1]) << 8 | toByte(c[2]);
    }

    /** Packed pixels of {@code values}, scaled together over [lo, hi] (used by the Auto transforms). */
    public int[] rgb(float[] values, double lo, double hi) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = rgb(values[i], lo, hi);
        }
        return out;
    }

    /** The map as an H×W image, one pixel per value, scaled over [lo, hi]. */
    public BufferedImage image(Plane plane, double lo, double hi) {
        BufferedImage img = new BufferedImage(plane.width(), plane.height(), BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, plane.width(), plane.height(), rgb(plane.values(), lo, hi), 0, plane.width());
        return img;
    }

    /** The map as an image scaled over its own finite range. */
    public BufferedImage image(Plane plane) {
        double[] r = plane.range();
        return image(plane, r[0], r[1]);
    }

    /**
     * The raw-value range a colour bar should span for data in [lo, hi]: the clamp range for Linear (values
     * outside it look the same as its ends), the data range otherwise.
     */
    public double[] barRange(double lo, double hi) {
        if (transform instanceof ValueTransform.Linear(double min, double max)) {
            return new double[] {min, max};
        }
        return new double[] {lo, hi};
    }

    /** Dump U-Net's {@code np.clip(x*256, 0, 255).astype(np.uint8)}; NaN is 0. */
    public static int toByte(double x) {
        if (!(x > 0)) {
            return 0;
        }
        return (int) Math.min(255.0, Math.floor(x * 256.0));
    }

    /** "viridis · Auto [0,1]", "Custom HSL((2+v)/3; 1.0; 0.5) · Sigmoid(1, 0)". */
    public String label() {
        return method.label() + " · " + transform.label();
    }

    /** Custom methods' expressions, for manifests; empty for the others. */
    public java.util.List<String> expressions() {
        return switch (method) {
            case ColorMethod.CustomRgb(Expression r, Expression g, Expression b) ->
                    java.util.List.of(r.source(), g.source(), b.source());
            case ColorMethod.CustomHsl(Expression h, Expression s, Expression l) ->
                    java.util.List.of(h.source(), s.source(), l.source());
            default -> java.util.List.of();
        };
    }
}
