package dev.unetlens.web.jobs;

import java.io.IOException;
import java.util.List;

/**
 * How the server starts a command's run: provided by the command line ({@code serve}), which checks arguments with
 * the same parser and checks as {@code unetlens} itself and runs the command in a child JVM (so that a cancel is the
 * Ctrl-C of a terminal: the run is marked interrupted and its finished files kept).
 */
public interface JobLauncher {
    /** The commands a job may run: {@code generate}, {@code extract}, {@code analyze similarity}, … */
    List<String> commands();

    /** The options of a command, for its form. */
    List<OptionInfo> options(String command);

    /**
     * Checks the arguments (after the command's words) as the CLI parses them.
     *
     * @throws JobArgumentException naming the option that is wrong
     */
    void check(String command, List<String> args);

    /** Starts the command with the arguments; its stderr carries the progress lines. */
    Process start(String command, List<String> args) throws IOException;

    /**
     * One option of a command.
     *
     * @param name         its long name ({@code --steps})
     * @param label        its parameter label ({@code N}), or "" for a flag
     * @param description  its help text
     * @param defaultValue its default, or null
     * @param flag         whether it takes no value
     * @param repeatable   whether it may be given more than once
     * @param group        the help section it is listed under, or ""
     */
    record OptionInfo(String name, String label, String description, String defaultValue, boolean flag,
                      boolean repeatable, String group) {
    }

    /** A bad argument, with the option it is about (or null). */
    final class JobArgumentException extends RuntimeException {
        private final String option;

        public JobArgumentException(String option, String message) {
            super(message);
            this.option = option;
        }

        public String option() {
            return option;
        }
    }
}
