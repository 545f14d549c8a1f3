package dev.unetlens.viz.colorize;

import dev.unetlens.viz.Plane;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pixels of each colorize method on small arrays. Every expected byte is worked by hand: the transform's value t,
 * the method's colour in [0, 1], then Dump U-Net's byte min(255, floor(256·x)).
 */
class ColorizerTest {
    private static final ValueTransform LINEAR = new ValueTransform.Linear(-1, 3);

    private static int rgb(int r, int g, int b) {
        return r << 16 | g << 8 | b;
    }

    @Test
    void byteQuantisationIsDumpUnets() {
        assertThat(Colorizer.toByte(0.5)).isEqualTo(128);        // 128.0
        assertThat(Colorizer.toByte(1.0)).isEqualTo(255);        // 256 → 255
        assertThat(Colorizer.toByte(0.999)).isEqualTo(255);      // 255.74
        assertThat(Colorizer.toByte(1.0 / 3)).isEqualTo(85);     // 85.33
        assertThat(Colorizer.toByte(-0.2)).isZero();
        assertThat(Colorizer.toByte(7)).isEqualTo(255);
        assertThat(Colorizer.toByte(Double.NaN)).isZero();
    }

    @Test
    void whiteBlackShowsMagnitude() {
        Colorizer wb = new Colorizer(new ValueTransform.Sigmoid(1, 0), new ColorMethod.WhiteBlack());
        // |σ(v) − ½|·2: v = ln 3 → 0.5 → 128; v = −ln 3 → 0.5 → 128; v = 0 → 0
        assertThat(wb.rgb(Math.log(3), 0, 0)).isEqualTo(rgb(128, 128, 128));
        assertThat(wb.rgb(-Math.log(3), 0, 0)).isEqualTo(rgb(128, 128, 128));
        assertThat(wb.rgb(0, 0, 0)).isEqualTo(0);
        Colorizer linear = new Colorizer(LINEAR, new ColorMethod.WhiteBlack());
        // (|clamp(v, −1, 3)|)/3: 1.5 → 0.5 → 128; −2 → 1/3 → 85
        assertThat(linear.rgb(1.5, 0, 0)).isEqualTo(rgb(128, 128, 128));
        assertThat(linear.rgb(-2, 0, 0)).isEqualTo(rgb(85, 85, 85));
    }

    @Test
    void whiteBlackWithAutoSignedFoldsTheSign() {
        // values −2, 0, 2, 6 → t = −1, −0.5, 0, 1 → grey |t| → 255, 128, 0, 255
        Colorizer wb = new Colorizer(new ValueTransform.AutoSigned(), new ColorMethod.WhiteBlack());
        assertThat(wb.rgb(new float[] {-2, 0, 2, 6}, -2, 6))
                .containsExactly(rgb(255, 255, 255), rgb(128, 128, 128), 0, rgb(255, 255, 255));
    }

    @Test
    void redBlueIsRedAboveZeroAndBlueBelow() {
        Colorizer rb = new Colorizer(LINEAR, new ColorMethod.RedBlue());
        // t = ((clamp(v) + 1)/4 − ½)·2: v = 2 → 0.5 → (128, 0, 0); v = 0 → −0.5 → (0, 0, 128);
        // v = 1 → 0 → black; v = 3 → 1 → (255, 0, 0); v = −1 → −1 → (0, 0, 255)
        assertThat(rb.rgb(new float[] {2, 0, 1, 3, -1}, 0, 0))
                .containsExactly(rgb(128, 0, 0), rgb(0, 0, 128), 0, rgb(255, 0, 0), rgb(0, 0, 255));
    }

    @Test
    void customRgbEvaluatesAndClips() {
        Colorizer c = new Colorizer(LINEAR, ColorMethod.CustomRgb.parse("abs(v)", "1-abs(v)", "2*v"));
        // v = 0.4 → t = ((1.4)/4 − ½)·2 = −0.3: r = 0.3 → 76.8 → 76; g = 0.7 → 179.2 → 179; b = −0.6 → 0
        assertThat(c.rgb(0.4, 0, 0)).isEqualTo(rgb(76, 179, 0));
        // v = 2.8 → t = 0.9: r = 0.9 → 230.4 → 230; g = 0.1 → 25.6 → 25; b = 1.8 → clipped to 255
        assertThat(c.rgb(2.8, 0, 0)).isEqualTo(rgb(230, 25, 255));
    }

    @Test
    void customHslReadmeExampleRunsGreenBlueRed() {
        // H = (2+v)/3, S = 1, L = 0.5: m2 = 1, m1 = 0, so each channel is 0 or 1 at these hues.
        // t = −1 → H = 1/3: green; t = 0 → H = 2/3: blue; t = 1 → H = 1 ≡ 0: red
        Colorizer c = new Colorizer(LINEAR, ColorMethod.CustomHsl.parse("(2+v)/3", "1.0", "0.5"));
        assertThat(c.rgb(-1, 0, 0)).isEqualTo(rgb(0, 255, 0));   // v = −1 → t = −1
        assertThat(c.rgb(1, 0, 0)).isEqualTo(rgb(0, 0, 255));    // v = 1 → t = 0
        assertThat(c.rgb(3, 0, 0)).isEqualTo(rgb(255, 0, 0));    // v = 3 → t = 1
    }

