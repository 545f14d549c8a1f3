package dev.unetlens.viz.attention;

import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.Overlay;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.Resample;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;
import dev.unetlens.viz.render.Ticks;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DAAM word heat maps over the generated image: each word's latent-size map is resized to the image (bicubic, as
 * DAAM's {@code WordHeatMap.expand_as}), brought to [0, 1] by min–max (DAAM's default) or clamped to [0, 1]
 * ({@code absolute}), and composited with {@link Overlay}; the image first, then one panel per word, a colour bar
 * for the scale. The heat goes over a greyscale copy of the image, so that the only colours are the heat's (over the
 * colours of an image — noise, or a sunset in magma's own hues — the map cannot be read).
 */
public final class WordHeatMap {
    private WordHeatMap() {
    }

    /** A word and its heat map (latent size), e.g. {@code heatMaps.word(Tokens.indicesOf(labels, tokens))}. */
    public record Word(String text, Plane heat) {
    }

    /**
     * @param colormap    the overlay's colour map
     * @param absolute    false: each word min–max to [0, 1] (DAAM's default); true: values clamped to [0, 1]
     *                    (meaningful for heat maps normalised over tokens)
     * @param displaySize each panel fits this square (images are never enlarged)
     * @param grey        the heat over a greyscale copy of the image (true), or over the image as DAAM draws it
     */
    public record Options(Colormap colormap, boolean absolute, int displaySize, boolean grey) {
        public static Options defaults() {
            return new Options(Colormap.MAGMA, false, 320, true);
        }

        public Options withAbsolute(boolean a) {
            return new Options(colormap, a, displaySize, grey);
        }
    }

    /** The [0, 1] heat at image size that the overlay shows: DAAM's {@code expand_as}. */
    public static Plane expand(Plane heat, int height, int width, boolean absolute) {
        float[] up = Resample.bicubic(heat.values(), heat.height(), heat.width(), height, width);
        if (absolute) {
            for (int i = 0; i < up.length; i++) {
                up[i] = Math.min(1f, Math.max(0f, up[i]));
            }
        } else {
            double[] r = dev.unetlens.viz.Ranges.finiteRange(up);
            double d = r[1] - r[0] + 1e-8;
            for (int i = 0; i < up.length; i++) {
                up[i] = (float) ((up[i] - r[0]) / d);
            }
        }
        return new Plane(up, height, width);
    }

    /**
     * One picture with a panel per word.
     *
     * @param title   what the maps are of ("DAAM heat maps")
     * @param sources what went into the maps ({@link HeatMaps#sources()}), for subtitle and manifest
     */
    public static Picture render(RgbImage image, List<Word> words, String title, Map<String, Object> sources,
                                 Options options) {
        if (words.isEmpty()) {
            throw new IllegalArgumentException("a word heat-map picture needs at least one word");
        }
        List<Layout.Panel> panels = new ArrayList<>();
        panels.add(new Layout.Panel(Overlay.fit(image.toBufferedImage(), options.displaySize()), "the image"));
        RgbImage base = options.grey() ? Overlay.greyscale(image) : image;
        List<Map<String, Object>> entries = new ArrayList<>();
        for (Word w : words) {
            Plane h = expand(w.heat(), image.height(), image.width(), options.absolute());
            BufferedImage img = Overlay.fit(Overlay.composite(base, h, options.colormap()), options.displaySize());
            double[] raw = w.heat().range();
            panels.add(new Layout.Panel(img, w.text(), "max " + Ticks.compact(raw[1])));
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("word", w.text());
            e.put("range", List.of(raw[0], raw[1]));
            entries.add(e);
        }
        Colormap map = options.colormap();
        ColorBar bar = options.absolute()
                ? ColorBar.of(0, 1, map::rgb, "heat (clamped to [0, 1])")
                : ColorBar.relative(map::rgb, "min", "max", "heat (min–max per word)");
        List<String> subtitles = new ArrayList<>();
        subtitles.add(describe(sources));
        subtitles.add(map.name().toLowerCase(java.util.Locale.ROOT) + " over " + (options.grey()
                ? "a greyscale copy of the image" : "the image") + ", opacity = heat (DAAM)");
        var picture = Layout.panels(title, subtitles, List.of(new Layout.Row(null, panels)), bar);
        Map<String, Object> fields = new LinkedHashMap<>(sources);
        fields.put("words", entries);
        fields.put("absolute", options.absolute());
        fields.put("colormap", map.name().toLowerCase(java.util.Locale.ROOT));
        fields.put("base", options.grey() ? "greyscale image" : "image");
        return new Picture(picture, "word-heat-map", title + " · "
                + String.join(", ", words.stream().map(Word::text).toList()), fields);
    }

    /** "12 maps (3 modules × 4 heads) · steps 0–19 · normalised over tokens". */
    static String describe(Map<String, Object> sources) {
        List<String> parts = new ArrayList<>();
        if (sources.get("maps") instanceof Integer n && sources.get("modules") instanceof List<?> m
                && sources.get("heads") instanceof List<?> h) {
            parts.add(n + " maps (" + m.size() + " modules, " + h.size() + " heads)");
        }
        if (sources.get("steps") instanceof List<?> s && !s.isEmpty()) {
            parts.add(s.size() == 1 ? "step " + s.getFirst() : s.size() + " steps (" + s.getFirst() + "–"
                    + s.getLast() + ")");
        }
        if (Boolean.TRUE.equals(sources.get("normalized"))) {
            parts.add("normalised over tokens");
        }
        return parts.isEmpty() ? "cross-attention heat maps" : String.join(" · ", parts);
    }

    /** The sources of heat maps with whether they were normalised, for {@link #render}. */
    public static Map<String, Object> sources(HeatMaps maps) {
        Map<String, Object> s = new LinkedHashMap<>(maps.sources());
        s.put("normalized", maps.normalized());
        s.put("latent", List.of(maps.height(), maps.width()));
        return s;
    }
}
