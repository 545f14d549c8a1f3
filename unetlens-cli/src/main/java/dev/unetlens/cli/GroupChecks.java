package dev.unetlens.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ParseResult.GroupMatch;

import java.util.ArrayList;
import java.util.List;

/**
 * The checks picocli leaves out for option groups that exist only for their help headings
 * ({@code @ArgGroup(validate = false)}): a required option that was not given, and an option that takes one value
 * given twice (picocli silently starts a second instance of the group, and the command sees only the options after
 * the repetition: {@code --guidance 7 --guidance 5} lost the prompt). Both become the usage errors picocli gives for
 * options outside groups.
 */
final class GroupChecks {
    private GroupChecks() {
    }

    /** Throws picocli's usage error for the first problem in the command that will run; none when help was asked. */
    static void check(ParseResult parsed) {
        ParseResult last = parsed;
        for (ParseResult p = parsed; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
            if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) {
                return;
            }
            last = p;
        }
        CommandLine cli = last.commandSpec().commandLine();
        for (ArgGroupSpec g : groups(last.commandSpec().argGroups())) {
            List<GroupMatch> matches = last.findMatches(g).stream().flatMap(c -> c.matches().stream()).toList();
            for (ArgSpec a : g.args()) {
                if (!(a instanceof OptionSpec o)) {
                    continue;
                }
                if (!o.isMultiValue() && matches.stream().filter(m -> !m.matchedValues(o).isEmpty()).count() > 1) {
                    throw new CommandLine.OverwrittenOptionException(cli, o, "option '" + o.longestName() + "'"
                            + (o.arity().max() > 0 ? " (" + o.paramLabel() + ")" : "") + " should be specified only once");
                }
                if (o.required() && !last.hasMatchedOption(o)) {
                    throw new CommandLine.MissingParameterException(cli, o, "Missing required option: '"
                            + o.longestName() + (o.arity().max() > 0 ? "=" + o.paramLabel() : "") + "'");
                }
            }
        }
    }

    /** The groups and their subgroups. */
    private static List<ArgGroupSpec> groups(List<ArgGroupSpec> top) {
        List<ArgGroupSpec> out = new ArrayList<>();
        for (ArgGroupSpec g : top) {
            out.add(g);
            out.addAll(groups(g.subgroups()));
        }
        return out;
    }
}
