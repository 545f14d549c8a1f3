package dev.unetlens.io;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A run that {@link OutputDirectoryTest} stops from outside: opens {@code args[0]}, writes one finished file and one
 * partial file, says "ready" on stdout, then waits to be interrupted (SIGINT) or killed (SIGKILL).
 */
public final class InterruptedRun {
    private InterruptedRun() {
    }

    public static void main(String[] args) throws Exception {
        OutputDirectory out = OutputDirectory.open(Path.of(args[0]), "test", false);
        out.write("done.txt", o -> o.write("finished".getBytes(StandardCharsets.UTF_8)), "a finished file");
        Path partial = Files.createDirectories(out.partialFolder());
        Files.writeString(partial.resolve("tensor.raw"), "half");
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(60_000);
    }
}
