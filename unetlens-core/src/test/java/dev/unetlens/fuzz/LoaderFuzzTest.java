package dev.unetlens.fuzz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile model files, in process: seeded mutations of every format the project reads ({@link Formats#all}: weight
 * files' headers and bodies, single-file checkpoints' keys, PyTorch checkpoints' pickles and zip structure, every
 * {@code config.json}, the scheduler config, the tokenizer files, {@code model_index.json}, special files in any
 * place) go through the public loaders, each with a
 * timeout, and every case must end in a clean rejection (a {@link dev.unetlens.UnetlensException} whose message is one
 * line under {@value CaseRunner#MAX_MESSAGE} characters naming a file of the case) or an acceptance that loads float32
 * tensors of the right shapes (a forward pass or a generation runs on them). Never another exception, an Error, a
 * hang, or a native abort, which this JVM would not survive.
 *
 * <p>System properties: {@code unetlens.fuzz.cases} (default {@value #CI_CASES}; the long run is 100000),
 * {@code unetlens.fuzz.seed}, {@code unetlens.fuzz.timeout} (seconds per case, default 60),
 * {@code unetlens.fuzz.formats=NAME,NAME} to fuzz only those formats, and {@code unetlens.fuzz.only=FORMAT:INDEX} to
 * rerun one case of a report.
 */
class LoaderFuzzTest {
    static final int CI_CASES = 2000;
    private static final int MAX_SHOWN = 25;

    @TempDir
    Path tmp;

    /** A failed case, with what reproduces it. */
    private record Failure(String format, int index, String mutation, CaseRunner.Result result) {
        @Override
        public String toString() {
            return format + ":" + index + " [" + result.outcome() + "] " + mutation + " → " + result.detail();
        }
    }

    @Test
    void everyMutatedInputIsRejectedCleanlyOrLoadsRight() throws IOException {
        int cases = Integer.getInteger("unetlens.fuzz.cases", CI_CASES);
        long seed = Long.getLong("unetlens.fuzz.seed", 16);
        String only = System.getProperty("unetlens.fuzz.only");
        Path work = workDir();
        try {
            run(work, cases, seed, only);
        } finally {
            if (!work.equals(tmp)) {
                delete(work);
            }
        }
    }

    private void run(Path work, int cases, long seed, String only) throws IOException {
        MicroModel micro = MicroModel.create(work);
        String chosen = System.getProperty("unetlens.fuzz.formats", "");
        List<FuzzFormat> formats = Formats.all(micro).stream()
                .filter(f -> chosen.isEmpty() || List.of(chosen.split(",")).contains(f.name())).toList();
        Map<String, Map<Outcome, Integer>> counts = new LinkedHashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        List<Failure> failures = new ArrayList<>();
        long start = System.nanoTime();
        try (CaseRunner runner = new CaseRunner(Duration.ofSeconds(Long.getLong("unetlens.fuzz.timeout", 60)))) {
            for (Plan p : plan(formats, cases, only)) {
                long t0 = System.nanoTime();
                Path dir = Files.createDirectories(work.resolve("case"));
                FuzzCase c = p.format().make(random(seed, p.format(), p.index()), dir);
                CaseRunner.Result r = runner.run(c);
                counts.computeIfAbsent(p.format().name(), k -> new EnumMap<>(Outcome.class)).merge(r.outcome(), 1, Integer::sum);
                if (!r.outcome().passed()) {
                    failures.add(new Failure(p.format().name(), p.index(), c.mutation(), r));
                }
                if (r.outcome() != Outcome.HANG) {
                    delete(dir);
                } else {
                    Files.move(dir, work.resolve("hung-" + p.index()));
                }
                seconds.merge(p.format().name(), (System.nanoTime() - t0) / 1e9, Double::sum);
            }
        }
        System.out.println(report(counts, seconds, failures, cases, seed, (System.nanoTime() - start) / 1e9));
        assertThat(Path.of("PWNED")).as("a pickle's payload ran").doesNotExist();
        assertThat(failures).as("cases that crashed, hung or were wrongly accepted or refused").isEmpty();
    }

    /**
     * Where cases are written: a RAM disk when there is one ({@code /dev/shm}), as thousands of small files written
     * and deleted cost seconds on a disk (whose deletes may even be discards), else the test's temporary folder.
     */
    private Path workDir() throws IOException {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            return Files.createTempDirectory(shm, "unetlens-fuzz-");
        }
        return tmp;
    }

    /** Case {@code index} of {@code format}. */
    private record Plan(FuzzFormat format, int index) {
    }

    /** {@code cases} cases spread over the formats by weight, interleaved; or the one case {@code only} names. */
    private static List<Plan> plan(List<FuzzFormat> formats, int cases, String only) {
        List<Plan> out = new ArrayList<>();
        if (only != null) {
            String[] p = only.split(":");
            formats.stream().filter(f -> f.name().equals(p[0])).forEach(f -> out.add(new Plan(f, Integer.parseInt(p[1]))));
            return out;
        }
        int total = formats.stream().mapToInt(FuzzFormat::weight).sum();
        Map<FuzzFormat, Integer> next = new LinkedHashMap<>();
        for (int i = 0; i < cases; i++) {
            // the format furthest behind its share goes next
            final int done = i;
            FuzzFormat f = formats.stream().min(Comparator.comparingDouble(
                    x -> next.getOrDefault(x, 0) - (double) done * x.weight() / total)).orElseThrow();
            int index = next.merge(f, 1, Integer::sum) - 1;
            out.add(new Plan(f, index));
        }
        return out;
    }

    private static SplittableRandom random(long seed, FuzzFormat format, int index) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + format.name().hashCode() * 31L + index);
    }

    private static String report(Map<String, Map<Outcome, Integer>> counts, Map<String, Double> seconds,
                                 List<Failure> failures, int cases, long seed, double wall) {
        StringBuilder b = new StringBuilder(String.format("loader fuzz: %d cases, seed %d, %.1f s%n", cases, seed, wall));
        b.append(String.format("%-22s%9s", "format", "seconds"));
        for (Outcome o : Outcome.values()) {
            b.append(String.format("%16s", o));
        }
        b.append('\n');
        Map<Outcome, Integer> total = new EnumMap<>(Outcome.class);
        counts.forEach((format, byOutcome) -> {
            b.append(String.format("%-22s%9.1f", format, seconds.get(format)));
            for (Outcome o : Outcome.values()) {
                int n = byOutcome.getOrDefault(o, 0);
                total.merge(o, n, Integer::sum);
                b.append(String.format("%16d", n));
            }
            b.append('\n');
        });
        b.append(String.format("%-22s%9.1f", "all", seconds.values().stream().mapToDouble(Double::doubleValue).sum()));
        for (Outcome o : Outcome.values()) {
            b.append(String.format("%16d", total.getOrDefault(o, 0)));
        }
        b.append('\n');
        failures.stream().limit(MAX_SHOWN).forEach(f -> b.append("  ").append(f).append('\n'));
        if (failures.size() > MAX_SHOWN) {
            b.append("  … ").append(failures.size() - MAX_SHOWN).append(" more\n");
        }
        return b.toString();
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
