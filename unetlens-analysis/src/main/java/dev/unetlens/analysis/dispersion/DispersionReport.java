package dev.unetlens.analysis.dispersion;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.Charts;
import dev.unetlens.analysis.Outputs;
import dev.unetlens.analysis.Panels;
import dev.unetlens.analysis.Units;
import dev.unetlens.analysis.dispersion.Dispersion.ImageResult;
import dev.unetlens.analysis.dispersion.Dispersion.Options;
import dev.unetlens.analysis.dispersion.Dispersion.Result;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.Chart;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Writes a {@link Dispersion} run: per image, as soon as it is done, {@code dispersion/<image>.npy} [T, S_h, S_w]
 * (the std maps, float64) and its picture at the map timestep beside the input (matplotlib's {@code hot}, the
 * notebook's fixed scale, a colour bar); at the end the std-against-timestep chart (a line per image and their
 * mean), {@code std_vs_timestep.npy} [images, T] and {@code results.json}.
 */
public final class DispersionReport {
    static final int DISPLAY = 320;

    private DispersionReport() {
    }

    /** What to do with each image's result as it arrives: write its array and picture. */
    public static Consumer<ImageResult> perImage(OutputDirectory out, ImageSet images, Options o) {
        return r -> {
            List<Integer> ts = o.sampling().timesteps();
            double[] flat = new double[ts.size() * r.height() * r.width()];
            for (int t = 0; t < ts.size(); t++) {
                System.arraycopy(r.maps()[t], 0, flat, t * r.height() * r.width(), r.height() * r.width());
            }
            Outputs.writeNpy(out, "dispersion/" + r.name() + ".npy", new long[] {ts.size(), r.height(), r.width()}, flat,
                    r.name() + ": std over draws averaged over channels [timesteps, H, W], float64");
            picture(r, images.image(r.index()), o).write(out, "dispersion/" + r.name() + "_t" + o.mapTimestep());
        };
    }

    /** The std map at the map timestep beside the input image. */
    public static Picture picture(ImageResult r, RgbImage image, Options o) {
        int t = o.sampling().timesteps().indexOf(o.mapTimestep());
        double[] map = r.maps()[t];
        double lo = o.vmin();
        double hi = o.vmax();
        BufferedImage small = new BufferedImage(r.width(), r.height(), BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < map.length; p++) {
            small.setRGB(p % r.width(), p / r.width(), Colormap.HOT.rgb((map[p] - lo) / (hi - lo)));
        }
        int s = Layout.fit(r.height(), r.width(), DISPLAY);
        BufferedImage big = Panels.framed(Layout.scaled(small, r.width() * s, r.height() * s));
        BufferedImage input = Panels.fit(image.toBufferedImage(), Math.max(big.getWidth(), big.getHeight()));
        String modules = String.join(" + ", o.sampling().points());
        List<Layout.Panel> panels = List.of(new Layout.Panel(input, "input image · " + image.width() + "×" + image.height()),
                new Layout.Panel(big, "std map · " + r.height() + "×" + r.width()));
        String title = String.format(Locale.ROOT, "Standard deviation (mean: ±%.2f) · %s", r.meanStd()[t], r.name());
        List<String> sub = List.of(modules + " · t = " + o.mapTimestep() + " · " + o.sampling().samples()
                        + " noise draws · std over draws (n − 1), averaged over channels",
                String.format(Locale.ROOT, "hot over the fixed range [%s, %s]", num(lo), num(hi)));
        ColorBar bar = ColorBar.of(lo, hi, v -> Colormap.HOT.rgb((v - lo) / (hi - lo)), "std over draws (activation)");
        BufferedImage img = Layout.panels(title, sub, List.of(new Layout.Row(null, panels)), bar);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("image", r.name());
        fields.put("modules", o.sampling().points());
        fields.put("timestep", o.mapTimestep());
        fields.put("samples", o.sampling().samples());
        fields.put("meanStd", r.meanStd()[t]);
        fields.put("scale", List.of(lo, hi));
        return new Picture(img, "dispersion-map", r.name() + " · std over draws at t = " + o.mapTimestep(), fields);
    }

