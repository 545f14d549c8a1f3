package dev.unetlens.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** The root command; each subcommand is its own class. Without one: the usage on stderr, and a usage error's exit. */
@Command(name = "unetlens",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Look inside Stable Diffusion's U-Net: generate, extract module outputs and attention maps,"
                + " intervene, analyse, and draw.",
        subcommands = {
            BenchCommand.class,
            DemoCommand.class,
            GenerateCommand.class,
            ExtractCommand.class,
            AnalyzeCommand.class,
            VizCommand.class,
            DiffCommand.class,
            SweepCommand.class,
            InspectCommand.class,
            ConvertCommand.class,
            TokensCommand.class,
            VaeCommand.class,
            ScheduleCommand.class,
            ServeCommand.class,
            TestCommand.class,
            CommandLine.HelpCommand.class
        })
public final class UnetlensCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        System.err.println("unetlens: error: give a command (listed above)");
        return ErrorHandler.USAGE;
    }
}
