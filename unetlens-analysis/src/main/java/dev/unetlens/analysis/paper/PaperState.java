package dev.unetlens.analysis.paper;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import dev.unetlens.io.DType;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link PaperRun} keeps of one finished image, as an {@code .npz} a resumed run reads instead of extracting the
 * image again: per module {@code <module>/norms} (H, W) float64, {@code <module>/plain}, {@code /ring},
 * {@code /cropped} (2, 3, 3) float64 group sums and pair counts, {@code <module>/tokens} (P, C) float32.
 */
public final class PaperState {
    private PaperState() {
    }

    /** One image's maps at every module, and those of its cropped copy (may be empty). */
    public record ImageState(Map<String, ImageMaps> maps, Map<String, ImageMaps> cropped) {
    }

    public static Map<String, NpyArray> toArrays(ImageState s) {
        Map<String, NpyArray> a = new LinkedHashMap<>();
        for (var e : s.maps().entrySet()) {
            ImageMaps m = e.getValue();
            a.put(e.getKey() + "/norms", f64(new long[] {m.norms().height(), m.norms().width()}, m.norms().norms()));
            if (m.plain() != null) {
                a.put(e.getKey() + "/plain", sums(m.plain()));
                a.put(e.getKey() + "/ring", sums(m.ring()));
            }
            if (m.tokens() != null) {
                int p = m.norms().height() * m.norms().width();
                a.put(e.getKey() + "/tokens", NpyArray.ofFloats(new long[] {p, m.tokens().length / p}, m.tokens()));
            }
        }
        for (var e : s.cropped().entrySet()) {
            a.put(e.getKey() + "/cropped", sums(e.getValue().plain()));
        }
        return a;
    }

    /** Reads back an image's state; fails when a module's arrays are missing or of another shape. */
    public static ImageState fromArrays(Map<String, NpyArray> a, int image, List<String> modules, Map<String, MapShape> shapes,
                                        boolean groups, boolean tokens, List<String> croppedModules, String where) {
        Map<String, ImageMaps> maps = new LinkedHashMap<>();
        Map<String, ImageMaps> cropped = new LinkedHashMap<>();
        for (String m : modules) {
            MapShape s = shapes.get(m);
            double[] norms = get(a, m + "/norms", (long) s.positions(), where).toDoubles();
            TokenGroups.Sums plain = groups ? sums(get(a, m + "/plain", 18, where)) : null;
            TokenGroups.Sums ring = groups ? sums(get(a, m + "/ring", 18, where)) : null;
            float[] t = tokens ? get(a, m + "/tokens", (long) s.size(), where).toFloats() : null;
            maps.put(m, new ImageMaps(image, new NormMap(norms, s.height(), s.width()), plain, ring, t));
        }
        for (String m : croppedModules) {
            TokenGroups.Sums c = sums(get(a, m + "/cropped", 18, where));
            cropped.put(m, new ImageMaps(image, null, c, null, null));
        }
        return new ImageState(maps, cropped);
    }

    private static NpyArray get(Map<String, NpyArray> a, String key, long size, String where) {
        NpyArray x = a.get(key);
        if (x == null || x.size() != size) {
            throw new UnetlensException(where + " lacks " + key + " or holds another shape; resume with --force to start over");
        }
        return x;
    }

    private static NpyArray sums(TokenGroups.Sums s) {
        double[] v = new double[18];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                v[i * 3 + j] = s.sums()[i][j];
                v[9 + i * 3 + j] = s.counts()[i][j];
            }
        }
        return f64(new long[] {2, 3, 3}, v);
    }

    private static TokenGroups.Sums sums(NpyArray a) {
        double[] v = a.toDoubles();
        double[][] s = new double[3][3];
        long[][] c = new long[3][3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                s[i][j] = v[i * 3 + j];
                c[i][j] = (long) v[9 + i * 3 + j];
            }
        }
        return new TokenGroups.Sums(s, c);
    }

    private static NpyArray f64(long[] shape, double[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(v);
        return new NpyArray(DType.F64, shape, b);
    }
}
