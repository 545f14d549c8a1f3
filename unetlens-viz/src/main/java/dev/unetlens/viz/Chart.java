package dev.unetlens.viz;

import com.fasterxml.jackson.databind.node.ObjectNode;
import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.svg.SVGProcessor;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import dev.unetlens.io.OutputDirectory;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.style.AxesChartStyler;

import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A chart drawn by XChart, written twice: PNG for looking, SVG for papers (through VectorGraphics2D).
 *
 * @param chart       the XChart chart
 * @param kind        {@code token-attention-mass}, {@code token-norm-histogram}
 * @param description one line for people
 * @param fields      what made it, for the manifest
 */
public record Chart(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, String kind, String description,
                    Map<String, Object> fields) {

    public Chart {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /** The chart as pixels. */
    public BufferedImage image() {
        return BitmapEncoder.getBufferedImage(chart);
    }

    /** As a {@link Picture} (the PNG half), e.g. to place beside other pictures. */
    public Picture picture() {
        return new Picture(image(), kind, description, fields);
    }

    /**
     * Writes {@code name}.png and {@code name}.svg (an extension on {@code name} is dropped) and records both in
     * the manifest with {@code kind}, {@code format} and the fields; returns the two entries, PNG first.
     */
    public List<ObjectNode> write(OutputDirectory out, String name) {
        String base = name.replaceFirst("\\.(png|svg)$", "");
        ObjectNode png = picture().write(out, base + ".png");
        png.put("format", "png");
        ObjectNode svg = out.write(base + ".svg", this::writeSvg, description);
        svg.put("kind", kind);
        svg.put("format", "svg");
        for (Map.Entry<String, Object> f : fields.entrySet()) {
            svg.set(f.getKey(), Picture.toJson(f.getValue()));
        }
        out.saveManifest();
        return List.of(png, svg);
    }

    /** The chart as SVG: XChart paints onto VectorGraphics2D's recording Graphics2D, which writes SVG. */
    public void writeSvg(OutputStream out) throws IOException {
        VectorGraphics2D g = new VectorGraphics2D();
        chart.paint(g, chart.getWidth(), chart.getHeight());
        new SVGProcessor().getDocument(g.getCommands(), new PageSize(0, 0, chart.getWidth(), chart.getHeight()))
                .writeTo(out);
    }

    /** The look every unetlens chart shares: white, no legend, SansSerif, light horizontal grid. */
    public static void style(AxesChartStyler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderVisible(false);
        s.setLegendVisible(false);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        s.setChartTitleBoxVisible(false);
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setPlotGridLinesColor(new Color(0xE0, 0xE0, 0xE0));
        s.setPlotGridVerticalLinesVisible(false);
        s.setChartPadding(16);
    }
}
