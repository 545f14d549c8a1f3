package dev.unetlens.cli;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.util.List;

/**
 * "Did you mean" for usage errors. picocli checks required options before it reports unknown ones, so
 * {@code generate --guidanc 3} would say that {@code --prompt} is missing; the unknown option comes first here, with
 * picocli's suggestions of the nearest names.
 */
final class Suggestions {
    private Suggestions() {
    }

    /** The exception to report: an unknown option among {@code args} if {@code ex} is about a missing one, else ex. */
    static ParameterException firstProblem(ParameterException ex, String[] args) {
        if (!(ex instanceof CommandLine.MissingParameterException)) {
            return ex;
        }
        CommandLine cli = ex.getCommandLine();
        for (String a : args) {
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (name.startsWith("-") && name.length() > 1 && !Character.isDigit(name.charAt(1))
                    && cli.getCommandSpec().findOption(name) == null) {
                return new UnmatchedArgumentException(cli, List.of(a));
            }
        }
        return ex;
    }

    /** "; did you mean --guidance?" for a mistyped command or option, from picocli's suggestions; else "". */
    static String of(ParameterException ex) {
        if (!(ex instanceof UnmatchedArgumentException u) || u.getSuggestions().isEmpty()) {
            return "";
        }
        List<String> s = u.getSuggestions();
        return "; did you mean " + String.join(" or ", s.subList(0, Math.min(3, s.size()))) + "?";
    }
}
