package dev.unetlens.cli;

import picocli.CommandLine;

import java.util.ServiceLoader;

/**
 * A subcommand that lives in another module, found with {@link ServiceLoader} on the class path
 * ({@code META-INF/services/dev.unetlens.cli.SubcommandProvider}): so {@code unetlens-spark} adds {@code batch} when
 * the launcher puts it on the class path, and the CLI's own jar does not depend on Spark.
 */
public interface SubcommandProvider {
    /** The picocli command object (annotated with {@link CommandLine.Command}). */
    Object command();

    /** Adds every provided subcommand to {@code cli}. */
    static void addAll(CommandLine cli) {
        for (SubcommandProvider p : ServiceLoader.load(SubcommandProvider.class)) {
            cli.addSubcommand(p.command());
        }
    }
}
