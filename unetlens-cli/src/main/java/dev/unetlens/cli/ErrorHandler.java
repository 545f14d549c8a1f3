package dev.unetlens.cli;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Turns failures into one line on stderr and a non-zero exit: 2 for bad command-line usage, 1 for everything
 * else, Errors included ({@link #handleThrowable}: an {@link OutOfMemoryError} or a {@link StackOverflowError} passes
 * picocli's handler). The stack trace is printed only with {@code UNETLENS_DEBUG=1} (and for bugs: exceptions that
 * are not {@link UnetlensException}s also get a line asking to report them). A {@link UnetlensException}'s message
 * is one bounded line by construction; any other is made one with {@link Messages#line}, so that a message holding a
 * line break or megabytes of text still prints as one bounded line.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
    static final int USAGE = 2;
    static final int FAILURE = 1;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cli, CommandLine.ParseResult parsed) {
        return handleThrowable(ex, cli.getErr());
    }

    /** One line for any failure, exceptions and Errors alike; the exit code. */
    static int handleThrowable(Throwable ex, PrintWriter err) {
        int code = FAILURE;
        if (ex instanceof UnetlensException) {   // bounded lines already
            err.println("unetlens: error: " + ex.getMessage());
        } else if (ex instanceof IllegalArgumentException) {
            err.println("unetlens: error: " + Messages.line(ex.getMessage()));
        } else if (ex instanceof CommandLine.ParameterException pe) {
            err.println("unetlens: error: " + Messages.line(pe.getMessage()));
            code = USAGE;
        } else if (ex instanceof OutOfMemoryError) {
            err.println("unetlens: error: out of memory (" + Messages.line(ex.getMessage()) + "); give Java more"
                    + " with UNETLENS_JAVA_OPTS=-Xmx…, or ask for less (smaller images, batches, fewer captures)");
        } else {
            err.println("unetlens: internal error: " + Messages.line(ex.toString())
                    + " — please report it with UNETLENS_DEBUG=1 output");
        }
        if ("1".equals(System.getenv("UNETLENS_DEBUG"))) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    @Override
    public int handleParseException(CommandLine.ParameterException problem, String[] args) {
        CommandLine.ParameterException ex = Suggestions.firstProblem(problem, args);
        CommandLine cli = ex.getCommandLine();
        PrintWriter err = cli.getErr();
        err.println("unetlens: error: " + Messages.line(ex.getMessage()) + Suggestions.of(ex));
        err.println("run '" + cli.getCommandSpec().qualifiedName() + " --help' for usage");
        err.flush();
        return USAGE;
    }
}
