package dev.unetlens.cli;

import dev.unetlens.pipeline.Progress;

import java.io.PrintStream;

/**
 * Progress on stderr: a redrawn bar with rate and time left when stderr is a terminal, one plain line per unit
 * otherwise (logs, CI, pipes).
 */
final class ConsoleProgress implements Progress {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean terminal;
    private String phase = "";
    private long total;
    private long started;

    ConsoleProgress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
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
        if (!terminal) {
            out.println(phase + (total > 0 ? " (" + total + ")" : "") + " …");
        }
    }

    @Override
    public void advance(long done, String detail) {
        double secs = (System.nanoTime() - started) / 1e9;
        String eta = total > 0 && done > 0 && done < total ? String.format(" %.0fs left", secs / done * (total - done)) : "";
        if (terminal) {
            int filled = total > 0 ? (int) (WIDTH * Math.min(1.0, (double) done / total)) : 0;
            String bar = "█".repeat(filled) + "░".repeat(WIDTH - filled);
            out.printf("\r%s %s %d/%d %.1fs%s %s\u001b[K", phase, bar, done, total, secs, eta, detail);
        } else {
            out.printf("%s %d/%d %.1fs%s %s%n", phase, done, total, secs, eta, detail);
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
