package dev.unetlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.cli.bench.Baseline;
import dev.unetlens.cli.bench.BaselineRatios;
import dev.unetlens.cli.bench.BenchCase;
import dev.unetlens.cli.bench.BenchChild;
import dev.unetlens.cli.bench.BenchModel;
import dev.unetlens.cli.bench.ProcStatus;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.Versions;
import dev.unetlens.model.AttentionKernel;
import dev.unetlens.model.TorchRuntime;
import dev.unetlens.synth.SyntheticModel;
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
 * {@code unetlens bench}: times the full-size SD 1.5 and SDXL components (random weights) against torch CPU baselines
 * ({@link Baseline}: torch 1.13.1, and torch 2.6.0 whose attention is the fused SDPA kernel), with the ratio to the
 * faster torch's time and to the lower torch's peak RSS ({@link BaselineRatios}). Each case runs in a fresh child
 * JVM (same Java, classpath and flags), so its peak RSS is its own and no case warms another's caches; the parent
 * writes the random model once, collects the children's result lines, and prints one JSON document (and writes it
 * to {@code --json}) with the baselines' figures and the ratios side by side, and a Markdown table on stderr.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Time full-size SD 1.5 and SDXL (random weights) next to torch 1.13 and torch 2.6 + SDPA on CPU.",
        description = {"Time full-size SD 1.5 and SDXL components (random weights) next to torch CPU baselines (1.13.1,",
            "and 2.6.0 with fused attention; ratio to the faster, peak RSS to the lower): SD 1.5's U-Net at",
            "64×64 and 32×32 latents (batch 1, 2), VAE decode 64×64 → 512×512, CLIP-L on 77 tokens; SDXL's U-Net at",
            "128×128 (batch 1, 2) and VAE decode 128×128 → 1024×1024. Each case runs",
            "in a fresh JVM: load once, warm up once, median of --runs; peak RSS per case. JSON on stdout."})
