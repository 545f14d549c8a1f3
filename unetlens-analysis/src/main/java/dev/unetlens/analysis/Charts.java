package dev.unetlens.analysis;

import dev.unetlens.viz.Chart;
import dev.unetlens.viz.colorize.Colormap;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.BasicStroke;
import java.awt.Color;

/** The XChart line charts of the analyses, in the look of the viz module ({@link Chart#style}) with a legend. */
public final class Charts {
    public static final BasicStroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {8f, 5f}, 0f);
    public static final BasicStroke THICK = new BasicStroke(3f);
    public static final BasicStroke THIN = new BasicStroke(1.5f);

    private Charts() {
    }

    /** An XY chart with title, axis titles and a legend to the right of the plot. */
    public static XYChart xy(String title, String xTitle, String yTitle, int width, int height) {
        XYChart c = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        Chart.style(c.getStyler());
        c.getStyler().setLegendVisible(true);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setLegendBorderColor(Color.WHITE);
        c.getStyler().setPlotGridVerticalLinesVisible(true);
        c.getStyler().setMarkerSize(5);
        return c;
    }

    /** Draws a series as a reference line: black, dashed, no markers. */
    public static void reference(org.knowm.xchart.XYSeries s) {
        s.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        s.setLineColor(Color.BLACK);
        s.setLineStyle(DASHED);
    }

    /** A count axis' label: whole numbers only (XChart also puts ticks at halves). */
    public static String integerOrBlank(Double v) {
        return v == Math.rint(v) ? Long.toString(Math.round(v)) : "";
    }

    /** Colour i of n along viridis (dark to yellow-green, leaving out the palest end). */
    public static Color sequential(int i, int n) {
        double x = n <= 1 ? 0.0 : 0.85 * i / (n - 1);
        return new Color(Colormap.VIRIDIS.rgb(x));
    }
}