    /** Mean std against timestep: a line per image and their mean. */
    public static Chart timestepChart(Result r) {
        List<Integer> ts = r.options().sampling().timesteps();
        double[] x = ts.stream().mapToDouble(Integer::doubleValue).toArray();
        XYChart c = Charts.xy(String.join(" + ", r.options().sampling().points()) + " · dispersion over timesteps",
                "timestep t (DDPM, 0–999)", "mean std over draws (activation)", 860, 500);
        int shown = Math.min(r.names().size(), 20);
        for (int i = 0; i < shown; i++) {
            XYSeries s = c.addSeries(r.names().get(i), x, r.meanStd()[i]);
            s.setLineColor(Charts.sequential(i, shown));
            s.setMarkerColor(Charts.sequential(i, shown));
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setLineStyle(Charts.THIN);
        }
        if (r.names().size() > shown) {
            XYSeries more = c.addSeries("(" + (r.names().size() - shown) + " more images in results.json)",
                    new double[] {x[0]}, new double[] {r.meanStd()[0][0]});
            more.setMarker(SeriesMarkers.NONE);
            more.setLineColor(Color.WHITE);
        }
        XYSeries mean = c.addSeries("mean over " + r.names().size() + (r.names().size() == 1 ? " image" : " images"), x, r.meanOverImages());
        mean.setLineColor(Color.BLACK);
        mean.setMarkerColor(Color.BLACK);
        mean.setMarker(SeriesMarkers.SQUARE);
        mean.setLineStyle(Charts.THICK);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("modules", r.options().sampling().points());
        fields.put("timesteps", ts);
        fields.put("images", r.names());
        return new Chart(c, "dispersion-timesteps", "mean std over draws against timestep", fields);
    }

    /** The chart, the per-timestep array and results.json. */
    public static void write(Result r, ObjectNode request, OutputDirectory out) {
        List<Integer> ts = r.options().sampling().timesteps();
        double[] flat = new double[r.names().size() * ts.size()];
        for (int i = 0; i < r.names().size(); i++) {
            System.arraycopy(r.meanStd()[i], 0, flat, i * ts.size(), ts.size());
        }
        Outputs.writeNpy(out, "std_vs_timestep.npy", new long[] {r.names().size(), ts.size()}, flat,
                "mean std over draws [images, timesteps], float64");
        timestepChart(r).write(out, "std_vs_timestep");
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("analysis", "dispersion");
        json.put("what", "std over noise draws (n − 1) of every channel and position of the concatenated modules,"
                + " averaged over channels: a map per image and timestep, and its mean");
        ObjectNode q = r.options().sampling().toJson();
        q.put("map_timestep", r.options().mapTimestep());
        q.set("scale", Outputs.array(new double[] {r.options().vmin(), r.options().vmax()}));
        q.put("concat", "sdhelper concat: nearest repetition to the largest size, bottom/right zero-padded");
        q.setAll(request);
        json.set("request", q);
        json.put("channels", r.channels());
        json.set("timesteps", Outputs.quantity(Units.TIMESTEP, json.arrayNode().addAll(ts.stream().map(json::numberNode).toList())));
        ArrayNode images = json.putArray("images");
        for (int i = 0; i < r.names().size(); i++) {
            ObjectNode e = images.addObject();
            String n = r.names().get(i);
            e.put("name", n);
            e.set("mean_std", Outputs.quantity(Units.ACTIVATION, Outputs.array(r.meanStd()[i])));
            e.put("maps", "dispersion/" + n + ".npy");
            e.put("picture", "dispersion/" + n + "_t" + r.options().mapTimestep() + ".png");
        }
        json.set("mean_std_over_images", Outputs.quantity(Units.ACTIVATION, Outputs.array(r.meanOverImages())));
        json.put("chart", "std_vs_timestep.png");
        Outputs.writeResults(out, json);
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
