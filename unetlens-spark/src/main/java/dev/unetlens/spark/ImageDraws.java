package dev.unetlens.spark;

import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.paper.PaperMaps;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import dev.unetlens.analysis.stats.Maps;
import dev.unetlens.analysis.stats.Welford;
import dev.unetlens.extract.ImageFeatures;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one image's draws leave, as the U-Net streams them (every timestep, every draw, every module): per draw the
 * paper's maps, the channels' mean |x| and the pooled features; per timestep, with more than one draw, the dispersion
 * of each module (as {@code analyze dispersion}, one module at a time: the std over the draws, n − 1, of every channel
 * at every position, averaged over the channels). The full maps go to {@code tensors} when asked for; with
 * {@code tokensAt} (a timestep) draw 0's tokens there are kept for the positional probe.
 */
final class ImageDraws implements ImageFeatures.BatchSink {
    /** What one module's map of one draw leaves. */
    record ModuleMaps(ImageMaps paper, float[] channelMeanAbs, float[] pooled) {
    }

    /** One module's dispersion at one timestep: the H × W map (row-major) and its mean. */
    record Spread(double[] map, double mean) {
    }

    private final Map<String, MapShape> shapes;
    private final boolean pooled;
    private final int samples;
    private final TensorFile tensors;
    private final Integer tokensAt;
    private final Map<String, Map<String, ModuleMaps>> draws = new HashMap<>();   // "t/k" → module → maps
    private final Map<Integer, Map<String, Spread>> spreads = new HashMap<>();
    private final Map<String, Welford> current = new LinkedHashMap<>();

    ImageDraws(Map<String, MapShape> shapes, boolean pooled, int samples, TensorFile tensors, Integer tokensAt) {
        this.tokensAt = tokensAt;
        this.shapes = shapes;
        this.pooled = pooled;
        this.samples = samples;
        this.tensors = tensors;
    }

    @Override
    public void accept(ImageFeatures.Batch b) {
        MapShape sh = shapes.get(b.point());
        float[] x = b.value().toFloatArray();                                    // [rows, C, H, W]
        int rows = (int) b.value().getShape().get(0);
        for (int r = 0; r < rows; r++) {
            float[] one = rows == 1 ? x : java.util.Arrays.copyOfRange(x, r * sh.size(), (r + 1) * sh.size());
            int k = b.first() + r;
            draws.computeIfAbsent(key(b.timestep(), k), t -> new LinkedHashMap<>()).put(b.point(), new ModuleMaps(
                    PaperMaps.image(0, one, sh, true, k == 0 && Integer.valueOf(b.timestep()).equals(tokensAt)), channelMeanAbs(one, sh), pooled ? spatialMean(one, sh) : null));
            if (tensors != null) {
                tensors.add(b.point(), sh, b.timestep(), k, one);
            }
        }
        if (samples > 1) {
            current.computeIfAbsent(b.point(), p -> new Welford(sh.size())).add(x, rows);
        }
    }

    @Override
    public void samplesDone(int image, int timestep) {
        if (samples < 2) {
            return;
        }
        Map<String, Spread> at = new LinkedHashMap<>();
        current.forEach((p, w) -> {
            double[] map = Maps.meanOverChannels(Maps.toDoubles(Maps.toFloats(w.std(1))), shapes.get(p).channels());
            at.put(p, new Spread(map, Maps.mean(map)));
        });
        spreads.put(timestep, at);
        current.clear();
    }

    /** Draw {@code k}'s maps at {@code timestep}, by module in the order the U-Net gave them. */
    Map<String, ModuleMaps> draw(int timestep, int k) {
        return draws.get(key(timestep, k));
    }

    /** The dispersion of every module at {@code timestep} (more than one draw), else an empty map. */
    Map<String, Spread> spread(int timestep) {
        return spreads.getOrDefault(timestep, Map.of());
    }

    private static String key(int timestep, int k) {
        return timestep + "/" + k;
    }

    /** Mean |x| of each channel of a map [C, H, W] (float64 sums). */
    static float[] channelMeanAbs(float[] x, MapShape s) {
        int p = s.positions();
        float[] out = new float[s.channels()];
        for (int c = 0; c < out.length; c++) {
            double sum = 0;
            for (int i = 0; i < p; i++) {
                sum += Math.abs(x[c * p + i]);
            }
            out[c] = (float) (sum / p);
        }
        return out;
    }

    /** The spatial mean of each channel of a map [C, H, W] (float64 sums): the pooled feature vector. */
    static float[] spatialMean(float[] x, MapShape s) {
        int p = s.positions();
        float[] out = new float[s.channels()];
        for (int c = 0; c < out.length; c++) {
            double sum = 0;
            for (int i = 0; i < p; i++) {
                sum += x[c * p + i];
            }
            out[c] = (float) (sum / p);
        }
        return out;
    }
}
