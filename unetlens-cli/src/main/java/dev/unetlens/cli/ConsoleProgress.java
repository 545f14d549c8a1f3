package dev.unetlens.cli;

import dev.unetlens.pipeline.Progress;

import java.io.PrintStream;

/**
 * Progress on stderr: a redrawn bar with rate and time left when stderr is a terminal, one plain line per unit
 * otherwise (logs, CI, pipes). A unit that takes long (a step of a 4096² image) also shows where it is
 * ({@link #inside}, fed by {@link BlockProgress}): on the bar after {@value #INSIDE_AFTER_S} s, as a line every
 * {@value #INSIDE_EVERY_S} s otherwise.
 */
final class ConsoleProgress implements Progress {
    private static final int WIDTH = 30;
    static final double INSIDE_AFTER_S = 2;
    static final double INSIDE_EVERY_S = 10;
    private final PrintStream out;
    private final boolean terminal;
    private final double insideAfter;
    private final double insideEvery;
    private String phase = "";
    private long total;
    private long started;
    private long done;
    private long unitStarted;
    private long lastInside;

    ConsoleProgress(PrintStream out, boolean terminal) {
        this(out, terminal, INSIDE_AFTER_S, INSIDE_EVERY_S);
    }

    /** With other thresholds for {@link #inside} (seconds), for tests. */
    ConsoleProgress(PrintStream out, boolean terminal, double insideAfter, double insideEvery) {
        this.out = out;
        this.terminal = terminal;
        this.insideAfter = insideAfter;
        this.insideEvery = insideEvery;
    }

    static ConsoleProgress forStderr() {
        java.io.Console c = System.console();
        return new ConsoleProgress(System.err, c != null && c.isTerminal());
    }

    @Override
    public void start(String phase, long total) {
        this.phase = phase;
        this.total = total;
        this.started = System.nanoTime();
        this.done = 0;
        this.unitStarted = started;
        this.lastInside = started;
        if (!terminal) {
            out.println(phase + (total > 0 ? " (" + total + ")" : "") + " …");
        }
    }

    @Override
    public void advance(long done, String detail) {
        this.done = done;
        this.unitStarted = System.nanoTime();
        this.lastInside = unitStarted;
        double secs = (unitStarted - started) / 1e9;
        if (terminal) {
            int filled = total > 0 ? (int) (WIDTH * Math.min(1.0, (double) done / total)) : 0;
            String bar = "█".repeat(filled) + "░".repeat(WIDTH - filled);
            String eta = total > 0 && done > 0 ? String.format(" %.0fs left", secs / done * (total - done)) : "";
            out.printf("\r%s %s %d/%d %.1fs%s %s\u001b[K", phase, bar, done, total, secs, eta, detail);
        } else {
            out.printf("%s %d/%d %.1fs %s%n", phase, done, total, secs, detail);
        }
        out.flush();
    }

    /** Where the unit in progress is ("U-Net OUT05 (18 of 25 blocks)"), shown only once the unit has run a while. */
    synchronized void inside(String detail) {
        long now = System.nanoTime();
        double unit = (now - unitStarted) / 1e9;
        if (unit < insideAfter || !terminal && (now - lastInside) / 1e9 < insideEvery) {
            return;
        }
        lastInside = now;
        String where = String.format("%s%s: %s, %.0fs into it", phase, total > 0 ? " " + (done + 1) + "/" + total : "",
                detail, unit);
        if (terminal) {
            out.printf("\r%s\u001b[K", where);
        } else {
            out.println(where);
        }
        out.flush();
    }

    @Override
    public void finish() {
        if (terminal) {
            out.println();
        }
        out.printf("%s done in %.1fs%n", phase, (System.nanoTime() - started) / 1e9);
        out.flush();
    }
}
