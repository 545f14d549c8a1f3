package dev.unetlens.fuzz;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.SpecialFiles;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs fuzz cases in this process, each on a worker thread with a timeout, and judges how they end
 * ({@link Outcome}). A case that hangs leaves its thread behind (a daemon); a new worker takes the next case.
 */
final class CaseRunner implements AutoCloseable {
    /** The longest message a rejection may have. */
    static final int MAX_MESSAGE = 500;

    /** How one case ended, with the message or exception that says why. */
    record Result(Outcome outcome, String detail) {
    }

    private final Duration timeout;
    private ExecutorService worker = newWorker();

    CaseRunner(Duration timeout) {
        this.timeout = timeout;
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-case");
            t.setDaemon(true);
            return t;
        });
    }

    Result run(FuzzCase c) {
        Future<?> f = worker.submit(() -> {
            c.load().run();
            return null;
        });
        try {
            f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new Result(Outcome.ACCEPTED, "");
        } catch (TimeoutException e) {
            f.cancel(true);
            c.fifos().forEach(SpecialFiles::unblock);
            worker.shutdownNow();
            worker = newWorker();
            return new Result(Outcome.HANG, "still running after " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            return judge(e.getCause(), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The outcome of a load that threw {@code t}. */
    static Result judge(Throwable t, FuzzCase c) {
        if (t instanceof AssertionError) {
            return new Result(Outcome.BAD_ACCEPT, String.valueOf(t.getMessage()));
        }
        if (t instanceof Error) {
            return new Result(Outcome.ERROR, t.toString());
        }
        if (!(t instanceof UnetlensException)) {
            return new Result(Outcome.OTHER_EXCEPTION, t + " at " + firstFrames(t));
        }
        String m = t.getMessage();
        String problem = m == null ? "no message"
                : m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0 ? "more than one line"
                : m.length() >= MAX_MESSAGE ? m.length() + " characters"
                : c.blame().stream().noneMatch(p -> m.contains(p.toString())) ? "names none of " + c.blame()
                : null;
        return problem == null ? new Result(Outcome.REJECTED, m)
                : new Result(Outcome.BAD_MESSAGE, problem + ": " + (m == null ? "" : m.substring(0, Math.min(m.length(), 700))));
    }

    private static String firstFrames(Throwable t) {
        StringBuilder b = new StringBuilder();
        StackTraceElement[] st = t.getStackTrace();
        for (int i = 0; i < Math.min(4, st.length); i++) {
            b.append(i == 0 ? "" : " < ").append(st[i]);
        }
        return b.toString();
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
