package dev.unetlens.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Usage errors: every command without a required option, a repeated option, a mistyped command or option (with
 * "did you mean"), options of the wrong mode, no command at all — each a usage error (exit 2) of one line naming the
 * problem, never an internal error, and nothing written.
 */
class CliUsageTest {
    @TempDir
    static Path shared;
    static Path model;
    @TempDir
    Path tmp;

    @BeforeAll
    static void writeModel() {
        model = TinyModel.write(shared);
    }

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private String[] args(String line) {
        List<String> out = new ArrayList<>();
        for (String a : line.trim().split(" +")) {
            if (!a.isEmpty()) {
                out.add(a.replace("OUT", tmp.resolve("out").toString()).replace("MODEL", model.toString())
                        .replace("DUMP", tmp.toString()).replace("IMG", tmp.resolve("a.png").toString()));
            }
        }
        return out.toArray(String[]::new);
    }

    private void assertUsageError(String line, String message) {
        CliRun r = run(args(line));
        assertThat(r.code()).as(line).isEqualTo(ErrorHandler.USAGE);
        assertThat(r.errorLines()).as(line).hasSize(1);
        assertThat(r.errorLines().getFirst()).as(line).contains(message);
        assertThat(r.err()).as(line).doesNotContain("internal error").doesNotContain("Exception");
        assertThat(tmp.resolve("out")).as(line + ": nothing written").doesNotExist();
    }

