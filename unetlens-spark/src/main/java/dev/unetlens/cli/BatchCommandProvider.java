package dev.unetlens.cli;

/** Registers {@code batch} with the CLI ({@code META-INF/services/dev.unetlens.cli.SubcommandProvider}). */
public final class BatchCommandProvider implements SubcommandProvider {
    @Override
    public Object command() {
        return new BatchCommand();
    }
}
