package dev.unetlens.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs cross-check scripts with {@code python3} (or {@code -Dunetlens.python=PATH}). A missing interpreter or
 * numpy is a result ({@link #whyNot}), not a skip: tests then run their Java checks alone and say so.
 */
final class Python {
    /** What a script printed; {@code whyNot} is non-null when it could not run at all. */
    record Result(String whyNot, int exit, String stdout, String stderr) {
        boolean ran() {
            return whyNot == null;
        }
    }

    private final String interpreter;

    Python(String interpreter) {
        this.interpreter = interpreter;
    }

    static Python fromSystem() {
        return new Python(System.getProperty("unetlens.python", "python3"));
    }

    /** Null if the interpreter runs and imports {@code module}, else why not. */
    String whyNot(String module) {
        Result r = exec(List.of("-c", "import " + module));
        if (!r.ran()) {
            return r.whyNot();
        }
        String[] lines = r.stderr().strip().split("\n");
        return r.exit() == 0 ? null : interpreter + " cannot import " + module + ": " + lines[lines.length - 1];
    }

    /** Writes {@code script} to {@code dir} and runs it with {@code args}. */
    Result run(Path dir, String script, List<String> args) {
        try {
            Path file = Files.writeString(dir.resolve("check_" + Integer.toHexString(script.hashCode()) + ".py"), script);
            List<String> command = new ArrayList<>();
            command.add(file.toString());
            command.addAll(args);
            return exec(command);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Result exec(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(interpreter);
        command.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(command).start();
        } catch (IOException e) {
            return new Result(interpreter + " does not run (" + e.getMessage() + ")", -1, "", "");
        }
        try {
            p.getOutputStream().close();
            var out = p.getInputStream();
            var err = p.getErrorStream();
            var errText = new StringBuilder();
            Thread drain = Thread.ofVirtual().start(() -> {
                try {
                    errText.append(new String(err.readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException ignored) {
                    // stderr is only for messages
                }
            });
            String stdout = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(interpreter + " " + args + " timed out");
            }
            drain.join();
            return new Result(null, p.exitValue(), stdout, errText.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