    @Test
    void customHslBetweenHuesFollowsColorsys() {
        // H = v, S = 1, L = 0.4: m2 = 0.4·2 = 0.8, m1 = 0. v = 1.5 → t = 0.25.
        // r: hue 0.25 + 1/3 = 7/12 in [½, ⅔) → 0.8·(⅔ − 7/12)·6 = 0.4 → 102.4 → 102
        // g: hue 0.25 in [⅙, ½) → m2 = 0.8 → 204.8 → 204
        // b: hue 0.25 − 1/3 ≡ 11/12 ≥ ⅔ → m1 = 0
        Colorizer c = new Colorizer(LINEAR, ColorMethod.CustomHsl.parse("v", "1", "0.4"));
        assertThat(c.rgb(1.5, 0, 0)).isEqualTo(rgb(102, 204, 0));
        // S = 0 is grey at L: L = 0.25 → 64
        Colorizer grey = new Colorizer(LINEAR, ColorMethod.CustomHsl.parse("v", "0", "0.25"));
        assertThat(grey.rgb(0, 0, 0)).isEqualTo(rgb(64, 64, 64));
    }

    @Test
    void colourMapsMatchMatplotlibBytes() {
        // viridis entry 0 = (0.267004, 0.004874, 0.329415) → floor(255·x) = (68, 1, 84);
        // entry 128 = (0.127568, 0.566949, 0.550556) → (32, 144, 140); entry 255 = (0.993248, 0.906157, 0.143936)
        // → (253, 231, 36). Auto [0,1] over [−2, 6]: −2 → 0 → entry 0; 2 → 0.5 → floor(128) = 128; 6 → 255.
        Colorizer v = Colorizer.viridis();
        assertThat(v.rgb(new float[] {-2, 2, 6}, -2, 6))
                .containsExactly(rgb(68, 1, 84), rgb(32, 144, 140), rgb(253, 231, 36));
        // magma entry 0 = (0.001462, 0.000466, 0.013866) → (0, 0, 3); 255 = (0.987053, 0.991438, 0.749504)
        // → (251, 252, 191)
        assertThat(Colormap.MAGMA.entry(0)).isEqualTo(rgb(0, 0, 3));
        assertThat(Colormap.MAGMA.entry(255)).isEqualTo(rgb(251, 252, 191));
        // hot: red from 0.0416 at 0 to 1 at 0.365079, then green to 1 at 0.746032, then blue: entry 0 = (10, 0, 0),
        // entry 93 (x = 93/255 = 0.3647) still short of full red, entry 255 white
        assertThat(Colormap.HOT.entry(0)).isEqualTo(rgb(10, 0, 0));
        assertThat(Colormap.HOT.entry(93) >> 16).isEqualTo(254);
        assertThat(Colormap.HOT.entry(94)).isEqualTo(rgb(255, 2, 0));
        assertThat(Colormap.HOT.entry(255)).isEqualTo(rgb(255, 255, 255));
        // Auto [-1,1] through a colour map reads [−1, 1] as [0, 1]: the middle value is entry 128 again
        Colorizer signed = new Colorizer(new ValueTransform.AutoSigned(), new ColorMethod.Lut(Colormap.VIRIDIS));
        assertThat(signed.rgb(2, -2, 6)).isEqualTo(rgb(32, 144, 140));
    }

    @Test
    void colourMapIndexIsMatplotlibs() {
        assertThat(Colormap.index(0)).isZero();
        assertThat(Colormap.index(0.5)).isEqualTo(128);
        assertThat(Colormap.index(1)).isEqualTo(255);
        assertThat(Colormap.index(0.999)).isEqualTo(255);     // floor(255.74)
        assertThat(Colormap.index(0.0039)).isZero();          // floor(0.998)
        assertThat(Colormap.index(Double.NaN)).isZero();
    }

    @Test
    void nanDrawsBlack() {
        Colorizer rb = new Colorizer(LINEAR, new ColorMethod.RedBlue());
        assertThat(rb.rgb(Double.NaN, 0, 0)).isZero();
    }

    @Test
    void imageHasOnePixelPerValue() {
        Colorizer rb = new Colorizer(LINEAR, new ColorMethod.RedBlue());
        BufferedImage img = rb.image(new Plane(new float[] {2, 0, 1, 3, -1, 1}, 2, 3), 0, 0);
        assertThat(img.getWidth()).isEqualTo(3);
        assertThat(img.getHeight()).isEqualTo(2);
        assertThat(img.getRGB(0, 0) & 0xffffff).isEqualTo(rgb(128, 0, 0));
        assertThat(img.getRGB(1, 1) & 0xffffff).isEqualTo(rgb(0, 0, 255));   // row 1, col 1 = −1
    }
}
