package dev.unetlens.analysis.similarity;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.Outputs;
import dev.unetlens.analysis.Panels;
import dev.unetlens.analysis.Units;
import dev.unetlens.analysis.similarity.TokenSimilarity.Result;
import dev.unetlens.analysis.similarity.TokenSimilarity.TimestepResult;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.render.Canvas;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a {@link TokenSimilarity} result: per timestep the map {@code similarity_t<t>.npy} [H_B, W_B] (float64) and
 * its picture (A with the reference token, the map, the map over B, coloured as the explorer colours it: orange with
 * opacity s for s &gt; 0, blue with opacity −s below 0); with all tokens {@code cosine_all_tokens_t<t>.npy}
 * (H_A, W_A, H_B, W_B) float32; and {@code results.json}.
 */
public final class SimilarityReport {
    static final int DISPLAY = 320;
    private static final Color ORANGE = new Color(255, 165, 0);
    private static final Color BLUE = new Color(0, 165, 255);
    private static final Color BEST = new Color(165, 255, 0);

    private SimilarityReport() {
    }

    public static void write(Result r, RgbImage imageA, RgbImage imageB, ObjectNode request, OutputDirectory out) {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("analysis", "similarity");
        json.put("what", "the measure between one token of image A's map and every token of image B's map");
        ObjectNode q = r.options().sampling().toJson();
        q.set("token", JsonNodeFactory.instance.arrayNode().add(r.options().row()).add(r.options().col()));
        q.put("token_order", "row, column on A's map (0-based, row 0 at the top)");
        q.put("measure", r.options().measure().cliName());
        q.put("formula", r.options().measure().formula());
        q.put("epsilon", Measure.EPS);
        q.put("image_a", r.imageA());
        q.put("image_b", r.imageB());
        q.put("draws", "each map is the mean over the noise draws");
        q.put("all_tokens", r.options().allTokens());
        q.setAll(request);
        json.set("request", q);
        ArrayNode results = json.putArray("timesteps");
        for (TimestepResult t : r.results()) {
            String stem = "similarity_t" + t.timestep();
            Outputs.writeNpy(out, stem + ".npy", new long[] {t.b().height(), t.b().width()}, t.map(),
                    r.options().measure().cliName() + " from token (" + r.options().row() + ", " + r.options().col()
                            + ") of " + r.imageA() + " to every token of " + r.imageB() + " [H, W], float64");
            picture(r, t, imageA, imageB).write(out, stem);
            ObjectNode e = results.addObject();
            e.put("timestep", t.timestep());
            e.set("map_a_shape", Outputs.shapeJson(new long[] {t.a().channels(), t.a().height(), t.a().width()}));
            e.set("map_b_shape", Outputs.shapeJson(new long[] {t.b().channels(), t.b().height(), t.b().width()}));
            int best = best(r, t);
            e.set("most_similar_token", JsonNodeFactory.instance.arrayNode().add(best / t.b().width()).add(best % t.b().width()));
            e.put("most_similar_value", t.map()[best]);
            e.put("min", stat(t.map(), -1));
            e.put("max", stat(t.map(), 1));
            e.put("mean", dev.unetlens.analysis.stats.Maps.mean(t.map()));
            double[][] rows = new double[t.b().height()][];
            for (int y = 0; y < rows.length; y++) {
                rows[y] = java.util.Arrays.copyOfRange(t.map(), y * t.b().width(), (y + 1) * t.b().width());
            }
            e.set("map", Outputs.quantity(Units.SIMILARITY, Outputs.array(rows)));
            e.put("files", stem + ".npy, " + stem + ".png");
            if (t.allTokens() != null) {
                Outputs.writeNpy(out, "cosine_all_tokens_t" + t.timestep() + ".npy",
                        new long[] {t.a().height(), t.a().width(), t.b().height(), t.b().width()}, t.allTokens(),
                        "sdhelper cosine_similarity: every token of A against every token of B (H, W, H', W'), float32");
                e.put("all_tokens", "cosine_all_tokens_t" + t.timestep() + ".npy");
            }
        }
        Outputs.writeResults(out, json);
    }

    /** The most similar token of B (leaving out the reference token itself when B is A). */
    static int best(Result r, TimestepResult t) {
        int ref = r.options().row() * t.b().width() + r.options().col();
        int best = -1;
        for (int q = 0; q < t.map().length; q++) {
            if ((r.sameImage() && q == ref) || Double.isNaN(t.map()[q])) {
                continue;
            }
            if (best < 0 || t.map()[q] > t.map()[best]) {
                best = q;
            }
        }
        return Math.max(best, 0);
    }

    private static double stat(double[] v, int sign) {
        double m = Double.NaN;
        for (double x : v) {
            if (!Double.isNaN(x) && (Double.isNaN(m) || sign * x > sign * m)) {
                m = x;
            }
        }
        return m;
    }

    /** The explorer's colour of s over a background colour: orange with opacity s, or blue with opacity −s. */
    static int over(double s, int background) {
        if (Double.isNaN(s)) {
            return background;
        }
        double a = Math.min(1, Math.abs(s));
        Color c = s > 0 ? ORANGE : BLUE;
        int r = (int) Math.round(a * c.getRed() + (1 - a) * (background >> 16 & 0xff));
        int g = (int) Math.round(a * c.getGreen() + (1 - a) * (background >> 8 & 0xff));
        int b = (int) Math.round(a * c.getBlue() + (1 - a) * (background & 0xff));
        return r << 16 | g << 8 | b;
    }

