package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.OutputDirectory;
import picocli.CommandLine;

/** Entry point: {@code unetlens <command> ...}. */
public final class Main {
    /** Help text width: the commands' descriptions are written as lines of up to 120 characters. */
    static final int USAGE_WIDTH = 120;

    private Main() {
    }

    public static void main(String[] args) {
        OutputDirectory.haltAfterInterrupt(130);                       // Ctrl-C: the hook's one line is the last word
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this). */
    public static int run(String... args) {
        try {
            Threads.configure(System.getenv(Threads.VARIABLE));
        } catch (UnetlensException e) {
            System.err.println("unetlens: error: " + e.getMessage());
            return ErrorHandler.USAGE;
        }
        CommandLine cli = new CommandLine(new UnetlensCommand());
        cli.setExecutionExceptionHandler(new ErrorHandler());
        cli.setParameterExceptionHandler(new ErrorHandler());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setUsageHelpWidth(USAGE_WIDTH);
        cli.setExecutionStrategy(parsed -> {
            GroupChecks.check(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        int code = cli.execute(args);
        OutputDirectory.failUnfinished();
        return code;
    }
}
