package dev.unetlens.cli;

import picocli.CommandLine.Option;

import java.util.List;

/**
 * {@code -p/--prompt}: required by the commands that generate ({@code generate}, {@code diff}, {@code sweep});
 * {@code extract} has its own, optional one, since its {@code --images} mode runs no generation.
 */
public final class PromptOption {
    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", required = true,
            description = "Prompt; repeat for a batch of prompts.")
    List<String> prompts;

    /** The prompts given (at least one). */
    List<String> prompts() {
        return prompts;
    }
}
