package dev.unetlens.web.features;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.colorize.ColorChoice;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.grid.AutoScope;
import dev.unetlens.viz.grid.FeatureGrid;
import dev.unetlens.viz.grid.GridOptions;
import dev.unetlens.viz.grid.ReducedMap;
import dev.unetlens.viz.grid.Reduction;
import dev.unetlens.viz.render.Layout;
import dev.unetlens.web.ApiError;
import dev.unetlens.web.Json;
import dev.unetlens.web.Params;
import dev.unetlens.web.runs.Catalog;
import dev.unetlens.web.runs.Manifests;
import dev.unetlens.web.runs.RunsRoot;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The feature explorer's API. Pictures are drawn by the viz module, as {@code unetlens viz} draws them; the page
 * adds navigation. Colour parameters are the CLI's: {@code color}, {@code transform}, {@code rgb}, {@code hsl},
 * {@code scope} (tile or shared).
 * <pre>
 *   GET /api/features?run=ID                          the dumped modules (block, shape, steps or images)
 *   GET /api/features/grid.png?run&amp;module&amp;step|image&amp;row&amp;page   the channel grid (FeatureGrid); its fields,
 *                                                     tile layout included, in the header X-Unetlens-Picture
 *   GET /api/features/reduced.png?…&amp;reduce=mean|l1|l2  the averaged map (ReducedMap)
 *   GET /api/features/tile.png?…&amp;channel=C|reduce=R&amp;size=PX  one channel (or the averaged map) alone, enlarged
 *                                                     (nearest), over its own range or [lo, hi]
 *   GET /api/features/values?…&amp;channel=C|reduce=R     the H×W values as float16: a 4-byte little-endian length,
 *                                                     a JSON header, then the data
 * </pre>
 */
public final class FeaturesApi {
    static final String PICTURE_HEADER = "X-Unetlens-Picture";
    private final RunsRoot root;
    private final Manifests manifests;

    public FeaturesApi(RunsRoot root, Manifests manifests) {
        this.root = root;
        this.manifests = manifests;
    }

    public void routes(JavalinConfig c) {
        c.routes.get("/api/features", this::modules);
        c.routes.get("/api/features/grid.png", this::grid);
        c.routes.get("/api/features/reduced.png", this::reduced);
        c.routes.get("/api/features/tile.png", this::tile);
        c.routes.get("/api/features/values", this::values);
    }

    private void modules(Context ctx) {
        Path dir = root.run(Params.text(ctx, "run"));
        Catalog catalog = manifests.catalog(dir);
        Map<String, ObjectNode> byModule = new java.util.LinkedHashMap<>();
        for (Catalog.TensorEntry t : catalog.tensors()) {
            if (!t.isFeatureMap()) {
                continue;
            }
            ObjectNode m = byModule.computeIfAbsent(t.module(), k -> module(t));
            if (t.step() > 0) {
                steps(m).add(Json.object().put("step", t.step()).put("timestep", t.timestep()));
            }
            if (t.image() != null) {
                m.withArray("images").add(t.image());
            }
        }
        for (ObjectNode m : byModule.values()) {      // one entry per step (a run with both CFG halves lists two)
            TreeMap<Integer, com.fasterxml.jackson.databind.JsonNode> unique = new TreeMap<>();
            steps(m).forEach(s -> unique.putIfAbsent(s.get("step").asInt(), s));
            m.putArray("steps").addAll(unique.values());
        }
        ObjectNode out = Json.object();
        out.put("kind", catalog.images() ? "images" : "generation");
        out.putArray("modules").addAll(byModule.values());
        Json.send(ctx, out);
    }

    private static ObjectNode module(Catalog.TensorEntry t) {
        ObjectNode m = Json.object().put("module", t.module()).put("block", t.block());
        m.putArray("shape").add(t.shape()[1]).add(t.shape()[2]).add(t.shape()[3]);
        m.put("rows", t.shape()[0]);
        m.putArray("steps");
        m.putArray("images");
        return m;
    }

    private static ArrayNode steps(ObjectNode m) {
        return (ArrayNode) m.get("steps");
    }

