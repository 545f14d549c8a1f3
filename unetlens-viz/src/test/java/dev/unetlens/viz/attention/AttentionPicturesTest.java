package dev.unetlens.viz.attention;

import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Overlay;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.colorize.Colormap;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AttentionPicturesTest {
    private static final List<String> LABELS = List.of("<|startoftext|>", "pink", "hair", "<|endoftext|>", "<pad>");

    /** B = 2, N = 2, a 2×2 block, 5 keys: head n, query q puts (q + 1 + n)/10 on key 1, the rest on key 0. */
    private static AttentionProbs probs() {
        float[] v = new float[2 * 2 * 4 * 5];
        for (int b = 0; b < 2; b++) {
            for (int n = 0; n < 2; n++) {
                for (int q = 0; q < 4; q++) {
                    int base = ((b * 2 + n) * 4 + q) * 5;
                    float x = (q + 1 + n) / 10f;
                    v[base + 1] = x;
                    v[base] = 1 - x;
                }
            }
        }
        return new AttentionProbs(v, 2, 2, 4, 5, 2, 2);
    }

    @SuppressWarnings("unchecked")
    private static int tile(Picture p, int row, int col, int dx, int dy) {
        Map<String, Object> l = (Map<String, Object>) p.fields().get("layout");
        List<Integer> o = (List<Integer>) l.get("origin");
        List<Integer> pitch = (List<Integer>) l.get("pitch");
        return p.image().getRGB(o.get(0) + col * pitch.get(0) + dx, o.get(1) + row * pitch.get(1) + dy) & 0xffffff;
    }

    @Test
    void gridShowsHeadsByPromptTokens() {
        AttentionProbs a = probs();
        Picture p = CrossAttentionGrid.render(a, new MapLabel("up_blocks.1.attentions.0.transformer_blocks.0.attn2:probs",
                4, 781), LABELS, CrossAttentionGrid.Options.defaults(a)).getFirst();
        // the prompt runs through the end token: 4 columns; the conditional row 1; 2 heads
        assertThat(p.fields()).containsEntry("tokens", List.of(0, 1, 2, 3)).containsEntry("row", 1)
                .containsEntry("heads", List.of(0, 1))
                .containsEntry("tokenTexts", List.of("<|startoftext|>", "pink", "hair", "<|endoftext|>"));
        // one range over the picture: 0 (keys 2, 3) … 0.9 (key 0, head 0, query 0)
        Colorizer m = Colorizer.magma();
        // head 1, token 1 ("pink"), query (1, 0) = q 2: (2 + 1 + 1)/10 = 0.4; tiles 2×2 enlarged ×24 to 48 px
        assertThat(tile(p, 1, 1, 0, 30)).isEqualTo(m.rgb(0.4f, 0, 0.9f));
        // head 0, token 0, query (0, 0): 1 − 0.1 = 0.9, the top of the range
        assertThat(tile(p, 0, 0, 5, 5)).isEqualTo(m.rgb(0.9f, 0, 0.9f));
        assertThat(tile(p, 0, 3, 5, 5)).isEqualTo(m.rgb(0, 0, 0.9f));
    }

    @Test
    void manyTokensGoOnPages() {
        AttentionProbs a = probs();
        var pages = CrossAttentionGrid.render(a, new MapLabel("x.attn2:probs", 0, 999), LABELS,
                new CrossAttentionGrid.Options(1, List.of(), List.of(0, 1, 2, 3, 4), Colorizer.magma(),
                        dev.unetlens.viz.grid.AutoScope.SHARED, 100));
        // 48 px tiles, 50 px pitch: 2 tokens per 100 px page
        assertThat(pages).hasSize(3);
        assertThat(pages.get(2).fields()).containsEntry("tokens", List.of(4));
    }

    @Test
    void overlayIsDaamsAlphaComposite() {
        // image pixel (100, 50, 200); heat 0 → the image; 1 → the colour map's top; ½ → half of each, rounded
        byte[] px = new byte[3 * 3];
        for (int i = 0; i < 3; i++) {
            px[3 * i] = 100;
            px[3 * i + 1] = 50;
            px[3 * i + 2] = (byte) 200;
        }
        RgbImage img = new RgbImage(3, 1, px);
        BufferedImage out = Overlay.composite(img, new Plane(new float[] {0, 1, 0.5f}, 1, 3), Colormap.MAGMA);
        assertThat(out.getRGB(0, 0) & 0xffffff).isEqualTo(100 << 16 | 50 << 8 | 200);
        assertThat(out.getRGB(1, 0) & 0xffffff).isEqualTo(Colormap.MAGMA.entry(255));
        int mid = Colormap.MAGMA.rgb(0.5);   // entry 128
        int r = (int) Math.round(0.5 * ((mid >> 16) & 0xff) + 50);
        int g = (int) Math.round(0.5 * ((mid >> 8) & 0xff) + 25);
        int b = (int) Math.round(0.5 * (mid & 0xff) + 100);
        assertThat(out.getRGB(2, 0) & 0xffffff).isEqualTo(r << 16 | g << 8 | b);
    }

    @Test
    void wordMapsExpandToTheImageAndMinMaxAsDaamDoes() {
        // a 1×2 map [0, 1] to 1×4 is the bicubic ramp (−0.105 … 1.105), then min–max to [0, 1]
        Plane e = WordHeatMap.expand(new Plane(new float[] {0, 1}, 1, 2), 1, 4, false);
        float lo = -0.10546875f;
        float span = 1.10546875f - lo;
        assertThat(e.values()).containsExactly(new float[] {0, (0.2265625f - lo) / span, (0.7734375f - lo) / span, 1},
                within(1e-6f));
        Plane abs = WordHeatMap.expand(new Plane(new float[] {0, 1}, 1, 2), 1, 4, true);
        assertThat(abs.values()).containsExactly(new float[] {0, 0.2265625f, 0.7734375f, 1}, within(1e-6f));
    }

    /**
     * The heat goes over a greyscale copy of the image, the image itself in colour beside it: with a saturated green
     * image and no heat, the only green pixels are the image's own panel.
     */
    @Test
    void wordMapsGoOverAGreyscaleCopyNextToTheImage() {
        byte[] rgb = new byte[64 * 64 * 3];
        for (int i = 1; i < rgb.length; i += 3) {
            rgb[i] = (byte) 255;
        }
        RgbImage green = new RgbImage(64, 64, rgb);
        Plane none = new Plane(new float[8 * 8], 8, 8);
        Picture p = WordHeatMap.render(green, List.of(new WordHeatMap.Word("cat", none), new WordHeatMap.Word("dog", none)),
                "DAAM", Map.of(), WordHeatMap.Options.defaults());
        int greenPixels = 0;
        for (int y = 0; y < p.height(); y++) {
            for (int x = 0; x < p.width(); x++) {
                greenPixels += (p.image().getRGB(x, y) & 0xffffff) == 0x00ff00 ? 1 : 0;
            }
        }
        assertThat(greenPixels).isEqualTo(64 * 64);
        assertThat(p.fields()).containsEntry("base", "greyscale image");
        assertThat(Overlay.greyscale(green).get(3, 5, 0)).isEqualTo(150);                  // 0.587 · 255
    }

    @Test
    void selfAttentionMarksTheQuery() {
        // a 2×2 self-attention where every query looks only at position 3
        float[] v = new float[4 * 4];
        for (int q = 0; q < 4; q++) {
            v[q * 4 + 3] = 1;
        }
        AttentionProbs a = new AttentionProbs(v, 1, 1, 4, 4, 2, 2);
        Picture p = SelfAttentionMap.render(null, a, new MapLabel("down_blocks.0.attentions.0.transformer_blocks.0"
                + ".attn1:probs", 2, 901), 0, List.of(), 0, 1, Colormap.MAGMA);
        assertThat(p.fields()).containsEntry("query", List.of(0, 1)).containsEntry("max", 1.0);
        assertThat(p.kind()).isEqualTo("self-attention");
        assertThat(Collections.frequency(List.of(p.fields().keySet().toArray()), "map")).isEqualTo(1);
    }
}
