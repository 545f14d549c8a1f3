package dev.unetlens.cli;

import dev.unetlens.web.jobs.JobLauncher;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The jobs of {@code serve}: the CLI's own commands, checked by the CLI's parser (and {@link GroupChecks}) before they
 * start, run in a child JVM with this one's class path, so that a cancel is a Ctrl-C (the run marks itself
 * interrupted) and a crash of the job never takes the server down. The child's stderr is not a terminal, so its
 * progress comes as one plain line per step.
 */
final class ServeJobs implements JobLauncher {
    static final List<String> COMMANDS = List.of("generate", "extract", "analyze similarity", "analyze channels",
            "analyze dispersion", "analyze paper", "analyze anomalies", "analyze groups", "analyze probe");

    @Override
    public List<String> commands() {
        return COMMANDS;
    }

    @Override
    public List<OptionInfo> options(String command) {
        CommandSpec spec = spec(command);
        List<OptionInfo> out = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp() || o.hidden()) {
                continue;
            }
            ArgGroupSpec g = o.group();
            String heading = g != null && g.heading() != null ? g.heading().replace("%n", "").strip() : "";
            out.add(new OptionInfo(o.longestName(), o.arity().max() == 0 ? "" : o.paramLabel(),
                    String.join(" ", o.description()).replace("${DEFAULT-VALUE}", String.valueOf(o.defaultValue())),
                    o.defaultValue(), o.arity().max() == 0, o.isMultiValue(), heading));
        }
        return out;
    }

    @Override
    public void check(String command, List<String> args) {
        CommandLine cli = new CommandLine(new UnetlensCommand());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        try {
            GroupChecks.check(cli.parseArgs(words(command, args).toArray(String[]::new)));
        } catch (CommandLine.UnmatchedArgumentException e) {
            throw new JobArgumentException(e.getUnmatched().isEmpty() ? null : e.getUnmatched().getFirst(),
                    dev.unetlens.Messages.line(e.getMessage()));
        } catch (CommandLine.MissingParameterException e) {
            throw new JobArgumentException(e.getMissing().isEmpty() || !(e.getMissing().getFirst() instanceof OptionSpec o)
                    ? null : o.longestName(), dev.unetlens.Messages.line(e.getMessage()));
        } catch (CommandLine.ParameterException e) {
            throw new JobArgumentException(e.getArgSpec() instanceof OptionSpec o ? o.longestName() : null,
                    dev.unetlens.Messages.line(e.getMessage()));
        }
    }

    @Override
    public Process start(String command, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED",
                "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_interop_threads=1"));
        String home = System.getProperty("unetlens.home");
        if (home != null) {
            cmd.add("-Dunetlens.home=" + home);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(words(command, args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static List<String> words(String command, List<String> args) {
        List<String> w = new ArrayList<>(Arrays.asList(command.split(" ")));
        w.addAll(args);
        return w;
    }

    private static CommandSpec spec(String command) {
        CommandLine cli = new CommandLine(new UnetlensCommand());
        for (String word : command.split(" ")) {
            cli = cli.getSubcommands().get(word);
        }
        return cli.getCommandSpec();
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
