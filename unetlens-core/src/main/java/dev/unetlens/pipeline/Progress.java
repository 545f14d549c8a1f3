package dev.unetlens.pipeline;

/**
 * Receives progress of long work (sampling steps, noise samples, files). The CLI draws a bar on a terminal and
 * prints plain lines otherwise; library callers may ignore it ({@link #NONE}).
 */
public interface Progress {
    /** A phase begins: {@code total} units of work (steps, samples, files), or 0 when unknown. */
    void start(String phase, long total);

    /** {@code done} units of the current phase are finished; {@code detail} says what was done last. */
    void advance(long done, String detail);

    /** The current phase ended. */
    void finish();

    Progress NONE = new Progress() {
        @Override
        public void start(String phase, long total) {
        }

        @Override
        public void advance(long done, String detail) {
        }

        @Override
        public void finish() {
        }
    };
}