    /** The command lines below leave out each required option of each command in turn. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "generate|Missing required option: '--prompt=TEXT'",
        "generate -p x|Missing required option: '--out=DIR'",
        "generate --out OUT|Missing required option: '--prompt=TEXT'",
        "extract --at M00|Missing required option: '--out=DIR'",
        "extract --at M00 --out OUT|give --prompt (extract during a generation) or --images",
        "extract -p x --out OUT|name the modules to extract with --at (or a component's stages with --component)",
        "tokens|Missing required option: '--prompt=TEXT'",
        "vae --image IMG|Missing required option: '--out=DIR'",
        "viz|Missing required option: '--dump=DIR'",
        "viz --dump DUMP|Missing required option: '--out=DIR'",
        "diff|Missing required option: '--prompt=TEXT'",
        "diff -p x|Missing required option: '--out=DIR'",
        "sweep|Missing required option: '--prompt=TEXT'",
        "sweep -p x|Missing required option: '--out=DIR'",
        "convert|Missing required option: '--out=DIR'",
    })
    void requiredOptions(String line, String message) {
        assertUsageError(line, message);
    }

    /** Every required option of every command (in option groups too) is left out by a line of {@link #requiredOptions}. */
    @Test
    void theTableCoversEveryRequiredOption() throws Exception {
        CsvSource table = getClass().getDeclaredMethod("requiredOptions", String.class, String.class).getAnnotation(CsvSource.class);
        Set<String> covered = new TreeSet<>();
        for (String row : table.value()) {
            String[] cols = row.split("\\|");
            String message = cols[1];
            int at = message.indexOf("'--");
            covered.add(cols[0].split(" ")[0] + " " + (at < 0 ? "--prompt" : message.substring(at + 1, message.indexOf('=', at))));
        }
        Set<String> required = new TreeSet<>();
        CommandLine cli = new CommandLine(new UnetlensCommand());
        for (var e : cli.getSubcommands().entrySet()) {
            CommandSpec spec = e.getValue().getCommandSpec();
            List<OptionSpec> options = new ArrayList<>(spec.options());
            for (ArgGroupSpec g : spec.argGroups()) {
                options.addAll(g.options());
            }
            options.stream().filter(OptionSpec::required).forEach(o -> required.add(e.getKey() + " " + o.longestName()));
        }
        required.add("extract --prompt");                              // or --images: checked by the command
        assertThat(covered).containsAll(required);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "generate -p x --guidance 7 --guidance 5 --out OUT|option '--guidance' (G) should be specified only once",
        "generate -p x --out OUT --out OUT|option '--out' (DIR) should be specified only once",
        "generate -p x --steps 3 --steps 4 --out OUT|option '--steps' (N) should be specified only once",
        "genrate|Unmatched argument at index 0: 'genrate'; did you mean generate",
        "generate -p x --guidanc 3 --out OUT|'--guidanc', '3'; did you mean --guidance?",
        "generate --guidanc 3|Unknown option: '--guidanc'; did you mean --guidance?",
        "extract --images IMG --steps 3 --at M00 --out OUT|--steps applies to extraction during a generation (--prompt)",
        "extract --images IMG --at-steps 1 --at M00 --out OUT|--at-steps applies to extraction during a generation",
        "extract -p x --timestep 10 --at M00 --out OUT|--timestep applies to extraction from --images",
        "extract --images IMG -p a -p b --at M00 --out OUT|with --images the U-Net reads one text for every image",
    })
    void usageErrors(String line, String message) throws Exception {
        new dev.unetlens.io.RgbImage(8, 8, new byte[8 * 8 * 3]).writePng(Files.newOutputStream(tmp.resolve("a.png")),
                java.util.Map.of());
        assertUsageError(line, message);
    }

    @Test
    void noCommandPrintsTheCommandsAndIsAUsageError() {
        CliRun r = run();
        assertThat(r.code()).isEqualTo(ErrorHandler.USAGE);
        assertThat(r.err()).contains("Commands:").contains("  test ").contains("unetlens: error: give a command");
        CliRun t = run("test");
        assertThat(t.code()).isEqualTo(ErrorHandler.USAGE);
        assertThat(t.err()).contains("./unetlens test");
        assertThat(run("test", "--help").out()).contains("Run every test").doesNotContain("mvn [options]");
    }

    @Test
    void helpTextsSayWhatTheOptionsAre() {
        assertThat(run("generate", "--help").out().lines().map(String::strip))
                .contains("mid_block:scale=0.5@steps=1-10,channels=0-31,box=0.25,0.25,0.75,0.75");
        String extract = run("extract", "--help").out();
        assertThat(extract).contains("(--images …)").doesNotContain("(--image …)")
                .contains("the U-Net reads --prompt's text").doesNotContain("-p=TEXT [-p=TEXT]");
        assertThat(run("bench", "--help").out()).contains("--model=DIR").doesNotContain("--model-dir");
        assertThat(run("viz", "--help").out()).contains("mean, l1").doesNotContain("sum,");
        assertThat(run("inspect", "--help").out()).contains("--blocks[=BLOCKS]");
    }

    @Test
    void demoWritesToDemoOutByDefaultAndSaysSo() {
        DemoCommand demo = new DemoCommand();
        new CommandLine(demo).parseArgs();
        assertThat(demo.outDir).isEqualTo(Path.of("demo-out"));
        assertThat(run("demo", "--help").out()).contains("--out=DIR").contains("(default: demo-out)");
    }

    @Test
    void secondEncoderPromptsNeedASecondEncoder() {
        assertUsageFailure(run("generate", "--model", model.toString(), "-p", "x", "--prompt-2", "y", "--steps", "1",
                "--out", tmp.resolve("out").toString()), "this SD1 model has one text encoder");
    }

    @Test
    void inspectBlocksTakesAListLikeSweep() {
        CliRun all = run("inspect", "--model", model.toString(), "--blocks");
        CliRun some = run("inspect", "--model", model.toString(), "--blocks", "IN04-IN05,M00");
        assertThat(all.code()).isZero();
        assertThat(some.code()).isZero();
        assertThat(all.out()).contains("IN00").contains("OUT11");
        CliRun bad = run("inspect", "--model", model.toString(), "--blocks", "IN99");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.errorLines()).singleElement().asString().contains("IN99");
        assertThat(some.out().lines().filter(l -> l.matches(".*\\b(IN0[0-9]|IN1[01]|M00|OUT[01][0-9])\\b.*")).toList())
                .hasSize(3).anyMatch(l -> l.contains(" IN04 ")).anyMatch(l -> l.contains(" M00 "));
    }

    @Test
    void threadCountsAreChecked() {
        assertThat(Threads.parse(" 3 ")).isEqualTo(3);
        for (String bad : List.of("abc", "0", "-2", "1.5")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Threads.parse(bad))
                    .hasMessage("UNETLENS_THREADS must be a whole number of threads from 1, got '" + bad + "'");
        }
    }

    private void assertUsageFailure(CliRun r, String message) {
        assertThat(r.code()).isNotZero();
        assertThat(r.errorLines()).hasSize(1);
        assertThat(r.errorLines().getFirst()).contains(message);
        assertThat(tmp.resolve("out")).doesNotExist();
    }
}