public final class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    /** The bundled baselines: torch 1.13.1 (the first reference file) and torch 2.6.0 with SDPA. */
    private static final List<String> REFERENCES = List.of("torch-cpu-reference.json", "torch26-cpu-reference.json");

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

    @Option(names = "--model-xl", paramLabel = "DIR",
            description = "Diffusers SDXL folder for the *_xl_* cases (default: the random full-size SDXL U-Net and VAE in"
                    + " the cache, written on first use: 10.4 GB).")
    Path modelXlDir;

    @Option(names = "--reference", paramLabel = "FILE",
            description = "Baseline figures, repeatable: a reference file or the JSON lines of a bench-reference/"
                    + " script (default: the bundled torch 1.13.1 and torch 2.6.0 + SDPA figures).")
    List<Path> references;

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

    @Option(names = "--attention", split = ",", paramLabel = "KERNEL",
            description = "Attention kernel: sdpa (torch's fused flash attention, the default) or explicit; a comma list"
                    + " (explicit,sdpa) runs every case once per kernel, side by side in one run.")
    List<String> attention;

    @Option(names = "--mkl", split = ",", paramLabel = "KERNELS",
            description = "MKL's float32 products: default (MKL's own choice) or avx512 (its AVX-512 kernels on an AMD"
                    + " CPU, as UNETLENS_MKL=avx512 does); a comma list (default,avx512) runs every case once per choice.")
    List<String> mkl;

    @Option(names = "--attention-pairs", paramLabel = "PAIRS", defaultValue = "0",
            description = "Also time PAIRS alternating U-Net evaluations with the explicit and the sdpa attention kernel"
                    + " in the case's JVM (a ratio the machine's drifting load hits alike).")
    int attentionPairs;

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
        if (hookPairs < 0 || memoryChecks < 0 || attentionPairs < 0) {
            throw new UnetlensException("--hook-overhead, --memory-check and --attention-pairs must be ≥ 0, got "
                    + hookPairs + ", " + memoryChecks + " and " + attentionPairs);
        }
        List<AttentionKernel> kernels = attention == null ? List.of(AttentionKernel.SDPA)
                : attention.stream().map(AttentionKernel::parse).distinct().toList();
        if (child != null) {
            AttentionKernel.select(kernels.getFirst());
            Path trace = torchProfile == null ? null : torchProfile.resolve(child + ".json");
            BenchCase c = caseNamed(child);
            return BenchChild.run(c, dir(c.model()),
                    new BenchChild.Options(runs, hookPairs, memoryChecks, profile, trace, attentionPairs));
        }
        List<String> mklChoices = mkl == null ? java.util.Collections.singletonList(null)     // null: as the environment says
                : mkl.stream().map(TorchRuntime::mklChoice).distinct().toList();
        List<BenchCase> selected = new ArrayList<>();
        for (String name : cases == null ? List.copyOf(BenchCase.ALL.keySet()) : cases) {
            selected.add(caseNamed(name.trim()));
        }
        int t = threads != null ? threads : Threads.count();
        if (t < 1) {
            throw new UnetlensException("--threads must be ≥ 1, got " + t);
        }
        List<Baseline> baselines = references == null
                ? REFERENCES.stream().map(Baseline::bundled).toList()
                : references.stream().map(Baseline::read).toList();
        if (torchProfile != null) {
            Files.createDirectories(torchProfile);
        }

        ObjectNode root = JSON.createObjectNode();
        root.put("what", "unetlens bench: full-size SD 1.5 and SDXL components with random weights, float32 on CPU, median of "
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

        Map<SyntheticModel, Set<Component>> components = new java.util.EnumMap<>(SyntheticModel.class);
        selected.forEach(c -> components.computeIfAbsent(c.model(), m -> EnumSet.noneOf(Component.class)).addAll(c.components()));
        components.forEach((m, parts) -> BenchModel.checkShapes(m, dir(m), parts));
        ArrayNode models = root.putArray("models");
        for (var e : components.entrySet()) {
            Map<Component, Double> written = BenchModel.ensure(e.getKey(), dir(e.getKey()), e.getValue(), BenchCommand::progress);
            ObjectNode model = models.addObject();
            model.put("model", BenchModel.label(e.getKey()));
            model.put("dir", dir(e.getKey()).toAbsolutePath().toString());
            ObjectNode w = model.putObject("written_s");
            written.forEach((c, s) -> w.put(c.name().toLowerCase(Locale.ROOT), s));
        }

        root.put("unet_gflop_64x64_b1", baselines.getFirst().file().path("unet_gflop_64x64_b1").asDouble(803.2));
        root.put("gflop_rule", "counted from the model's shapes: 2 × multiply-adds of every conv, linear and attention"
                + " matmul (803.27 GFLOP at 64×64 b1); batch scales it linearly; 32×32 is 0.224× of 64×64, not the area's"
                + " 0.25×, because self-attention is quadratic in the tokens");
        ArrayNode refInfo = root.putArray("baselines");
        for (Baseline b : baselines) {
            refInfo.addObject().put("label", b.label()).put("file", b.source()).put("what", b.file().path("what").asText());
        }
        ArrayNode out = root.putArray("cases");
        int failures = 0;
        for (int i = 0; i < selected.size(); i++) {
            BenchCase c = selected.get(i);
            for (AttentionKernel kernel : kernels) {                          // the variants of a case minutes apart
                for (String m : mklChoices) {
                    progress(String.format(Locale.ROOT, "%s (%d/%d): %s, %d threads, attention %s%s, fresh JVM", c.name(),
                            i + 1, selected.size(), c.describe(), t, kernel.label(), m == null ? "" : ", mkl " + m));
                    ObjectNode result = runChild(c, dir(c.model()), t, kernel, m);
                    if (result.has("error")) {
                        failures++;
                    } else {
                        machine.put("torch_features", result.path("torch_features").asText(""));
                        machine.put("huge_pages", result.path("huge_pages").asText(""));
                        compare(result, c, baselines);
                    }
                    out.add(result);
                }
            }
        }
        machine.set("load_average_after", loadAverage());
        progress("the cases beside the baselines (✗: a target missed)\n" + BaselineRatios.table(out, baselines));

        String text = JSON.writeValueAsString(root);
        System.out.println(text);
        if (jsonFile != null) {
            AtomicFiles.writeString(jsonFile, text + "\n");
            progress("wrote " + jsonFile);
        }
        return failures == 0 ? 0 : ErrorHandler.FAILURE;
    }

    /** Adds GFLOP/s and the baselines' figures and ratios to a case's result. */
    private static void compare(ObjectNode r, BenchCase c, List<Baseline> baselines) {
        double median = r.path("median_s").asDouble();
        if (r.has("gflop")) {
            r.put("gflops", r.path("gflop").asDouble() / median);
        }
        if (r.has("summary")) {
            progress(c.name() + ": " + r.path("summary").asText() + String.format(Locale.ROOT, ", peak RSS %.0f MB",
                    r.path("peak_rss_mb").asDouble()));
        }
        String line = BaselineRatios.compare(r, c, baselines);
        if (line != null) {
            progress(line);
        }
    }

    /** Runs one case in a child JVM and returns its result (or {@code {case, error}}). */
    private ObjectNode runChild(BenchCase c, Path dir, int t, AttentionKernel kernel, String mklChoice)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-Dai.djl.pytorch.num_threads=") && !arg.startsWith("-agentlib:jdwp")
                    && !(mklChoice != null && arg.startsWith("-D" + TorchRuntime.MKL_PROPERTY + "="))) {
                cmd.add(arg);
            }
        }
        cmd.add("-Dai.djl.pytorch.num_threads=" + t);
        if (mklChoice != null) {
            cmd.add("-D" + TorchRuntime.MKL_PROPERTY + "=" + mklChoice);
        }
        // G1's concurrent refinement thread was seen spinning for minutes under SCHED_FIFO (the way bench is run) while
        // other real-time jobs shared the cores: it held one of two cores and halved a phase's speed. Without
        // refinement threads the application threads refine their own cards (a few per forward here).
        cmd.addAll(List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:-G1UseConcRefinement"));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench",
                "--child", c.name(), "--model", dir.toString(), "--runs", Integer.toString(runs),
                "--hook-overhead", Integer.toString(hookPairs), "--memory-check", Integer.toString(memoryChecks),
                "--attention", kernel.label(), "--attention-pairs", Integer.toString(attentionPairs)));
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

    /** The folder of {@code model}'s cases: the option's, else the cache's random model. */
    private Path dir(SyntheticModel model) {
        Path given = model == SyntheticModel.SDXL ? modelXlDir : modelDir;
        return given != null ? given : BenchModel.defaultDir(model);
    }

    private static BenchCase caseNamed(String name) {
        BenchCase c = BenchCase.ALL.get(name);
        if (c == null) {
            throw new UnetlensException("--cases: unknown case '" + name + "'; the cases are "
                    + String.join(", ", BenchCase.ALL.keySet()));
        }
        return c;
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
