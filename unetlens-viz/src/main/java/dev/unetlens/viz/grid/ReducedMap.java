package dev.unetlens.viz.grid;

import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;
import dev.unetlens.viz.render.Text;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One channel-reduced map ({@link Reduction}) of a module's output, enlarged to about 384 px, with a colour bar. */
public final class ReducedMap {
    static final int DISPLAY = 384;

    private ReducedMap() {
    }

    public static Picture render(FeatureMap map, MapLabel label, Reduction reduction, Colorizer colorizer) {
        Plane plane = reduction.apply(map);
        double[] range = plane.range();
        int s = Layout.fit(plane.height(), plane.width(), DISPLAY);
        var img = Layout.scaled(colorizer.image(plane, range[0], range[1]), plane.width() * s, plane.height() * s);
        String first = Text.join(label.context(), map.shapeText(), reduction.description());
        List<String> subtitles = List.of(first, colorizer.label());
        ColorBar bar = FeatureGrid.numericBar(colorizer, range, reduction.cliName());
        var image = Layout.panels(label.module(), subtitles,
                List.of(new Layout.Row(null, List.of(new Layout.Panel(img)))), bar);
        Map<String, Object> fields = new LinkedHashMap<>(label.fields());
        fields.put("shape", List.of(map.channels(), map.height(), map.width()));
        fields.put("reduction", reduction.cliName());
        fields.putAll(FeatureGrid.colorFields(colorizer, AutoScope.SHARED, range));
        return new Picture(image, "reduced-map", label.module() + " · " + first, fields);
    }
}
