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

    /** Runs the CLI and returns its exit code (tests call this); every failure is one line and a non-zero code. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new UnetlensCommand());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setUsageHelpWidth(USAGE_WIDTH);
        return execute(cli, args);
    }

    /** Executes {@code cli} with unetlens' error handling: exceptions and Errors alike end as one line. */
    static int execute(CommandLine cli, String... args) {
        cli.setExecutionExceptionHandler(new ErrorHandler());
        cli.setParameterExceptionHandler(new ErrorHandler());
        try {
            return cli.execute(args);
        } catch (Throwable t) {   // Errors pass picocli's exception handler
            return ErrorHandler.handleThrowable(t, cli.getErr());
        }
    }
}
