package dev.unetlens.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The directory a run writes into, with its {@code manifest.json}. Opening refuses a directory that already has
 * files unless {@code force} is set, and one that cannot be created, before any work starts; the directory itself is
 * created with the first file, so a run that fails early leaves nothing behind. Every file is written atomically and
 * recorded in the manifest, which is rewritten (atomically) after each file: an interrupted run leaves a manifest
 * listing exactly what exists.
 *
 * <p>The manifest's {@code status} says whether the run finished: {@code "incomplete"} from the first file on (what a
 * killed run leaves), {@code "complete"} after {@link #finish()}, {@code "failed"} or {@code "interrupted"} (Ctrl-C:
 * a shutdown hook marks it, removes the partial files and prints one line saying what was kept). With {@code force}
 * the earlier run's outputs (what its manifest lists, and the partial files it left) are removed before the first
 * new file is written; other files in the directory stay.
 */
public final class OutputDirectory {
    public static final String MANIFEST = "manifest.json";
    /** Name prefix of the folders of partial files (tensors being spooled) inside an output directory. */
    public static final String PARTIAL_PREFIX = ".unetlens-partial-";
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    /** Directories whose run has written files but not finished, for the interrupt hook and {@link #failUnfinished}. */
    private static final Set<OutputDirectory> UNFINISHED = new LinkedHashSet<>();
    private static Thread interruptHook;
    private static volatile int haltStatus = -1;
    /** Set by the interrupt hook: the JVM is ending, and runs write nothing more. */
    private static volatile boolean stopping;

    private static final java.util.Map<String, java.util.function.Supplier<com.fasterxml.jackson.databind.JsonNode>>
            EVERY_MANIFEST = new java.util.concurrent.ConcurrentSkipListMap<>();

    private final Path dir;
    private final boolean force;
    private final ObjectNode manifest;
    private final ArrayNode files;
    private final Set<String> names = new HashSet<>();
    /** Files an earlier run of a resumed directory wrote: they stay listed, and this run may write them again. */
    private final java.util.Map<String, ObjectNode> inherited = new java.util.LinkedHashMap<>();
    private final List<Path> partial = new ArrayList<>();
    private boolean started;
    private boolean finished;

    private OutputDirectory(Path dir, String command, boolean force) {
        this.dir = dir;
        this.force = force;
        this.manifest = JSON.createObjectNode();
        manifest.put("tool", "unetlens");
        manifest.put("version", Versions.UNETLENS);
        manifest.put("command", command);
        manifest.put("created", java.time.Instant.now().toString());
        manifest.put("status", "incomplete");
        this.files = manifest.putArray("files");
    }

