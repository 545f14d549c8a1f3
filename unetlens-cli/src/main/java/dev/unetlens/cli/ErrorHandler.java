package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Turns failures into one line on stderr and a non-zero exit: 2 for bad command-line usage, 1 for everything
 * else. The stack trace is printed only with {@code UNETLENS_DEBUG=1} (and for bugs: exceptions that are not
 * {@link UnetlensException}s also get a line asking to report them).
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
    static final int USAGE = 2;
    static final int FAILURE = 1;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        if (ex instanceof UnetlensException || ex instanceof IllegalArgumentException) {
            err.println("unetlens: error: " + ex.getMessage());
        } else if (ex instanceof CommandLine.ParameterException pe) {
            err.println("unetlens: error: " + pe.getMessage());
            return USAGE;
        } else {
            err.println("unetlens: internal error: " + ex + " — please report it with UNETLENS_DEBUG=1 output");
        }
        if ("1".equals(System.getenv("UNETLENS_DEBUG"))) {
            ex.printStackTrace(err);
        }
        err.flush();
        return FAILURE;
    }

    @Override
    public int handleParseException(CommandLine.ParameterException problem, String[] args) {
        CommandLine.ParameterException ex = Suggestions.firstProblem(problem, args);
        CommandLine cli = ex.getCommandLine();
        PrintWriter err = cli.getErr();
        err.println("unetlens: error: " + ex.getMessage() + Suggestions.of(ex));
        err.println("run '" + cli.getCommandSpec().qualifiedName() + " --help' for usage");
        err.flush();
        return USAGE;
    }
}
