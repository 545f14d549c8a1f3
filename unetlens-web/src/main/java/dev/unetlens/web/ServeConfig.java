package dev.unetlens.web;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@code unetlens serve} was asked for.
 *
 * @param runs  the folder of runs, the only place files are served from
 * @param model the model new jobs use and whose blocks the explorer draws, or null (the bundled model)
 * @param host  the address to bind (127.0.0.1 unless given)
 * @param port  the port, or 0 for any free one
 * @param token the access token every request must carry
 */
public record ServeConfig(Path runs, Path model, String host, int port, String token) {
    public static final String DEFAULT_HOST = "127.0.0.1";

    public ServeConfig {
        Objects.requireNonNull(runs, "runs");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(token, "token");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        }
        if (token.length() < 16) {
            throw new IllegalArgumentException("the access token must have at least 16 characters");
        }
    }
}
