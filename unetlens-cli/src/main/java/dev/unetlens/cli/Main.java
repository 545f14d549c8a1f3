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

    /** Runs the CLI and returns its exit code (tests call this); every failure is one line and a non-zero code. */
    public static int run(String... args) {
        try {
            Threads.configure(System.getenv(Threads.VARIABLE));
        } catch (UnetlensException e) {
            System.err.println("unetlens: error: " + e.getMessage());
            return ErrorHandler.USAGE;
        }
        CommandLine cli = new CommandLine(new UnetlensCommand());
        SubcommandProvider.addAll(cli);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setUsageHelpWidth(USAGE_WIDTH);
        cli.setExecutionStrategy(parsed -> {
            GroupChecks.check(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        int code = execute(cli, args);
        OutputDirectory.failUnfinished();
        return code;
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