    private void grid(Context ctx) {
        FeatureSource src = FeatureSource.of(root, manifests, ctx);
        Colorizer colorizer = colorizer(ctx);
        AutoScope scope = Params.choice(ctx, "scope", "shared", "shared", "tile").equals("tile")
                ? AutoScope.TILE : AutoScope.SHARED;
        GridOptions options = GridOptions.defaults().withColorizer(colorizer).withScope(scope);
        List<Picture> pages = FeatureGrid.render(src.map(), src.label(), options);
        int page = Params.integer(ctx, "page", 1, pages.size(), 1);
        send(ctx, pages.get(page - 1));
    }

    private void reduced(Context ctx) {
        FeatureSource src = FeatureSource.of(root, manifests, ctx);
        Reduction r = reduction(ctx);
        send(ctx, ReducedMap.render(src.map(), src.label(), r, choice(ctx).reducedColorizer(r)));
    }

    private void tile(Context ctx) {
        Selected sel = selected(ctx);
        Plane p = sel.plane();
        Colorizer colorizer = sel.reduction() != null ? choice(ctx).reducedColorizer(sel.reduction()) : colorizer(ctx);
        int size = Params.integer(ctx, "size", 16, 2048, 512);
        double[] r = p.range();
        double lo = number(ctx, "lo", r[0]);
        double hi = number(ctx, "hi", r[1]);
        int s = Layout.fit(p.height(), p.width(), size);
        var img = Layout.scaled(colorizer.image(p, lo, hi), p.width() * s, p.height() * s);
        ctx.contentType("image/png").result(png(img));
    }

    private void values(Context ctx) {
        Selected sel = selected(ctx);
        Plane p = sel.plane();
        double[] range = p.range();
        ObjectNode header = Json.object().put("dtype", "float16").put("of", sel.what())
                .put("min", range[0]).put("max", range[1]);
        header.putArray("shape").add(p.height()).add(p.width());
        ctx.contentType("application/octet-stream").result(Float16Frame.encode(header, p.values()));
    }

    /**
     * The H×W map a tile or values request names: with {@code reduce}, the channel-averaged map (reading the row),
     * else channel {@code channel} (reading only its values).
     *
     * @param reduction the reduction, or null for one channel
     */
    private record Selected(Plane plane, Reduction reduction, String what) {
    }

    private Selected selected(Context ctx) {
        FeatureSource src = FeatureSource.of(root, manifests, ctx);
        if (ctx.queryParam("reduce") != null) {
            Reduction r = reduction(ctx);
            return new Selected(r.apply(src.map()), r, r.cliName());
        }
        int c = Params.integer(ctx, "channel", 0, Integer.MAX_VALUE);
        return new Selected(src.channel(c), null, "channel " + c);
    }

    private static Reduction reduction(Context ctx) {
        try {
            return Reduction.parse(Params.text(ctx, "reduce"));
        } catch (IllegalArgumentException e) {
            throw ApiError.badParameter("reduce", e.getMessage());
        }
    }

    static ColorChoice choice(Context ctx) {
        return new ColorChoice(Params.text(ctx, "color", "viridis"), Params.text(ctx, "transform", null),
                Params.text(ctx, "rgb", null), Params.text(ctx, "hsl", null));
    }

    /** The colours the parameters name; a 400 at the field that is wrong ("--transform: …" → transform). */
    static Colorizer colorizer(Context ctx) {
        try {
            return choice(ctx).colorizer();
        } catch (IllegalArgumentException e) {
            var m = java.util.regex.Pattern.compile("^--([a-z]+)").matcher(e.getMessage());
            throw ApiError.badParameter(m.find() ? m.group(1) : "color", e.getMessage());
        }
    }

    private static double number(Context ctx, String name, double fallback) {
        String v = Params.text(ctx, name, null);
        if (v == null) {
            return fallback;
        }
        try {
            double d = Double.parseDouble(v);
            if (!Double.isFinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw ApiError.badParameter(name, "parameter '" + name + "' must be a finite number, got '" + v + "'");
        }
    }

    /** A picture as PNG, its fields in the header {@value #PICTURE_HEADER}. */
    public static void send(Context ctx, Picture p) {
        try {
            ctx.header(PICTURE_HEADER, Json.MAPPER.writeValueAsString(p.fields()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ctx.contentType("image/png").result(png(p.image()));
    }

    static byte[] png(java.awt.image.BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            dev.unetlens.io.RgbImage.writePng(img, out, Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
