package dev.unetlens.intervene;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Selector;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Activation patching, TransformerLens-style: a clean run's tensors copied into a corrupted run at one target
 * (module selection) × steps × region at a time, scored by a metric of the patched result — which modules and steps
 * carry what the corruption removed.
 *
 * <pre>{@code
 * try (Patching p = Patching.prepare(sd, clean, corrupted, List.of("IN04", "IN05", "M00"), List.of("1", "2", "1-10"),
 *         null, Progress.NONE)) {
 *     PatchTable t = p.sweep(r -> Patching.latentDistance(r, p.clean()), Progress.NONE);
 *     Files.writeString(Path.of("patching.csv"), t.toCsv());
 * }
 * }</pre>
 * {@link #prepare} runs the clean request once, recording every point and step any cell needs (all CFG rows), and the
 * corrupted request once unpatched; {@link #sweep} then runs the corrupted request once per cell.
 */
public final class Patching implements AutoCloseable {
    private final StableDiffusion sd;
    private final GenerationRequest corruptedRequest;
    private final List<Cell> cells;
    private final Recording recording;
    private final GenerationResult clean;
    private final GenerationResult corrupted;

    /** One cell of the sweep: a target at some steps. */
    private record Cell(String target, List<String> points, String steps, Edit edit) {
    }

    /**
     * One result of the sweep.
     *
     * @param target  the module selection patched
     * @param points  the hook points it resolved to
     * @param steps   the step selection (from 1)
     * @param value   the metric of the patched run
     * @param seconds the run's wall time
     */
    public record Row(String target, List<String> points, String steps, double value, double seconds) {
    }

    /**
     * The sweep's table, with the metric of the unpatched runs for reference.
     *
     * @param clean     the metric of the clean run
     * @param corrupted the metric of the corrupted run, unpatched
     * @param rows      one per target × steps, targets outer
     */
    public record PatchTable(double clean, double corrupted, List<Row> rows) {
        /** CSV with a header: target, points, steps, value, plus the clean and corrupted references as comment lines. */
        public String toCsv() {
            StringBuilder b = new StringBuilder();
            b.append("# clean,").append(num(clean)).append('\n');
            b.append("# corrupted,").append(num(corrupted)).append('\n');
            b.append("target,points,steps,value,seconds\n");
            for (Row r : rows) {
                b.append(csv(r.target())).append(',').append(csv(String.join(" ", r.points()))).append(',')
                        .append(csv(r.steps())).append(',').append(num(r.value())).append(',')
                        .append(String.format(Locale.ROOT, "%.3f", r.seconds())).append('\n');
            }
            return b.toString();
        }

        public ObjectNode toJson() {
            ObjectNode n = JsonNodeFactory.instance.objectNode();
            n.put("clean", clean);
            n.put("corrupted", corrupted);
            ArrayNode a = n.putArray("rows");
            for (Row r : rows) {
                ObjectNode o = a.addObject();
                o.put("target", r.target());
                r.points().forEach(o.putArray("points")::add);
                o.put("steps", r.steps());
                o.put("value", r.value());
                o.put("seconds", r.seconds());
            }
            return n;
        }

        private static String num(double v) {
            return Double.toString(v);
        }

        private static String csv(String s) {
            return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
        }
    }

    private Patching(StableDiffusion sd, GenerationRequest corruptedRequest, List<Cell> cells, Recording recording,
                     GenerationResult clean, GenerationResult corrupted) {
        this.sd = sd;
        this.corruptedRequest = corruptedRequest;
        this.cells = cells;
        this.recording = recording;
        this.clean = clean;
        this.corrupted = corrupted;
    }

    /** Fails unless tensors of {@code a} fit runs of {@code b}: same size, batch, guidance branches and steps. */
    public static void checkCompatible(GenerationRequest a, GenerationRequest b) {
        List<String> diff = new ArrayList<>();
        if (a.height() != b.height() || a.width() != b.width()) {
            diff.add("size " + a.width() + "×" + a.height() + " vs " + b.width() + "×" + b.height());
        }
        if (a.batch() != b.batch()) {
            diff.add("batch " + a.batch() + " vs " + b.batch());
        }
        if (a.cfg() != b.cfg()) {
            diff.add("classifier-free guidance on one side only");
        }
        if (a.steps() != b.steps()) {
            diff.add("steps " + a.steps() + " vs " + b.steps());
        }
        if (!diff.isEmpty()) {
            throw new UnetlensException("patching copies tensors between runs of the same shape; the source run differs: "
                    + String.join(", ", diff));
        }
    }

    /**
     * Resolves the cells (each target × each step selection, the optional region on all), runs the clean request
     * recording what they need and the corrupted request unpatched.
     *
     * @param targets module selections, one cell row each ({@code IN05}, {@code mid_block}, …)
     * @param steps   step selections from 1, one cell column each ({@code 1}, {@code 1-10}); empty for all steps
     * @param region  a region applied in every cell, or null
     */
    public static Patching prepare(StableDiffusion sd, GenerationRequest clean, GenerationRequest corrupted,
                                   List<String> targets, List<String> steps, Region region, Progress progress) {
        checkCompatible(corrupted, clean);
        if (targets.isEmpty()) {
            throw new UnetlensException("patching needs at least one target module");
        }
        BlockNames blocks = BlockNames.of(sd.unet().config());
        List<String> stepList = steps.isEmpty() ? java.util.Collections.singletonList(null) : steps;
        List<Cell> cells = new ArrayList<>();
        List<Edit> all = new ArrayList<>();
        for (String t : targets) {
            List<String> points = Selector.resolve(t, sd.unet().hooks(), blocks);
            for (String s : stepList) {
                Edit e = Edit.patch(t).atSteps(s).in(region);
                cells.add(new Cell(t, points, s == null ? "all" : s, e));
                all.add(e);
            }
        }
        Recording rec = new Recording(sd.manager());
        try (Intervention union = Intervention.prepare(sd, corrupted, all);
             Intervention cleanRun = Intervention.prepare(sd, clean, List.of());
             Intervention corruptedRun = Intervention.prepare(sd, corrupted, List.of())) {
            Map<String, Set<Integer>> needs = union.patchPoints();
            GenerationResult c = cleanRun.generate(null, scope -> rec.record(scope, needs, Capture.Rows.ALL), progress);
            GenerationResult k = corruptedRun.generate(null, null, progress);
            return new Patching(sd, corrupted, List.copyOf(cells), rec, c, k);
        } catch (RuntimeException e) {
            rec.close();
            throw e;
        }
    }

    /** The clean run's result. */
    public GenerationResult clean() {
        return clean;
    }

    /** The corrupted run's result, unpatched. */
    public GenerationResult corrupted() {
        return corrupted;
    }

    /** Runs every cell and scores it with {@code metric}; the table also scores the clean and corrupted runs. */
    public PatchTable sweep(Function<GenerationResult, Double> metric, Progress progress) {
        List<Row> rows = new ArrayList<>();
        for (Cell cell : cells) {
            long t0 = System.nanoTime();
            try (Intervention iv = Intervention.prepare(sd, corruptedRequest, List.of(cell.edit()))) {
                GenerationResult r = iv.generate(recording, null, progress);
                rows.add(new Row(cell.target(), cell.points(), cell.steps(), metric.apply(r), (System.nanoTime() - t0) / 1e9));
            }
        }
        return new PatchTable(metric.apply(clean), metric.apply(corrupted), List.copyOf(rows));
    }

    /** The L2 distance between two runs' final latents. */
    public static double latentDistance(GenerationResult a, GenerationResult b) {
        float[] x = a.finalLatents().toFloats();
        float[] y = b.finalLatents().toFloats();
        if (x.length != y.length) {
            throw new UnetlensException("runs of different latent sizes cannot be compared");
        }
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            double d = (double) x[i] - y[i];
            s += d * d;
        }
        return Math.sqrt(s);
    }

    @Override
    public void close() {
        recording.close();
    }
}
