package dev.unetlens.analysis.paper;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.extract.ImageFeatures;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the paper's experiments keep of each image, module by module, as the U-Net streams one draw per image: the norm
 * map, the 3×3 group similarities (plain and with the ring dropped) of the first {@code groupLimit} images, and, when
 * the probe is asked for, the tokens themselves ([P, C] float32, the probe's inputs).
 */
public final class PaperMaps implements ImageFeatures.BatchSink {
    private final List<String> modules;
    private final List<Map<String, MapShape>> shapes;
    private final int groupLimit;
    private final boolean keepTokens;
    private final Map<String, List<ImageMaps>> byModule = new LinkedHashMap<>();

    /**
     * One image at one module.
     *
     * @param image  its index
     * @param norms  its norm map
     * @param plain  group similarity sums of the whole map, or null past the group limit
     * @param ring   the same with the outer ring dropped, or null
     * @param tokens [P·C] token-major (position p's channels at p·C …), or null
     */
    public record ImageMaps(int image, NormMap norms, TokenGroups.Sums plain, TokenGroups.Sums ring, float[] tokens) {
    }

    public PaperMaps(List<String> modules, List<Map<String, MapShape>> shapes, int groupLimit, boolean keepTokens) {
        this.modules = List.copyOf(modules);
        this.shapes = List.copyOf(shapes);
        this.groupLimit = groupLimit;
        this.keepTokens = keepTokens;
        modules.forEach(m -> byModule.put(m, new ArrayList<>()));
    }

    @Override
    public void accept(ImageFeatures.Batch b) {
        if (b.first() != 0 || b.value().getShape().get(0) != 1) {
            throw new UnetlensException("the paper's experiments take one noise draw per image");
        }
        MapShape s = shapes.get(b.image()).get(b.point());
        float[] x = b.value().toFloatArray();
        add(b.point(), b.image(), x, s);
    }

    /** Adds image {@code image}'s map [C, H, W] at {@code module} (what {@link #accept} does with a batch). */
    public void add(String module, int image, float[] x, MapShape s) {
        byModule.get(module).add(image(image, x, s, image < groupLimit, keepTokens));
    }

    /** What is kept of one image's map [C, H, W]: its norms, with {@code groups} its group sums, with {@code tokens} its tokens. */
    public static ImageMaps image(int image, float[] x, MapShape s, boolean groups, boolean tokens) {
        return new ImageMaps(image, NormMap.of(x, 0, s.channels(), s.height(), s.width()),
                groups ? TokenGroups.of(x, 0, s.channels(), s.height(), s.width(), 0) : null,
                groups ? TokenGroups.of(x, 0, s.channels(), s.height(), s.width(), 1) : null,
                tokens ? tokenMajor(x, s) : null);
    }

    /** Adds what was kept of an image (extracted one by one, or read back by a resumed run). */
    public void restore(String module, ImageMaps m) {
        byModule.get(module).add(m);
    }

    static float[] tokenMajor(float[] x, MapShape s) {
        int p = s.positions();
        int c = s.channels();
        float[] t = new float[p * c];
        for (int k = 0; k < c; k++) {
            for (int i = 0; i < p; i++) {
                t[i * c + k] = x[k * p + i];
            }
        }
        return t;
    }

    public List<String> modules() {
        return modules;
    }

    /** Each image's maps at {@code module}, by image index. */
    public List<ImageMaps> maps(String module) {
        List<ImageMaps> l = new ArrayList<>(byModule.get(module));
        l.sort(java.util.Comparator.comparingInt(ImageMaps::image));
        return l;
    }

    public MapShape shape(int image, String module) {
        return shapes.get(image).get(module);
    }
}
