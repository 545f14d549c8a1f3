package dev.unetlens.web.jobs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The job queue: one job runs at a time (the server has one model, and a second run would halve the speed of both);
 * the others wait in order. Listeners hear of every change of every job (the Jobs page's event stream).
 */
public final class Jobs implements AutoCloseable {
    /** How long a cancelled run may take to mark itself interrupted before it is killed. */
    static final long CANCEL_GRACE_S = 15;
    private final JobLauncher launcher;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "unetlens-jobs");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final List<Consumer<Job>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();

    public Jobs(JobLauncher launcher) {
        this.launcher = launcher;
    }

    public JobLauncher launcher() {
        return launcher;
    }

    public void listen(Consumer<Job> l) {
        listeners.add(l);
    }

    public void unlisten(Consumer<Job> l) {
        listeners.remove(l);
    }

    public synchronized List<Job> all() {
        return new ArrayList<>(jobs.values());
    }

    public synchronized Job get(String id) {
        return jobs.get(id);
    }

    /** Queues a job; it starts when the ones before it have ended. */
    public Job submit(String command, List<String> args, String run) {
        Job job = new Job(Integer.toString(ids.incrementAndGet()), command, args, run);
        synchronized (this) {
            jobs.put(job.id(), job);
        }
        changed(job);
        worker.submit(() -> run(job));
        return job;
    }

    /** Cancels a queued job at once, a running one as Ctrl-C would (then kills it after a grace period). */
    public void cancel(Job job) {
        job.requestCancel();
        Process p = job.process();
        if (p == null) {
            if (job.state() == Job.State.QUEUED) {
                job.state(Job.State.CANCELLED);
                changed(job);
            }
            return;
        }
        p.destroy();
        p.onExit().orTimeout(CANCEL_GRACE_S, TimeUnit.SECONDS).exceptionally(e -> {
            p.destroyForcibly();
            return p;
        });
    }

    private void run(Job job) {
        if (job.cancelRequested()) {
            return;
        }
        job.state(Job.State.RUNNING);
        changed(job);
        try {
            Process p = launcher.start(job.command(), job.args());
            job.process(p);
            if (job.cancelRequested()) {
                p.destroy();
            }
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    job.line(line);
                    changed(job);
                }
            }
            int code = p.waitFor();
            job.state(job.cancelRequested() ? Job.State.CANCELLED : code == 0 ? Job.State.COMPLETE : Job.State.FAILED);
            if (job.state() == Job.State.FAILED && job.json().path("error").isNull()) {
                job.error("the command ended with exit code " + code);
            }
        } catch (IOException e) {
            job.error("cannot start the command: " + e.getMessage());
            job.state(Job.State.FAILED);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            job.state(Job.State.CANCELLED);
        }
        changed(job);
    }

    private void changed(Job job) {
        for (Consumer<Job> l : listeners) {
            try {
                l.accept(job);
            } catch (RuntimeException ignored) {
                // a listener that fails (a closed event stream) is removed by its owner
            }
        }
    }

    /** Cancels every job and waits for the running one to end. */
    @Override
    public void close() {
        all().forEach(this::cancel);
        worker.shutdown();
        try {
            worker.awaitTermination(CANCEL_GRACE_S + 5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