    public static Picture picture(Result r, TimestepResult t, RgbImage imageA, RgbImage imageB) {
        Tokens a = t.a();
        Tokens b = t.b();
        BufferedImage panelA = tokenGrid(Panels.fit(imageA.toBufferedImage(), DISPLAY), a.height(), a.width());
        highlight(panelA, a.height(), a.width(), r.options().row(), r.options().col(), ORANGE);
        BufferedImage bImg = Panels.fit(imageB.toBufferedImage(), DISPLAY);
        BufferedImage mapAlone = Panels.framed(tiles(new BufferedImage(bImg.getWidth(), bImg.getHeight(),
                BufferedImage.TYPE_INT_RGB), t.map(), b.height(), b.width(), true));
        BufferedImage overB = tiles(copy(bImg), t.map(), b.height(), b.width(), false);
        int best = best(r, t);
        highlight(overB, b.height(), b.width(), best / b.width(), best % b.width(), BEST);
        String measure = r.options().measure().cliName();
        List<Layout.Panel> panels = List.of(
                new Layout.Panel(panelA, "A: " + r.imageA() + " · token (" + r.options().row() + ", " + r.options().col() + ")"),
                new Layout.Panel(mapAlone, measure + " over B's " + b.height() + "×" + b.width() + " tokens"),
                new Layout.Panel(overB, "over B: " + r.imageB() + " · most similar (" + best / b.width() + ", "
                        + best % b.width() + ") = " + String.format(Locale.ROOT, "%.3f", t.map()[best])));
        String title = String.format(Locale.ROOT, "%s similarity to token (%d, %d) · t = %d", measure, r.options().row(),
                r.options().col(), t.timestep());
        List<String> sub = List.of(String.join(" + ", r.options().sampling().points()) + " · " + a.channels() + " channels · mean of "
                        + r.options().sampling().samples() + (r.options().sampling().samples() == 1 ? " noise draw" : " noise draws"),
                measure + " = " + r.options().measure().formula() + ", ε = 1e-10");
        ColorBar bar = ColorBar.of(-1, 1, s -> over(s, 0xFFFFFF), "similarity");
        BufferedImage img = Layout.panels(title, sub, List.of(new Layout.Row(null, panels)), bar);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("measure", measure);
        fields.put("token", List.of(r.options().row(), r.options().col()));
        fields.put("timestep", t.timestep());
        fields.put("modules", r.options().sampling().points());
        fields.put("imageA", r.imageA());
        fields.put("imageB", r.imageB());
        return new Picture(img, "token-similarity", title, fields);
    }

    private static BufferedImage copy(BufferedImage img) {
        BufferedImage c = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        c.getGraphics().drawImage(img, 0, 0, null);
        return c;
    }

    /** Fills each token's tile with the explorer's colour over what is there (white when {@code blank}). */
    private static BufferedImage tiles(BufferedImage img, double[] map, int h, int w, boolean blank) {
        for (int y = 0; y < img.getHeight(); y++) {
            int ty = Math.min(h - 1, y * h / img.getHeight());
            for (int x = 0; x < img.getWidth(); x++) {
                int tx = Math.min(w - 1, x * w / img.getWidth());
                int bg = blank ? 0xFFFFFF : img.getRGB(x, y) & 0xFFFFFF;
                img.setRGB(x, y, over(map[ty * w + tx], bg));
            }
        }
        return img;
    }

    /** Thin token-grid lines over an image where the tiles are at least 6 pixels wide. */
    private static BufferedImage tokenGrid(BufferedImage img, int h, int w) {
        BufferedImage c = copy(img);
        if (img.getWidth() / w < 6 || img.getHeight() / h < 6) {
            return c;
        }
        Graphics2D g = c.createGraphics();
        g.setColor(new Color(0, 0, 0, 90));
        for (int i = 1; i < w; i++) {
            int x = i * c.getWidth() / w;
            g.drawLine(x, 0, x, c.getHeight());
        }
        for (int i = 1; i < h; i++) {
            int y = i * c.getHeight() / h;
            g.drawLine(0, y, c.getWidth(), y);
        }
        g.dispose();
        return c;
    }

    /** The explorer's highlight: the tile filled at 70 % opacity and outlined. */
    private static void highlight(BufferedImage img, int h, int w, int row, int col, Color color) {
        int x0 = col * img.getWidth() / w;
        int x1 = (col + 1) * img.getWidth() / w;
        int y0 = row * img.getHeight() / h;
        int y1 = (row + 1) * img.getHeight() / h;
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(color.getRed(), color.getGreen(), color.getBlue(), 178));
        g.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
        g.setColor(color.darker());
        g.setStroke(new BasicStroke(2f));
        g.drawRect(x0, y0, Math.max(1, x1 - x0) - 1, Math.max(1, y1 - y0) - 1);
        g.dispose();
        if (x1 - x0 < 8) {
            try (Canvas c = Canvas.over(img)) {
                c.marker((x0 + x1) / 2, (y0 + y1) / 2, 6);
            }
        }
    }
}
