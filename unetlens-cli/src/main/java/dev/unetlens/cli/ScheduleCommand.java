package dev.unetlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.RunRecords;
import dev.unetlens.pipeline.ScheduleTable;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.schedule.Scheduler;
import dev.unetlens.schedule.SchedulerKind;
import dev.unetlens.viz.Chart;
import dev.unetlens.viz.schedule.ScheduleCharts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code unetlens schedule}: the deep dive's scheduler section as a command — the timesteps, σ and ᾱ of each U-Net
 * evaluation a run with these settings makes, img2img's start step for a strength, as a table or JSON, and with
 * {@code --out} as charts and {@code schedule.json}. Reads the model's scheduler config only (a single-file checkpoint
 * without {@code --config} is loaded to infer it).
 */
@Command(name = "schedule", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Show a scheduler's timesteps, sigmas and alpha-bar over the steps, as a table, JSON or charts.",
        description = {"Show the schedule a run with these settings uses: for each U-Net evaluation the model timestep t,",
            "the noise level sigma = sqrt((1 - alpha_bar)/alpha_bar) and alpha_bar, and with --strength where img2img",
            "starts (diffusers' get_timesteps: init = min(floor(N * strength), N), the run starts at evaluation N - init).",
            "With --out: charts of each (PNG and SVG), the training schedule alpha_bar_t with the run's timesteps",
            "marked, schedule.png (all four), schedule.json and manifest.json."})
public final class ScheduleCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    @Mixin
    ModelOptions model;

    @Option(names = "--scheduler", paramLabel = "NAME", converter = GenerationOptions.SchedulerConverter.class,
            description = "ddim, pndm, euler, euler-a, lms or dpmpp-2m (default: the model's own).")
    SchedulerKind scheduler;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "30", description = "Sampling steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--karras", description = "Karras sigmas (euler, lms and dpmpp-2m).")
    boolean karras;

    @Option(names = "--timestep-spacing", paramLabel = "MODE", description = "leading, linspace or trailing (default: the model's).")
    String spacing;

    @Option(names = "--strength", paramLabel = "S", description = "img2img strength in [0, 1]: where the run starts.")
    Double strength;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "Also write charts, schedule.json and manifest.json into DIR.")
    Path out;

    @Option(names = "--force", description = "Replace the outputs of an earlier unetlens run in --out.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        if (steps < 1 || steps > 1000) {
            throw new UnetlensException("--steps must be in [1, 1000], got " + steps);
        }
        if (strength != null && !(strength >= 0 && strength <= 1)) {
            throw new UnetlensException("--strength must be in [0, 1], got " + strength);
        }
        GenerationRequest.Sampler sampler = new GenerationRequest.Sampler(scheduler, karras, GenerationOptions.spacing(spacing), 0);
        Scheduler s = Pipeline.scheduler(schedulerConfig(), sampler, steps);
        ScheduleTable table = ScheduleTable.of(s, strength == null ? Double.NaN : strength);
        if (strength != null && table.begin() >= table.rows().size()) {
            throw new UnetlensException("--strength " + strength + " with --steps " + steps + " leaves no step to run;"
                    + " raise one of them");
        }
        OutputDirectory dir = out == null ? null : OutputDirectory.open(out, "schedule", force);
        ObjectNode values = describe(table, s);
        if (json) {
            System.out.println(JSON.writeValueAsString(values));
        } else {
            print(table);
        }
        if (dir != null) {
            write(dir, table, values);
            System.out.println("wrote " + dir.dir());
        }
        return 0;
    }

    /** The model's scheduler config: read from a folder (or --config), else from the loaded single file. */
    private JsonConfig schedulerConfig() {
        Path p = model.path();
        Path folder = Files.isDirectory(p) ? p : model.configs;
        if (folder != null) {
            return JsonConfig.read(DiffusersFolder.open(folder).config("scheduler"));
        }
        try (StableDiffusion sd = model.load()) {
            return sd.schedulerConfig();
        }
    }

    static ObjectNode describe(ScheduleTable t, Scheduler s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("scheduler", t.kind().cliName());
        n.put("diffusers_class", t.kind().diffusersClass());
        n.put("steps", t.steps());
        n.put("unet_evaluations", t.rows().size());
        n.put("timestep_spacing", s.config().spacing().name().toLowerCase(Locale.ROOT));
        n.put("prediction_type", s.config().prediction().name().toLowerCase(Locale.ROOT));
        n.put("karras", s.config().sigma() != null && s.config().sigma().karras());
        if (!Double.isNaN(t.strength())) {
            n.put("strength", t.strength());
        }
        n.put("begin_index", t.begin());
        n.put("executed_evaluations", t.executed().size());
        n.put("init_noise_sigma", t.initNoiseSigma());
        n.put("sigma_source", t.sigmaSource());
        ArrayNode rows = n.putArray("evaluations");
        for (ScheduleTable.Row r : t.rows()) {
            ObjectNode o = rows.addObject();
            o.put("index", r.index());
            o.put("step", r.step());
            o.put("timestep", r.timestep());
            o.put("sigma", r.sigma());
            o.put("alpha_bar", r.alphaBar());
            o.put("executed", r.executed());
        }
        float[] sig = s.sigmas();
        if (sig.length > 0) {
            ArrayNode all = n.putArray("scheduler_sigmas");
            for (float v : sig) {
                all.add(v);
            }
        }
        return n;
    }

    private static void print(ScheduleTable t) {
        System.out.printf(Locale.ROOT, "%s · %d steps · %d U-Net evaluations%s · σ from %s · init noise σ %.6g%n",
                t.kind().cliName(), t.steps(), t.rows().size(), Double.isNaN(t.strength()) ? ""
                        : " · img2img strength " + t.strength() + " starts at evaluation " + (t.begin() + 1),
                t.sigmaSource(), t.initNoiseSigma());
        System.out.printf("%5s  %5s  %10s  %12s  %12s%n", "eval", "step", "timestep", "sigma", "alpha_bar");
        for (ScheduleTable.Row r : t.rows()) {
            String ts = r.timestep() == Math.rint(r.timestep()) ? Long.toString((long) r.timestep())
                    : String.format(Locale.ROOT, "%.3f", r.timestep());
            System.out.printf(Locale.ROOT, "%5d  %5s  %10s  %12.6g  %12.6g%n", r.index() + 1,
                    r.executed() ? Integer.toString(r.step()) : "skip", ts, r.sigma(), r.alphaBar());
        }
    }

    private void write(OutputDirectory dir, ScheduleTable t, ObjectNode values) {
        ObjectNode mf = dir.manifest();
        mf.put("model", model.path().toAbsolutePath().toString());
        mf.set("schedule", values);
        mf.set("versions", RunRecords.versions());
        dir.write("schedule.json", o -> o.write(JSON.writeValueAsBytes(values)), "timesteps, sigmas and alpha-bar of each U-Net evaluation");
        List<Chart> charts = ScheduleCharts.charts(t);
        for (Chart c : charts) {
            c.write(dir, c.kind());
        }
        ScheduleCharts.overview(t, charts).write(dir, "schedule.png");
        dir.finish();
    }
}
