package dev.unetlens.web.attention;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.attention.CrossAttentionGrid;
import dev.unetlens.viz.attention.HeatMaps;
import dev.unetlens.viz.attention.SelfAttentionMap;
import dev.unetlens.viz.attention.Tokens;
import dev.unetlens.viz.attention.WordHeatMap;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.grid.AutoScope;
import dev.unetlens.web.ApiError;
import dev.unetlens.web.Json;
import dev.unetlens.web.Lru;
import dev.unetlens.web.Params;
import dev.unetlens.web.features.Float16Frame;
import dev.unetlens.web.features.FeaturesApi;
import dev.unetlens.web.runs.Manifests;
import dev.unetlens.web.runs.RunsRoot;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;

import java.nio.file.Path;
import java.util.List;

/**
 * The attention page's API over a generation dump with attention probabilities. Every picture is the viz module's
 * ({@link WordHeatMap} over DAAM's aggregation {@link dev.unetlens.viz.attention.DaamAccumulator},
 * {@link CrossAttentionGrid}, {@link SelfAttentionMap}), as {@code demo} and {@code viz} draw them; the page adds
 * navigation.
 * <pre>
 *   GET /api/attention?run=ID                           prompt tokens, latent, image, modules (kind, heads, map, steps)
 *   GET /api/attention/heat.png?run&amp;token=I|word=W&amp;modules&amp;heads&amp;steps&amp;normalize&amp;row
 *                                                       a word's DAAM heat map over the image (WordHeatMap)
 *   GET /api/attention/heat?…                           its latent-size values as a float16 frame
 *   GET /api/attention/maps.png?run&amp;module&amp;step&amp;heads&amp;tokens&amp;scope&amp;page   raw cross-attention maps,
 *                                                       heads × tokens (CrossAttentionGrid)
 *   GET /api/attention/self.png?run&amp;module&amp;step&amp;heads&amp;x&amp;y   where position (y, x) of a self-attention
 *                                                       looks (SelfAttentionMap)
 *   GET /api/attention/self?…                           that map's values as a float16 frame
 * </pre>
 */
public final class AttentionApi {
    private static final int CACHED_HEAT_MAPS = 8;
    private final RunsRoot root;
    private final Manifests manifests;
    private final Lru<String, HeatMaps> cache = new Lru<>(CACHED_HEAT_MAPS);

    public AttentionApi(RunsRoot root, Manifests manifests) {
        this.root = root;
        this.manifests = manifests;
    }

    public void routes(JavalinConfig c) {
        c.routes.get("/api/attention", this::meta);
        c.routes.get("/api/attention/heat.png", this::heatPicture);
        c.routes.get("/api/attention/heat", this::heatValues);
        c.routes.get("/api/attention/maps.png", this::maps);
        c.routes.get("/api/attention/self.png", this::selfPicture);
        c.routes.get("/api/attention/self", this::selfValues);
    }

    private AttentionDump dump(Context ctx) {
        Path dir = root.run(Params.text(ctx, "run"));
        return AttentionDump.of(root, dir, manifests.manifest(dir), manifests.catalog(dir));
    }

    private void meta(Context ctx) {
        AttentionDump d = dump(ctx);
        List<AttentionDump.Module> modules = d.list();
        int keys = modules.stream().filter(AttentionDump.Module::cross).mapToInt(AttentionDump.Module::keys)
                .findFirst().orElse(77);
        List<String> labels = d.tokenLabels(0, keys);
        ObjectNode out = Json.object().put("prompt", d.prompt(0)).put("image", d.imageFile(0))
                .put("rows", modules.getFirst().rows());
        labels.subList(0, Tokens.promptLength(labels)).forEach(out.putArray("tokens")::add);
        out.putArray("latent").add(d.latent()[0]).add(d.latent()[1]);
        List<AttentionDump.Module> cross = modules.stream().filter(AttentionDump.Module::cross).toList();
        (cross.isEmpty() ? List.<String>of() : HeatSelection.daamDefault(cross, d.latent()))
                .forEach(out.putArray("daam")::add);
        var list = out.putArray("modules");
        for (AttentionDump.Module m : modules) {
            ObjectNode o = list.addObject().put("module", m.name()).put("kind", m.cross() ? "cross" : "self")
                    .put("heads", m.heads()).put("keys", m.keys());
            o.putArray("map").add(m.height()).add(m.width());
            m.steps().forEach(o.putArray("steps")::add);
        }
        Json.send(ctx, out);
    }

    /** A word's heat map at the latent size, with what it is of. */
    private record Word(String text, List<Integer> tokens, Plane heat, HeatMaps maps, int row) {
    }

    private Word word(Context ctx, AttentionDump d) {
        HeatSelection sel = HeatSelection.of(ctx, d);
        HeatMaps maps = heatMaps(d, sel);
        List<String> labels = d.tokenLabels(sel.row(), 77).subList(0, maps.tokens());
        List<Integer> idx;
        String word = Params.text(ctx, "word", null);
        if (word != null) {
            idx = Tokens.indicesOf(labels, AttentionDump.wordTokens(word));
            if (idx.isEmpty()) {
                throw ApiError.badParameter("word", "'" + word + "' is not a word of the prompt '" + d.prompt(sel.row())
                        + "'; pick one of its tokens");
            }
        } else {
            idx = Params.integers(ctx, "token", 0, maps.tokens() - 1);
            if (idx.isEmpty()) {
                throw ApiError.badParameter("token", "give a token index (0 … " + (maps.tokens() - 1) + ") or a word");
            }
        }
        String text = word != null ? word : String.join(" ", idx.stream().map(i -> Tokens.display(labels.get(i))).toList());
        return new Word(text, idx, maps.word(idx), maps, sel.row());
    }

