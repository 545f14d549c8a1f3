package dev.unetlens.model.unet;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code UNETLENS_MKL=avx512} ({@code dev.unetlens.model.MklDispatch}) on the golden U-Net, text encoder and VAE cases, each way in its own
 * JVM ({@link MklKernelsCheck}: MKL chooses its kernels once, at its first product).
 *
 * <p>On an AMD CPU with AVX-512 the opt-in must take effect (its record says {@code avx512} and some output bits
 * differ from the default's: other kernels ran), no product may fail its float64 kernel check, and every array —
 * output, hooks, attention maps — must stay within {@value #CPU_VARIATION} of the array's largest magnitude from the
 * fixture: the golden README §16's measured CPU-to-CPU variation ("float outputs moved by ≤ 7e-6 relative to each
 * array's max magnitude … Expect differences of that size from any other BLAS / CPU"). That, not the per-element
 * tolerances of {@link UNet2DConditionModelGoldenTest}, is the bound for this path; the per-element ones hold for the
 * default, which is why the opt-in is not the default. Elsewhere (an Intel CPU, no AVX-512) the opt-in must do
 * nothing, say why, and leave every output bit as the default's.
 */
class MklKernelsGoldenTest {
    static final double CPU_VARIATION = 7e-6;
    private static final Set<String> AVX512 = Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");

    record Array(double diff, double ref, int hash) {
    }

    record Run(String record, Map<String, Array> arrays, long rerouted) {
    }

    @Test
    void avx512KernelsStayWithinTheFixturesCpuVariation() throws Exception {
        Run standard = run("default");
        Run avx512 = run("avx512");
        assertThat(standard.record()).isEqualTo("default");
        assertThat(avx512.arrays()).as("golden arrays").isNotEmpty();
        assertThat(avx512.arrays().keySet()).as("U-Net, text encoder and VAE arrays")
                .anyMatch(f -> f.contains("/unet/")).anyMatch(f -> f.contains("/text_encoder")).anyMatch(f -> f.contains("/vae/"));
        assertThat(avx512.arrays().keySet()).isEqualTo(standard.arrays().keySet());
        assertThat(avx512.rerouted()).as("products the float64 kernel checks found wrong").isZero();

        long differing = avx512.arrays().keySet().stream()
                .filter(f -> avx512.arrays().get(f).hash() != standard.arrays().get(f).hash()).count();
        if (amdWithAvx512()) {
            assertThat(avx512.record()).isEqualTo("avx512");
            assertThat(differing).as("arrays whose bits differ from the default's (other kernels ran)").isPositive();
        } else {
            assertThat(avx512.record()).startsWith("default (asked for avx512: ");
            assertThat(differing).as("arrays whose bits differ from the default's").isZero();
        }
        double worst = 0;
        String worstFile = "";
        for (var e : avx512.arrays().entrySet()) {
            Array a = e.getValue();
            assertThat(a.diff()).as("%s: max |avx512 − fixture| against %.3g × max |fixture| (%.4g)", e.getKey(),
                    CPU_VARIATION, a.ref()).isLessThanOrEqualTo(CPU_VARIATION * a.ref() + Float.MIN_NORMAL);
            if (a.ref() > 0 && a.diff() / a.ref() > worst) {
                worst = a.diff() / a.ref();
                worstFile = e.getKey();
            }
        }
        System.out.printf(Locale.ROOT, "mkl %s: %d of %d golden arrays differ from the default's bits; largest"
                        + " difference from the fixture %.3g of the array's max magnitude (%s)%n", avx512.record(),
                differing, avx512.arrays().size(), worst, worstFile);
    }

    private static boolean amdWithAvx512() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
        String vendor = lines.stream().filter(l -> l.startsWith("vendor_id")).findFirst().orElse("");
        String flags = lines.stream().filter(l -> l.startsWith("flags")).findFirst().orElse("");
        return vendor.contains("AuthenticAMD") && Set.of(flags.substring(flags.indexOf(':') + 1).trim().split("\\s+"))
                .containsAll(AVX512);
    }

    /** {@link MklKernelsCheck} in a new JVM with this JVM's class path and flags, MKL's kernels as {@code choice}. */
    private static Run run(String choice) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if ((a.startsWith("--add-opens") || a.startsWith("--enable-native-access") || a.startsWith("-D")
                    || a.startsWith("-Xss")) && !a.startsWith("-Dunetlens.mkl=")) {
                cmd.add(a);
            }
        }
        cmd.add("-Dunetlens.mkl=" + choice);
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add(MklKernelsCheck.class.getName());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        p.getOutputStream().close();
        String record = null;
        long rerouted = -1;
        Map<String, Array> arrays = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                String[] f = l.split("\t");
                switch (f[0]) {
                    case "mkl" -> record = f[1];
                    case "array" -> arrays.put(f[1], new Array(Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                            Integer.parseInt(f[4])));
                    case "rerouted" -> rerouted = Long.parseLong(f[1]);
                    default -> { }                                   // the library's own lines
                }
            }
        }
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("child JVM ended").isTrue();
        assertThat(p.exitValue()).as("child JVM (mkl " + choice + ") exit code").isZero();
        assertThat(record).as("the child's mkl record").isNotNull();
        return new Run(record, arrays, rerouted);
    }
}
