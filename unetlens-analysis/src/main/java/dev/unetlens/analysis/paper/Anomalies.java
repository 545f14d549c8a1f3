package dev.unetlens.analysis.paper;

import dev.unetlens.analysis.paper.AnomalyDetector.Patch;
import dev.unetlens.analysis.paper.AnomalyLabels.Label;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;

import java.util.ArrayList;
import java.util.List;

/**
 * The anomaly experiment over every module: the paper's norm ratio at the labels ({@link AnomalyWindow}), the
 * detector's patches ({@link AnomalyDetector}), and how well they agree with the labels.
 */
public final class Anomalies {
    /** A patch is a hit when, grown by this many tokens, it meets a label's window. */
    public static final int MATCH_MARGIN = 1;

    private Anomalies() {
    }

    /** A detected patch of an image. */
    public record Found(int image, Patch patch) {
    }

    /** Mean and population std (numpy's default) of the ratios, over the labels. */
    public record Ratio(double[] values, double mean, double std) {
        static Ratio of(double[] v) {
            double m = 0;
            for (double x : v) {
                m += x;
            }
            m /= v.length;
            double s = 0;
            for (double x : v) {
                s += (x - m) * (x - m);
            }
            return new Ratio(v, v.length == 0 ? Double.NaN : m, v.length == 0 ? Double.NaN : Math.sqrt(s / v.length));
        }
    }

    /** Precision (hits / patches) and recall (labels found / labels) at a module. */
    public record Score(int patches, int hits, int labels, int found) {
        public double precision() {
            return patches == 0 ? Double.NaN : (double) hits / patches;
        }

        public double recall() {
            return labels == 0 ? Double.NaN : (double) found / labels;
        }
    }

    /** The paper's ratio of each label at a module whose maps are {@code maps}; the reference map has refHeight rows. */
    public static Ratio ratios(List<ImageMaps> maps, List<Label> labels, int refHeight) {
        double[] v = new double[labels.size()];
        for (int j = 0; j < v.length; j++) {
            Label l = labels.get(j);
            NormMap m = byImage(maps, l.image()).norms();
            v[j] = AnomalyWindow.of(l.x(), l.y(), m.height(), refHeight).ratio(m);
        }
        return Ratio.of(v);
    }

    /** Every image's patches at a module. */
    public static List<Found> detect(List<ImageMaps> maps, double k) {
        List<Found> out = new ArrayList<>();
        for (ImageMaps m : maps) {
            for (Patch p : AnomalyDetector.detect(m.norms(), k)) {
                out.add(new Found(m.image(), p));
            }
        }
        return out;
    }

    /** Patches as the paper's labels: the upper-left token of each (x = column, y = row). */
    public static List<Label> asLabels(List<Found> found) {
        return found.stream().map(f -> new Label(f.image(), f.patch().col(), f.patch().row())).toList();
    }

    /** How the patches at a module of {@code height} rows agree with the labels at the reference map. */
    public static Score score(List<Found> found, List<Label> labels, int height, int refHeight) {
        int hits = 0;
        for (Found f : found) {
            if (labels.stream().anyMatch(l -> l.image() == f.image()
                    && f.patch().meets(AnomalyWindow.of(l.x(), l.y(), height, refHeight), MATCH_MARGIN))) {
                hits++;
            }
        }
        int labelsFound = 0;
        for (Label l : labels) {
            AnomalyWindow w = AnomalyWindow.of(l.x(), l.y(), height, refHeight);
            if (found.stream().anyMatch(f -> f.image() == l.image() && f.patch().meets(w, MATCH_MARGIN))) {
                labelsFound++;
            }
        }
        return new Score(found.size(), hits, labels.size(), labelsFound);
    }

    static ImageMaps byImage(List<ImageMaps> maps, int image) {
        for (ImageMaps m : maps) {
            if (m.image() == image) {
                return m;
            }
        }
        throw new IllegalArgumentException("no maps of image " + image);
    }
}