    private HeatMaps heatMaps(AttentionDump d, HeatSelection sel) {
        String key = d.dir() + "\u0000" + System.identityHashCode(d.catalog()) + "\u0000" + sel;
        HeatMaps hit = cache.get(key);
        if (hit != null) {
            return hit;
        }
        HeatMaps maps = sel.compute(d);
        cache.put(key, maps);
        return maps;
    }

    private void heatPicture(Context ctx) {
        AttentionDump d = dump(ctx);
        Word w = word(ctx, d);
        RgbImage image = d.image(w.row());
        if (image == null) {
            image = blank(d.latent()[0] * 8, d.latent()[1] * 8);
        }
        boolean absolute = Params.choice(ctx, "absolute", "false", "true", "false").equals("true");
        Picture p = WordHeatMap.render(image, List.of(new WordHeatMap.Word(w.text(), w.heat())), "DAAM word heat map",
                WordHeatMap.sources(w.maps()), WordHeatMap.Options.defaults().withAbsolute(absolute));
        FeaturesApi.send(ctx, p);
    }

    /** A mid-grey image for runs whose dump has no generated image. */
    private static RgbImage blank(int height, int width) {
        byte[] rgb = new byte[height * width * 3];
        java.util.Arrays.fill(rgb, (byte) 96);
        return new RgbImage(width, height, rgb);
    }

    private void heatValues(Context ctx) {
        Word w = word(ctx, dump(ctx));
        double[] r = w.heat().range();
        ObjectNode h = Json.object().put("dtype", "float16").put("of", w.text()).put("min", r[0]).put("max", r[1])
                .put("normalized", w.maps().normalized());
        w.tokens().forEach(h.putArray("tokens")::add);
        h.putArray("shape").add(w.heat().height()).add(w.heat().width());
        h.set("sources", Json.MAPPER.valueToTree(w.maps().sources()));
        ctx.contentType("application/octet-stream").result(Float16Frame.encode(h, w.heat().values()));
    }

    private void maps(Context ctx) {
        AttentionDump d = dump(ctx);
        AttentionDump.Module m = d.module("module", Params.text(ctx, "module"), true);
        int step = step(ctx, m);
        int row = Params.integer(ctx, "row", 0, m.rows() - 1, 0);
        List<String> labels = d.tokenLabels(row, m.keys());
        var probs = d.probs(m, step, row);
        CrossAttentionGrid.Options o = CrossAttentionGrid.Options.defaults(probs)
                .withHeads(Params.integers(ctx, "heads", 0, m.heads() - 1))
                .withTokens(Params.integers(ctx, "tokens", 0, labels.size() - 1))
                .withScope(Params.choice(ctx, "scope", "shared", "shared", "tile").equals("tile")
                        ? AutoScope.TILE : AutoScope.SHARED);
        o = new CrossAttentionGrid.Options(0, o.heads(), o.tokens(), o.colorizer(), o.scope(), o.maxPageSide());
        List<Picture> pages = CrossAttentionGrid.render(probs, d.label(m, step), labels, o);
        FeaturesApi.send(ctx, pages.get(Params.integer(ctx, "page", 1, pages.size(), 1) - 1));
    }

    /** A self-attention query's map, with what the picture needs. */
    private record Query(AttentionDump dump, AttentionDump.Module module, int step, int row, int[] heads, int y, int x,
                         Plane map) {
    }

    private Query query(Context ctx) {
        AttentionDump d = dump(ctx);
        AttentionDump.Module m = d.module("module", Params.text(ctx, "module"), false);
        int step = step(ctx, m);
        int row = Params.integer(ctx, "row", 0, m.rows() - 1, 0);
        List<Integer> chosen = Params.integers(ctx, "heads", 0, m.heads() - 1);
        int[] heads = chosen.isEmpty() ? java.util.stream.IntStream.range(0, m.heads()).toArray()
                : chosen.stream().mapToInt(Integer::intValue).toArray();
        int y = Params.integer(ctx, "y", 0, m.height() - 1);
        int x = Params.integer(ctx, "x", 0, m.width() - 1);
        return new Query(d, m, step, row, heads, y, x, d.selfMap(m, step, row, heads, y, x));
    }

    private void selfPicture(Context ctx) {
        Query q = query(ctx);
        FeaturesApi.send(ctx, SelfAttentionMap.render(q.dump().image(q.row()), q.map(), q.dump().label(q.module(), q.step()),
                q.row(), q.heads(), q.module().heads(), q.y(), q.x(), Colormap.MAGMA));
    }

    private void selfValues(Context ctx) {
        Query q = query(ctx);
        double[] r = q.map().range();
        ObjectNode h = Json.object().put("dtype", "float16").put("of", "query (" + q.y() + ", " + q.x() + ")")
                .put("min", r[0]).put("max", r[1]);
        h.putArray("shape").add(q.map().height()).add(q.map().width());
        ctx.contentType("application/octet-stream").result(Float16Frame.encode(h, q.map().values()));
    }

    private static int step(Context ctx, AttentionDump.Module m) {
        int step = Params.integer(ctx, "step", 1, 1_000_000, m.steps().getLast());
        if (!m.steps().contains(step)) {
            throw ApiError.notFound("'" + m.name() + "' was not dumped at step " + step + "; its steps are " + m.steps());
        }
        return step;
    }
}
