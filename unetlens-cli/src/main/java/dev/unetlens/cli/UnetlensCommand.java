package dev.unetlens.cli;

import picocli.CommandLine.Command;

/** The root command; each subcommand is its own class. */
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
            picocli.CommandLine.HelpCommand.class
        })
public final class UnetlensCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
