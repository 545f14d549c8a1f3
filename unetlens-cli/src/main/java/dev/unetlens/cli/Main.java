package dev.unetlens.cli;

import picocli.CommandLine;

/** Entry point: {@code unetlens <command> ...}. */
public final class Main {
    /** Help text width: the commands' descriptions are written as lines of up to 120 characters. */
    static final int USAGE_WIDTH = 120;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new UnetlensCommand());
        cli.setExecutionExceptionHandler(new ErrorHandler());
        cli.setParameterExceptionHandler(new ErrorHandler());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setUsageHelpWidth(USAGE_WIDTH);
        return cli.execute(args);
    }
}
