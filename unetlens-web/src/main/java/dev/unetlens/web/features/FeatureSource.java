package dev.unetlens.web.features;

import dev.unetlens.web.ApiError;
import dev.unetlens.web.Params;
import dev.unetlens.web.runs.Catalog;
import dev.unetlens.web.runs.Manifests;
import dev.unetlens.web.runs.RunsRoot;
import dev.unetlens.web.tensors.TensorReader;
import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Plane;
import io.javalin.http.Context;

import java.nio.file.Path;

/**
 * The feature map a request names: {@code run}, {@code module}, then {@code step} (generation dumps, from 1) or
 * {@code image} (image dumps), and {@code row} (the batch row or noise sample, from 0). Only the row asked for is read
 * from the memory-mapped file, and for one channel only that channel's H×W values.
 *
 * @param file  the tensor's file
 * @param entry the manifest's entry for it
 */
record FeatureSource(Path file, Catalog.TensorEntry entry, int row) {

    static FeatureSource of(RunsRoot root, Manifests manifests, Context ctx) {
        Path dir = root.run(Params.text(ctx, "run"));
        Catalog catalog = manifests.catalog(dir);
        String module = Params.text(ctx, "module");
        String image = Params.text(ctx, "image", null);
        int step = image != null ? 0 : Params.integer(ctx, "step", 1, 1_000_000, firstStep(catalog, module));
        Catalog.TensorEntry e = catalog.find(module, step, image, null);
        if (e == null || !e.isFeatureMap()) {
            throw ApiError.notFound("this run has no feature map of '" + module + "'"
                    + (image != null ? " for image '" + image + "'" : " at step " + step));
        }
        int row = Params.integer(ctx, "row", 0, Math.toIntExact(e.shape()[0] - 1), 0);
        return new FeatureSource(root.file(dir, e.file()), e, row);
    }

    private static int firstStep(Catalog c, String module) {
        var steps = c.stepsByModule().get(module);
        return steps == null || steps.isEmpty() ? 0 : steps.getFirst();
    }

    int channels() {
        return Math.toIntExact(entry.shape()[1]);
    }

    int height() {
        return Math.toIntExact(entry.shape()[2]);
    }

    int width() {
        return Math.toIntExact(entry.shape()[3]);
    }

    /** The row's [C, H, W] map. */
    FeatureMap map() {
        long per = (long) channels() * height() * width();
        return new FeatureMap(TensorReader.read(file, entry.entry(), entry.shape(), row * per, per), channels(),
                height(), width());
    }

    /** One channel's H×W plane, reading only its values. */
    Plane channel(int c) {
        Params.check("channel", c, 0, channels() - 1);
        long hw = (long) height() * width();
        long first = ((long) row * channels() + c) * hw;
        return new Plane(TensorReader.read(file, entry.entry(), entry.shape(), first, hw), height(), width());
    }

    MapLabel label() {
        String source = entry.image() != null ? "image " + entry.image() : "";
        if (entry.shape()[0] > 1) {
            source = (source.isEmpty() ? "" : source + " · ") + "row " + row + " of " + entry.shape()[0];
        }
        return new MapLabel(entry.module(), entry.step() > 0 ? entry.step() : -1, entry.timestep(), source);
    }
}
