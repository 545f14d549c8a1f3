package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.cli.bench.BenchCase;
import dev.unetlens.cli.bench.BenchChild;
import dev.unetlens.cli.bench.BenchModel;
import dev.unetlens.cli.bench.ProcStatus;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.Versions;
import dev.unetlens.model.TorchRuntime;
import dev.unetlens.synth.SyntheticModel.Component;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code unetlens bench}: times the full-size SD 1.5 components (random weights) against the torch CPU reference
 * figures. Each case runs in a fresh child JVM (same Java, classpath and flags), so its peak RSS is its own and no
 * case warms another's caches; the parent writes the random model once, collects the children's result lines,
 * and prints one JSON document (and writes it to {@code --json}) with the reference figures and the ratios side
 * by side.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Time full-size SD 1.5 (random weights) next to the torch CPU reference figures.",
        description = {"Time full-size SD 1.5 components (random weights) next to the torch CPU reference: U-Net at",
            "64×64 and 32×32 latents (batch 1, 2), VAE decode 64×64 → 512×512, CLIP-L on 77 tokens. Each case runs",
            "in a fresh JVM: load once, warm up once, median of --runs; peak RSS per case. JSON on stdout."})
public final class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final String REFERENCE = "bench/torch-cpu-reference.json";
    /** The targets: U-Net time ≤ 0.7× the reference, every other case ≤ 1×; peak RSS ≤ 1×. */
    private static final double UNET_TARGET = 0.7;

    @Option(names = "--cases", split = ",", paramLabel = "NAME",
            description = "Cases to run, comma-separated (default: all): ${COMPLETION-CANDIDATES}.",
            completionCandidates = CaseNames.class)
    List<String> cases;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the JSON to FILE (atomically).")
    Path jsonFile;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "3", description = "Timed runs per case after one warm-up (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--threads", paramLabel = "N",
            description = "libtorch intra-op threads (default: UNETLENS_THREADS, else all cores).")
    Integer threads;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Diffusers SD 1.5 folder to run (default: the random full-size model in the cache, written on first use).")
    Path modelDir;

    @Option(names = "--reference", paramLabel = "FILE", description = "Reference figures (default: the bundled torch-cpu-reference.json).")
    Path reference;

    @Option(names = "--hook-overhead", paramLabel = "PAIRS", defaultValue = "0",
            description = "Also time PAIRS alternating runs with the hook table detached and attached without listeners.")
    int hookPairs;

    @Option(names = "--memory-check", paramLabel = "N", defaultValue = "0",
            description = "Also run N more forwards, recording RSS and live NDArrays after each (they should stay flat).")
    int memoryChecks;

    @Option(names = "--profile", description = "Also time one forward per module kind (hook-point timers; on stderr and in the JSON).")
    boolean profile;

    @Option(names = "--torch-profile", paramLabel = "DIR",
            description = "Also write libtorch's op-level profiler trace of one forward to DIR/<case>.json.")
    Path torchProfile;

    @Option(names = "--child", hidden = true, paramLabel = "CASE", description = "Internal: run one case in this JVM.")
    String child;

    /** picocli completion candidates: the case names. */
    static final class CaseNames extends ArrayList<String> {
        CaseNames() {
            super(BenchCase.ALL.keySet());
        }
    }

    @Override
    public Integer call() throws Exception {
        if (runs < 1 || runs > 100) {
            throw new UnetlensException("--runs must be in [1, 100], got " + runs);
        }
        if (hookPairs < 0 || memoryChecks < 0) {
            throw new UnetlensException("--hook-overhead and --memory-check must be ≥ 0, got " + hookPairs + " and " + memoryChecks);
        }
        Path dir = modelDir != null ? modelDir : BenchModel.defaultDir();
        if (child != null) {
            Path trace = torchProfile == null ? null : torchProfile.resolve(child + ".json");
            return BenchChild.run(caseNamed(child), dir, new BenchChild.Options(runs, hookPairs, memoryChecks, profile, trace));
        }
        List<BenchCase> selected = new ArrayList<>();
        for (String name : cases == null ? List.copyOf(BenchCase.ALL.keySet()) : cases) {
            selected.add(caseNamed(name.trim()));
        }
        int t = threads != null ? threads : Threads.count();
        if (t < 1) {
            throw new UnetlensException("--threads must be ≥ 1, got " + t);
        }
        JsonNode ref = readReference();
        if (torchProfile != null) {
            Files.createDirectories(torchProfile);
        }

        ObjectNode root = JSON.createObjectNode();
        root.put("what", "unetlens bench: full-size SD 1.5 components with random weights, float32 on CPU, median of "
                + runs + " runs after 1 warm-up, each case in a fresh JVM; peak_rss_mb = VmHWM of that JVM at its end");
        ObjectNode machine = root.putObject("machine");
        machine.put("cpu_model", ProcStatus.cpuModel());
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("threads", t);
        machine.put("mem_total_mb", ProcStatus.memTotalMb());
        machine.put("java", Runtime.version().toString());
        machine.put("djl", Versions.DJL);
        machine.put("libtorch", Versions.LIBTORCH);
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        machine.set("load_average_before", loadAverage());
        ObjectNode env = machine.putObject("env");                       // what the launcher set for libtorch and malloc
        new java.util.TreeMap<>(System.getenv()).forEach((k, v) -> {
            if (k.startsWith("OMP_") || k.startsWith("KMP_") || k.startsWith("MKL_") || k.startsWith("MALLOC_")
                    || k.equals("GLIBC_TUNABLES") || k.equals("UNETLENS_THREADS")
                    || k.equals(TorchRuntime.THP_VARIABLE)) {
                env.put(k, v);
            }
        });

        Set<Component> components = EnumSet.noneOf(Component.class);
        selected.forEach(c -> components.addAll(c.components()));
        BenchModel.checkShapes(dir, components);
        Map<Component, Double> written = BenchModel.ensure(dir, components, BenchCommand::progress);
        ObjectNode model = root.putObject("model");
        model.put("dir", dir.toAbsolutePath().toString());
        ObjectNode w = model.putObject("written_s");
        written.forEach((c, s) -> w.put(c.name().toLowerCase(Locale.ROOT), s));

        root.put("unet_gflop_64x64_b1", ref.path("unet_gflop_64x64_b1").asDouble(803.2));
        root.put("gflop_rule", "counted from the model's shapes: 2 × multiply-adds of every conv, linear and attention"
                + " matmul (803.27 GFLOP at 64×64 b1); batch scales it linearly; 32×32 is 0.224× of 64×64, not the area's"
                + " 0.25×, because self-attention is quadratic in the tokens");
        ObjectNode refInfo = root.putObject("reference");
        refInfo.put("file", reference != null ? reference.toString() : "bundled " + REFERENCE);
        refInfo.put("what", ref.path("what").asText());
        ArrayNode out = root.putArray("cases");
        int failures = 0;
        for (int i = 0; i < selected.size(); i++) {
            BenchCase c = selected.get(i);
            progress(String.format(Locale.ROOT, "%s (%d/%d): %s, %d threads, fresh JVM", c.name(), i + 1, selected.size(), c.describe(), t));
            ObjectNode result = runChild(c, dir, t);
            if (result.has("error")) {
                failures++;
            } else {
                machine.put("torch_features", result.path("torch_features").asText(""));
                machine.put("huge_pages", result.path("huge_pages").asText(""));
                compare(result, c.reference(ref, result), c);
            }
            out.add(result);
        }
        machine.set("load_average_after", loadAverage());

        String text = JSON.writeValueAsString(root);
        System.out.println(text);
        if (jsonFile != null) {
            AtomicFiles.writeString(jsonFile, text + "\n");
            progress("wrote " + jsonFile);
        }
        return failures == 0 ? 0 : ErrorHandler.FAILURE;
    }

    /** Adds GFLOP/s, the reference figures and the ratios to a case's result. */
    private static void compare(ObjectNode r, JsonNode ref, BenchCase c) {
        double median = r.path("median_s").asDouble();
        if (r.has("gflop")) {
            r.put("gflops", r.path("gflop").asDouble() / median);
        }
        if (r.has("summary")) {
            progress(c.name() + ": " + r.path("summary").asText() + String.format(Locale.ROOT, ", peak RSS %.0f MB",
                    r.path("peak_rss_mb").asDouble()));
        }
        if (ref == null) {
            return;
        }
        String different = different(r, ref);
        if (different != null) {
            ObjectNode ratio = r.putObject("vs_reference");
            ratio.put("comparable", false);
            ratio.put("why", different);
            progress(String.format(Locale.ROOT, "%s: median %.2f s; not compared with the reference: %s", c.name(),
                    median, different));
            return;
        }
        double refTime = ref.path("median_s").asDouble();
        ObjectNode rn = r.putObject("reference");
        if (ref.has("rule")) {
            rn.put("rule", ref.path("rule").asText());
        }
        rn.put("median_s", refTime);
        ObjectNode ratio = r.putObject("vs_reference");
        ratio.put("median_s", median / refTime);
        double target = c instanceof BenchCase.UNetCase ? UNET_TARGET : 1.0;
        ratio.put("time_target", target);
        boolean meets = median / refTime <= target;
        String rss = "";
        if (ref.has("peak_rss_mb")) {
            double refRss = ref.path("peak_rss_mb").asDouble();
            rn.put("peak_rss_mb", refRss);
            ratio.put("peak_rss_mb", r.path("peak_rss_mb").asDouble() / refRss);
            meets &= r.path("peak_rss_mb").asDouble() <= refRss;
            rss = String.format(Locale.ROOT, ", peak RSS %.0f MB (reference %.0f MB, %.2f×)", r.path("peak_rss_mb").asDouble(),
                    refRss, r.path("peak_rss_mb").asDouble() / refRss);
        }
        ratio.put("meets_targets", meets);
        progress(String.format(Locale.ROOT, "%s: median %.2f s (reference %.2f s, %.2f×, target ≤ %.1f×)%s%s", c.name(),
                median, refTime, median / refTime, target, rss,
                r.has("gflops") ? String.format(Locale.ROOT, ", %.1f GFLOP/s", r.path("gflops").asDouble()) : ""));
    }

    /**
     * Why a result cannot be held against the reference figures (another model than full-size SD 1.5: other
     * parameter count or output shape), or null when it can.
     */
    static String different(JsonNode result, JsonNode ref) {
        if (ref.has("params") && result.has("params") && ref.path("params").asLong() != result.path("params").asLong()) {
            return String.format(Locale.ROOT, "this model has %,d parameters, the reference's %,d (the targets are for"
                    + " full-size SD 1.5)", result.path("params").asLong(), ref.path("params").asLong());
        }
        if (ref.has("out_shape") && result.has("out_shape") && !ref.path("out_shape").equals(result.path("out_shape"))) {
            return "the output shape " + result.path("out_shape") + " is not the reference's " + ref.path("out_shape");
        }
        return null;
    }

    /** Runs one case in a child JVM and returns its result (or {@code {case, error}}). */
    private ObjectNode runChild(BenchCase c, Path dir, int t) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-Dai.djl.pytorch.num_threads=") && !arg.startsWith("-agentlib:jdwp")) {
                cmd.add(arg);
            }
        }
        cmd.add("-Dai.djl.pytorch.num_threads=" + t);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench",
                "--child", c.name(), "--model", dir.toString(), "--runs", Integer.toString(runs),
                "--hook-overhead", Integer.toString(hookPairs), "--memory-check", Integer.toString(memoryChecks)));
        if (profile) {
            cmd.add("--profile");
        }
        if (torchProfile != null) {
            cmd.addAll(List.of("--torch-profile", torchProfile.toString()));
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        p.getOutputStream().close();
        String line = resultLine(p.getInputStream());
        int code = p.waitFor();
        if (code != 0 || line == null) {
            ObjectNode err = JSON.createObjectNode();
            err.put("case", c.name());
            err.put("error", "the case's JVM exited with " + code + (line == null ? " and no result" : ""));
            progress(c.name() + ": failed (exit " + code + "); see its output above");
            return err;
        }
        return (ObjectNode) JSON.readTree(line);
    }

    /** The child's result line (without its prefix); its other stdout lines go to stderr. */
    private static String resultLine(InputStream stdout) throws IOException {
        String result = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                if (l.startsWith(BenchChild.RESULT_PREFIX)) {
                    result = l.substring(BenchChild.RESULT_PREFIX.length());
                } else {
                    System.err.println(l);
                }
            }
        }
        return result;
    }

    private static BenchCase caseNamed(String name) {
        BenchCase c = BenchCase.ALL.get(name);
        if (c == null) {
            throw new UnetlensException("--cases: unknown case '" + name + "'; the cases are "
                    + String.join(", ", BenchCase.ALL.keySet()));
        }
        return c;
    }

    private JsonNode readReference() throws IOException {
        if (reference != null) {
            if (!Files.isRegularFile(reference)) {
                throw new UnetlensException("--reference: no such file " + reference);
            }
            return JSON.readTree(reference.toFile());
        }
        try (InputStream in = BenchCommand.class.getResourceAsStream(REFERENCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + REFERENCE);
            }
            return JSON.readTree(in);
        }
    }

    private static ArrayNode loadAverage() {
        ArrayNode a = JSON.createArrayNode();
        for (double v : ProcStatus.loadAverage()) {
            a.add(v);
        }
        return a;
    }

    private static void progress(String line) {
        System.err.println("bench: " + line);
    }
}
