package dev.unetlens.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/**
 * {@code unetlens test}: runs in the launcher ({@code ./unetlens test} runs Maven on the source checkout), listed
 * here so that the command list and {@code --help} show it; reached through the jar, it says where it runs.
 */
@Command(name = "test", mixinStandardHelpOptions = true,
        header = "Run every test (what CI runs); a launcher command: ./unetlens test [MAVEN-OPTIONS].",
        description = {"Run every test of the source checkout, as CI does: './unetlens test' runs 'mvn test'. Options after",
            "'test' go to Maven, e.g. './unetlens test -pl unetlens-core -Dtest=NpyTest'. Test reports (and each test's",
            "output) are under */target/surefire-reports/."})
public final class TestCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("unetlens: error: 'test' runs Maven on the source checkout; run it with the launcher: ./unetlens test");
        return ErrorHandler.USAGE;
    }
}
