package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.web.Auth;
import dev.unetlens.web.ServeConfig;
import dev.unetlens.web.WebServer;
import io.javalin.Javalin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code unetlens serve}: the web explorer over a folder of runs. Binds 127.0.0.1 unless {@code --host} names
 * another address (then with a warning), and prints the URL with its random access token, as Jupyter does.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Explore runs in the browser: features, attention, similarity, anomaly labels, jobs.",
        description = {"Start the local web explorer over the runs under --runs (the folders that generate, extract,",
            "analyze, diff and sweep write). Prints a URL with a random access token; every request needs it",
            "(a cookie after the first visit). Serves only files under --runs. Ctrl-C stops it."})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--runs", paramLabel = "DIR", defaultValue = "runs",
            description = "The folder of runs to browse; new jobs write into it (default: ${DEFAULT-VALUE}).")
    Path runs;

    @Option(names = "--model", paramLabel = "PATH",
            description = "The model new jobs use (default: the bundled tiny model).")
    Path model;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8765",
            description = "The port; 0 for any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", paramLabel = "ADDRESS",
            description = "The address to listen on (default: 127.0.0.1, this machine only). Another address lets"
                    + " other machines in: anyone with the URL's token can then read your runs.")
    String host;

    /** Set by tests: called with the running server instead of waiting for Ctrl-C. */
    static java.util.function.Consumer<Javalin> onStart;

    @Override
    public Integer call() throws Exception {
        ServeConfig config = config();
        if (!Auth.isLoopback(config.host())) {
            spec.commandLine().getErr().println("unetlens: warning: --host " + config.host() + " is not this machine"
                    + " only: anyone who can reach it and has the token can read every run under " + config.runs());
        }
        Javalin app = WebServer.create(config, new ServeJobs());
        try {
            app.start();
        } catch (RuntimeException e) {
            throw new UnetlensException("cannot listen on " + config.host() + ":" + config.port() + " ("
                    + dev.unetlens.Messages.line(rootMessage(e)) + "); choose another --port, or 0 for any free one", e);
        }
        spec.commandLine().getOut().println("unetlens serve: runs under " + config.runs().toAbsolutePath().normalize());
        spec.commandLine().getOut().println("open " + WebServer.url(config, app.port()));
        spec.commandLine().getOut().flush();
        if (onStart != null) {
            try {
                onStart.accept(app);
            } finally {
                app.stop();
            }
            return 0;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.stop();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }

    private ServeConfig config() {
        if (Files.exists(runs) && !Files.isDirectory(runs)) {
            throw new UnetlensException("--runs " + runs + " is not a folder; give the folder your runs are in");
        }
        if (model != null && !Files.exists(model)) {
            throw new UnetlensException("--model " + model + ": no such model; give a diffusers folder or a .safetensors checkpoint");
        }
        if (port < 0 || port > 65535) {
            throw new UnetlensException("--port must be in [0, 65535], got " + port);
        }
        String h = host == null ? ServeConfig.DEFAULT_HOST : host.strip();
        if (h.isEmpty()) {
            throw new UnetlensException("--host must name an address, like 127.0.0.1 or 0.0.0.0");
        }
        return new ServeConfig(runs, model, h, port, Auth.newToken());
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }
}
