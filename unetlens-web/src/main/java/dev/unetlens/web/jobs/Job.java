package dev.unetlens.web.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.web.Json;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One job: a command with its arguments, writing a run under --runs, and what is known of its progress, from the
 * child's progress lines ({@code phase done/total 12.3s 40s left detail}).
 */
public final class Job {
    /** Queued, running, then one of the three ends. */
    public enum State { QUEUED, RUNNING, COMPLETE, FAILED, CANCELLED }

    private static final Pattern PROGRESS = Pattern.compile("^(.+?) (\\d+)/(\\d+) ([\\d.]+)s(?: (\\d+)s left)?(?: (.*))?$");
    private static final int KEPT_LINES = 40;
    private final String id;
    private final String command;
    private final List<String> args;
    private final String run;
    private final Instant created = Instant.now();
    private final Deque<String> lines = new ArrayDeque<>();
    private State state = State.QUEUED;
    private String phase = "";
    private long done;
    private long total;
    private Double etaSeconds;
    private String detail = "";
    private String error;
    private Process process;
    private boolean cancelRequested;

    Job(String id, String command, List<String> args, String run) {
        this.id = id;
        this.command = command;
        this.args = List.copyOf(args);
        this.run = run;
    }

    public String id() {
        return id;
    }

    public String command() {
        return command;
    }

    public List<String> args() {
        return args;
    }

    public synchronized State state() {
        return state;
    }

    synchronized void state(State s) {
        state = s;
    }

    synchronized void process(Process p) {
        process = p;
    }

    synchronized Process process() {
        return process;
    }

    synchronized boolean cancelRequested() {
        return cancelRequested;
    }

    synchronized void requestCancel() {
        cancelRequested = true;
    }

    synchronized void error(String e) {
        error = e;
    }

    /** Takes one line of the child's stderr: a progress line updates the progress; "unetlens: error:" the error. */
    synchronized void line(String line) {
        lines.addLast(line);
        if (lines.size() > KEPT_LINES) {
            lines.removeFirst();
        }
        Matcher m = PROGRESS.matcher(line);
        if (m.matches()) {
            phase = m.group(1);
            done = Long.parseLong(m.group(2));
            total = Long.parseLong(m.group(3));
            etaSeconds = m.group(5) != null ? Double.valueOf(m.group(5)) : done >= total ? 0.0 : null;
            detail = m.group(6) != null ? m.group(6) : "";
        } else if (line.startsWith("unetlens: error: ")) {
            error = line.substring("unetlens: error: ".length());
        } else if (line.endsWith(" …") && !line.startsWith(" ")) {
            phase = line.substring(0, line.length() - 2).replaceAll(" \\(\\d+\\)$", "");
            done = 0;
            total = 0;
            etaSeconds = null;
            detail = "";
        }
    }

    /** What the Jobs page shows. */
    public synchronized ObjectNode json() {
        ObjectNode o = Json.object().put("id", id).put("command", command).put("run", run)
                .put("state", state.name().toLowerCase(java.util.Locale.ROOT)).put("created", created.toString())
                .put("phase", phase).put("done", done).put("total", total).put("detail", detail).put("error", error);
        if (etaSeconds != null) {
            o.put("eta_seconds", etaSeconds);
        }
        o.set("args", Json.MAPPER.valueToTree(args));
        o.set("lines", Json.MAPPER.valueToTree(List.copyOf(lines)));
        return o;
    }
}
