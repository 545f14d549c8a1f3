package dev.unetlens.web.runs;

import dev.unetlens.web.ApiError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The {@code --runs} folder, the only place the server reads files from and writes runs into. Every name that comes
 * from a request goes through {@link #run} or {@link #file}: relative names of plain segments only (no segment
 * {@code .} or {@code ..}, none starting with a dot, no backslash, control character, {@code : * ? " < > |} or
 * {@code %} — a name still holding one was encoded twice), resolved and then checked by their real path, so that a
 * symbolic link that leads out of the folder is refused like a {@code ..}.
 */
public final class RunsRoot {
    /** One path segment a request may name: no leading dot, no control characters, '%', ':' or '*'. */
    private static final Pattern SEGMENT = Pattern.compile("[^.\\p{Cntrl}%:*?\"<>|][^\\p{Cntrl}%:*?\"<>|]{0,199}");
    private static final int MAX_DEPTH = 8;
    private final Path root;

    public RunsRoot(Path dir) {
        try {
            Files.createDirectories(dir);
            this.root = dir.toRealPath();
        } catch (IOException e) {
            throw new dev.unetlens.UnetlensException("--runs " + dir + ": cannot use it (" + dev.unetlens.io.IoErrors.reason(e) + ")", e);
        }
    }

    /** The folder's real path. */
    public Path path() {
        return root;
    }

    /** The run directory of id (its path under the root, '/'-separated): a 404 if it is not one, a 403 if it leads out. */
    public Path run(String id) {
        Path p = inside(root, id, "run");
        if (!Files.isDirectory(p)) {
            throw ApiError.notFound("no run '" + id + "' under --runs");
        }
        return p;
    }

    /** A regular file of a run, by its name relative to the run directory. */
    public Path file(Path runDir, String name) {
        Path p = inside(runDir, name, "path");
        if (!Files.isRegularFile(p)) {
            throw ApiError.notFound("no file '" + name + "' in this run");
        }
        return p;
    }

    /**
     * An absolute path a manifest names (an input image), if it is a regular file whose real path lies under the
     * root: links out of the folder are refused like everything else.
     */
    public java.util.Optional<Path> underRoot(Path absolute) {
        try {
            Path real = absolute.toRealPath();
            return real.startsWith(root) && Files.isRegularFile(real) ? java.util.Optional.of(real) : java.util.Optional.empty();
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    /** The id of a run directory (its path relative to the root, with '/'). */
    public String id(Path runDir) {
        return root.relativize(runDir).toString().replace('\\', '/');
    }

    /**
     * A name that may name a new run: one or more plain segments, none existing yet as a file. Does not create it.
     */
    public Path newRun(String name) {
        checkName(name, "out");
        Path p = root.resolve(name).normalize();
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw ApiError.badParameter("out", "a run named '" + name + "' exists already; choose another name");
        }
        Path parent = p.getParent();
        while (parent != null && !Files.exists(parent)) {
            parent = parent.getParent();
        }
        try {
            if (parent == null || !parent.toRealPath().startsWith(root)) {
                throw ApiError.forbidden("'" + name + "' leads out of --runs");
            }
        } catch (IOException e) {
            throw ApiError.badParameter("out", "cannot use '" + name + "': " + dev.unetlens.io.IoErrors.reason(e));
        }
        return p;
    }

    private Path inside(Path base, String name, String param) {
        checkName(name, param);
        Path p = base.resolve(name);
        Path real;
        try {
            real = p.toRealPath();
        } catch (java.nio.file.NoSuchFileException e) {
            throw ApiError.notFound("no " + (param.equals("run") ? "run" : "file") + " '" + name + "'");
        } catch (IOException e) {
            throw ApiError.notFound("cannot read '" + name + "': " + dev.unetlens.io.IoErrors.reason(e));
        }
        if (!real.startsWith(base) || !real.startsWith(root)) {
            throw ApiError.forbidden("'" + name + "' leads out of --runs (a link or a '..'); only files under --runs are served");
        }
        return real;
    }

    /** Refuses anything but plain relative segments: see the class comment. */
    static void checkName(String name, String param) {
        if (name == null || name.isEmpty()) {
            throw ApiError.badParameter(param, "parameter '" + param + "' is missing");
        }
        if (name.length() > 1000) {
            throw ApiError.badParameter(param, "parameter '" + param + "' is too long");
        }
        if (name.startsWith("/") || name.contains("\\") || name.contains("%") || name.indexOf('\0') >= 0
                || name.matches("^[A-Za-z]:.*")) {
            throw ApiError.forbidden("'" + name + "' is not a plain relative name under --runs");
        }
        String[] parts = name.split("/", -1);
        if (parts.length > MAX_DEPTH) {
            throw ApiError.badParameter(param, "'" + name + "' is nested deeper than " + MAX_DEPTH + " folders");
        }
        for (String s : parts) {
            if (s.equals("..") || s.equals(".")) {
                throw ApiError.forbidden("'" + name + "' leads out of --runs ('" + s + "' segments are refused)");
            }
            if (!SEGMENT.matcher(s).matches()) {
                throw ApiError.forbidden("'" + name + "' has a segment that is not a plain name (no leading dot,"
                        + " no control characters or % : * ? \" < > |)");
            }
        }
    }
}
