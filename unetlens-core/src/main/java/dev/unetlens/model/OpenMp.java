package dev.unetlens.model;

/**
 * How libtorch's OpenMP threads wait. libtorch splits each CPU operation over its intra-op threads and waits at a
 * barrier for the slowest; libgomp's default is to spin there (GOMP_SPINCOUNT, 300,000 rounds) before sleeping. On a
 * machine whose cores other work shares, the thread that is waited for is often descheduled while its partner spins
 * through the time slice, at every one of the thousands of barriers of a forward. Measured on the 2-core development
 * machine while other builds ran (load 5–9), median of 3: the demo's 20 steps 121 s with two spinning threads, 24 s
 * with two passive ones, 24 s with one thread; with one more core kept busy 204 s, 48 s and 64 s; the bench's U-Net
 * at 32×32 8.8–11.6 s, 3.5–3.8 s and 3.7 s (1.1 s on a quiet machine). With {@code OMP_WAIT_POLICY=PASSIVE} a waiting
 * thread sleeps at once and hands its core over, so two threads degrade to about the speed of one, not to a fifth. libgomp reads the variable when libtorch loads it, from the
 * C environment, so it is set here through libc's {@code setenv} (as {@link TorchRuntime} does for huge pages),
 * unless the user set {@code OMP_WAIT_POLICY} or {@code GOMP_SPINCOUNT}.
 */
final class OpenMp {
    static final String WAIT_POLICY = "OMP_WAIT_POLICY";
    private static final String SPIN_COUNT = "GOMP_SPINCOUNT";
    /** Set beside it, so that a child process (a bench case) that inherits the variable knows it was not the user's. */
    private static final String MARK = "UNETLENS_OMP_WAIT_POLICY";

    private OpenMp() {
    }

    /** Sets the wait policy; returns what libgomp will see, for run records. */
    static String configure() {
        String user = System.getenv(WAIT_POLICY);
        if (user != null) {
            return user + (System.getenv(MARK) != null ? "" : " (set by the user)");
        }
        if (System.getenv(SPIN_COUNT) != null) {
            return "default, " + SPIN_COUNT + "=" + System.getenv(SPIN_COUNT) + " (set by the user)";
        }
        try {
            TorchRuntime.setenv(WAIT_POLICY, "PASSIVE");
            TorchRuntime.setenv(MARK, "set by unetlens");
            return "PASSIVE";
        } catch (Throwable e) {                                // no libc setenv, native access denied: run without
            return "default (could not set " + WAIT_POLICY + ": " + e + ")";
        }
    }
}