    /**
     * Opens {@code dir} for a run of {@code command}: checks that it can be created, or, if it exists and is not
     * empty, fails unless {@code force}.
     */
    public static OutputDirectory open(Path dir, String command, boolean force) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UnetlensException(dir + " exists and is not a directory; choose another --out");
        }
        if (Files.isDirectory(dir) && !force && !isEmpty(dir)) {
            throw new UnetlensException(dir + " already exists and is not empty; choose another --out or pass --force to"
                    + " replace the outputs of the earlier run there");
        }
        probe(dir);
        return new OutputDirectory(dir, command, force);
    }

    /**
     * Reopens the directory of an earlier run of {@code command} that did not finish (killed: {@code incomplete};
     * {@code interrupted}; {@code failed}) to continue it: every file its manifest lists that is still there stays
     * listed ({@link #inherited}), the partial files it left are removed, and the manifest records the resumption
     * ({@code resumed}: when). A directory that does not exist or is empty starts a fresh run. Fails in one line when
     * the directory holds a complete run, another command's run, or no unetlens manifest.
     */
    public static OutputDirectory resume(Path dir, String command) {
        if (!Files.isDirectory(dir) || isEmpty(dir)) {
            return open(dir, command, false);
        }
        ObjectNode old = readManifest(dir);
        String status = old.path("status").asText();
        if (status.equals("complete")) {
            throw new UnetlensException(dir + " holds a complete run; nothing to resume (--force runs it again)");
        }
        if (!command.equals(old.path("command").asText())) {
            throw new UnetlensException("cannot resume " + dir + ": it holds a run of '" + old.path("command").asText()
                    + "', not '" + command + "'");
        }
        PreviousOutputs.removeLeftovers(dir);
        OutputDirectory d = new OutputDirectory(dir, command, false);
        d.manifest.put("created", old.path("created").asText());
        ArrayNode resumed = d.manifest.putArray("resumed");
        old.path("resumed").forEach(resumed::add);
        resumed.addObject().put("at", java.time.Instant.now().toString()).put("earlier_status", status);
        Path root = dir.toAbsolutePath().normalize();
        for (var f : old.path("files")) {
            String name = f.path("file").asText("");
            Path p = root.resolve(name).normalize();
            if (!name.isEmpty() && p.startsWith(root) && Files.isRegularFile(p) && f instanceof ObjectNode o
                    && o.path("bytes").asLong(-1) == size(p)) {
                ObjectNode copy = o.deepCopy();
                d.files.add(copy);
                d.inherited.put(name, copy);
            }
        }
        return d;
    }

    private static ObjectNode readManifest(Path dir) {
        Path m = dir.resolve(MANIFEST);
        try {
            if (Files.isRegularFile(m) && JSON.readTree(m.toFile()) instanceof ObjectNode o
                    && "unetlens".equals(o.path("tool").asText())) {
                return o;
            }
        } catch (IOException e) {
            throw new UnetlensException("cannot resume " + dir + ": its manifest.json is unreadable (" + IoErrors.reason(e) + ")", e);
        }
        throw new UnetlensException("cannot resume " + dir + ": it has no unetlens manifest.json; choose another --out");
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * The manifest entry of a file an earlier run of this (resumed) directory wrote and this run has not replaced, or
     * null. Its {@code sha256} lets a caller check the file before relying on it.
     */
    public synchronized ObjectNode inherited(String name) {
        return inherited.get(name);
    }

    /** Every file an earlier run of this (resumed) directory wrote and this run has not replaced, by name. */
    public synchronized java.util.Map<String, ObjectNode> inherited() {
        return java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(inherited));
    }

    /** Creates the folders {@code dir} needs and removes those it created, so that a bad --out fails before any work. */
    private static void probe(Path dir) {
        Path first = dir.toAbsolutePath().normalize();
        while (first.getParent() != null && !Files.exists(first.getParent())) {
            first = first.getParent();
        }
        if (Files.exists(first)) {
            return;
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            Path parent = first.getParent();
            String why = IoErrors.reason(e);
            if (e instanceof java.nio.file.NoSuchFileException && parent != null && Files.isDirectory(parent)) {
                why += " (" + parent + " accepts no new folders)";
            }
            throw new UnetlensException("cannot create " + dir + ": " + why + "; choose another --out", e);
        } finally {
            AtomicFiles.deleteTreeQuietly(first);
        }
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new UnetlensException("cannot read " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** The manifest's top-level object, to record how the run was made (model, seed, request...). */
    public ObjectNode manifest() {
        return manifest;
    }

    /**
     * A new folder for partial files (tensors being spooled) inside the directory, named {@value #PARTIAL_PREFIX}…:
     * the caller creates it when needed and removes it when done; an interrupted run's hook removes it too.
     */
    public synchronized Path partialFolder() {
        requireRunning();
        Path p = dir.resolve(PARTIAL_PREFIX + java.util.UUID.randomUUID());
        partial.add(p);
        manifest.put("partial_files", p.getFileName() + "/: files being written, removed when the run ends");
        saveManifest();
        return p;
    }

    /**
     * Call (holding this directory's lock) before creating anything in it outside {@link #write} (a spooled tensor's
     * file). Once an interrupt has begun the JVM's shutdown, the calling thread waits for the end instead of writing
     * (giving the lock up to the hook), so that the hook's record of what was kept stays true and nothing
     * half-written appears after it.
     */
    public synchronized void requireRunning() {
        while (stopping) {
            try {
                wait();                                        // never notified: the JVM ends
            } catch (InterruptedException e) {
                // keep waiting for the end
            }
        }
    }

    /**
     * For outputs that another engine writes (Spark's committers write the batch tables): starts the run as its first
     * file would (with {@code --force} the earlier run's outputs go; the run counts as unfinished) and saves the
     * manifest now, marked incomplete, so that a run killed before its end leaves a directory {@code --resume} continues.
     */
    public synchronized void begin() {
        requireRunning();
        start();
        saveManifest();
    }

    /** Marks the run complete in the manifest (the last thing a command does). */
    public synchronized void finish() {
        end("complete");
    }

    /**
     * For a process that is a command-line run: after the interrupt hook has marked the unfinished directories and
     * said what they kept, the JVM halts with {@code status} (130 for Ctrl-C), so that the run's own thread, still
     * writing, adds no error about the files the hook removed. Not for a library in a longer-lived process.
     */
    public static void haltAfterInterrupt(int status) {
        haltStatus = status;
    }

    /**
     * Marks every directory whose run wrote files but did not {@link #finish()} as failed (the CLI calls this when a
     * command ends with an error), removing its partial files.
     */
    public static void failUnfinished() {
        for (OutputDirectory d : unfinished()) {
            synchronized (d) {
                d.end("failed");
            }
        }
    }

    /** Resolves a relative name inside this directory, refusing names that would escape it. */
    public Path resolve(String name) {
        Path p = dir.resolve(name).normalize();
        if (!p.startsWith(dir.normalize())) {
            throw new UnetlensException("output name '" + name + "' escapes the output directory");
        }
        return p;
    }

    /**
     * Writes one file atomically and records it in the manifest with its size, SHA-256 and the given
     * description; returns the manifest entry so callers can add fields (module, step, shape...). The manifest lists
     * the file before it appears under its name, so a run killed at any moment leaves no file {@code --force} would
     * not know as its own.
     */
    public synchronized ObjectNode write(String name, AtomicFiles.Body body, String description) {
        requireRunning();
        Path target = resolve(name);
        String file = dir.normalize().relativize(target).toString().replace('\\', '/');
        if (!names.add(file)) {
            throw new IllegalStateException(file + " written twice in one run");
        }
        ObjectNode earlier = inherited.remove(file);
        if (earlier != null) {
            removeEntry(earlier);                  // a resumed run writes it again
        }
        start();
        try {
            Files.createDirectories(target.getParent());
        } catch (IOException e) {
            throw new UnetlensException("cannot create " + target.getParent() + ": " + IoErrors.reason(e), e);
        }
        ObjectNode e = JSON.createObjectNode();
        AtomicFiles.write(target, body, complete -> {                      // listed before it takes its name
            e.put("file", file);
            e.put("description", description);
            try {
                e.put("bytes", Files.size(complete));
            } catch (IOException ex) {
                throw new UnetlensException("cannot stat " + complete + ": " + IoErrors.reason(ex), ex);
            }
            e.put("sha256", sha256(complete));
            files.add(e);
            saveManifest();
        });
        return e;
    }

    /**
     * Removes a file this run or an earlier run of a resumed directory wrote, and its manifest entry (intermediate
     * files a run no longer needs).
     */
    public synchronized void delete(String name) {
        requireRunning();
        Path target = resolve(name);
        String file = dir.normalize().relativize(target).toString().replace('\\', '/');
        ObjectNode earlier = inherited.remove(file);
        if (earlier != null) {
            removeEntry(earlier);
        }
        for (int i = files.size() - 1; i >= 0; i--) {
            if (files.get(i).path("file").asText().equals(file)) {
                files.remove(i);
            }
        }
        names.remove(file);
        try {
            Files.deleteIfExists(target);
        } catch (IOException e) {
            throw new UnetlensException("cannot remove " + target + ": " + IoErrors.reason(e), e);
        }
        saveManifest();
    }

    private void removeEntry(ObjectNode entry) {
        for (int i = 0; i < files.size(); i++) {
            if (files.get(i) == entry) {
                files.remove(i);
                return;
            }
        }
    }

    /**
     * Makes every manifest saved from now on carry {@code field}, as {@code value} gives it at each save: for what
     * lower layers know of a run and no command should have to remember (what the numbers were computed on).
     */
    public static void recordInEveryManifest(String field, java.util.function.Supplier<com.fasterxml.jackson.databind.JsonNode> value) {
        EVERY_MANIFEST.put(field, value);
    }

    /** Rewrites {@code manifest.json} (atomically); call after adding fields to entries. */
    public synchronized void saveManifest() {
        if (!started) {
            return;   // nothing written yet: the manifest comes with the first file
        }
        EVERY_MANIFEST.forEach((field, value) -> manifest.set(field, value.get()));
        try {
            byte[] bytes = JSON.writeValueAsBytes(manifest);
            AtomicFiles.writeBytes(dir.resolve(MANIFEST), bytes);
        } catch (IOException e) {
            throw new UnetlensException("cannot write manifest: " + IoErrors.reason(e), e);
        }
    }

    /** Before the first file: the earlier run's outputs go (with force), and the run counts as unfinished. */
    private void start() {
        if (started) {
            return;
        }
        if (force) {
            int removed = PreviousOutputs.remove(dir, partial);
            if (removed > 0) {
                System.err.println("unetlens: --force: removed the " + removed + " files of the earlier run in " + dir);
            }
        }
        started = true;
        synchronized (UNFINISHED) {
            UNFINISHED.add(this);
            if (interruptHook == null) {
                interruptHook = new Thread(OutputDirectory::interrupted, "unetlens-interrupt");
                Runtime.getRuntime().addShutdownHook(interruptHook);
            }
        }
    }

    /** Sets the final status, saves the manifest and removes the partial files. */
    private void end(String status) {
        if (finished) {
            return;
        }
        finished = true;
        manifest.put("status", status);
        manifest.remove("partial_files");
        synchronized (UNFINISHED) {
            UNFINISHED.remove(this);
        }
        partial.forEach(AtomicFiles::deleteTreeQuietly);
        saveManifest();
    }

    private static List<OutputDirectory> unfinished() {
        synchronized (UNFINISHED) {
            return List.copyOf(UNFINISHED);
        }
    }

    /**
     * The shutdown hook: a run stopped before its end (Ctrl-C, SIGTERM) is marked and says what it kept. It waits for
     * a file being written to be finished (writes hold the directory's lock), and later writes wait for the JVM's end.
     * At the end of a run whose directories are all finished (or failed) it does nothing: the exit status stays the
     * command's.
     */
    private static void interrupted() {
        stopping = true;
        List<OutputDirectory> open = unfinished();
        for (OutputDirectory d : open) {
            try {
                synchronized (d) {
                    d.end("interrupted");
                    System.err.println("unetlens: interrupted: kept the " + d.files.size() + " finished files in " + d.dir
                            + " (manifest.json lists them, status \"interrupted\"); partial files removed");
                }
            } catch (RuntimeException e) {
                System.err.println("unetlens: interrupted: " + d.dir + " is incomplete (" + e.getMessage() + ")");
            }
        }
        if (haltStatus >= 0 && !open.isEmpty()) {           // a run that ended (System.exit) keeps its exit status
            System.err.flush();
            Runtime.getRuntime().halt(haltStatus);
        }
    }

    /** The SHA-256 of a file, hex. */
    public static String sha256(Path file) {
        return sha256(file, 0);
    }

    /** The SHA-256 of a file's bytes from {@code offset} on, hex. */
    public static String sha256(Path file, long offset) {
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            ch.position(offset);
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) != -1) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new UnetlensException("cannot hash " + file + ": " + (e instanceof IOException io ? IoErrors.reason(io)
                    : e.getMessage()), e);
        }
    }
}
