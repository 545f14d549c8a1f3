package dev.unetlens.rng;

/**
 * The 32-bit Mersenne Twister exactly as torch's {@code at::mt19937} ({@code aten/src/ATen/core/MT19937RNGEngine.h}):
 * seeded with the low 32 bits of the seed by the 2002 {@code init_genrand} recurrence, state regenerated lazily on
 * the first draw after seeding and then every 624 draws, standard tempering.
 *
 * <p>Unsigned 32-bit values are carried in Java {@code int}s; {@link #next()} returns them widened to a non-negative
 * {@code long}. Not thread-safe: a generator belongs to one sampling run.
 */
public final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UMASK = 0x80000000;
    private static final int LMASK = 0x7fffffff;

    private final int[] state = new int[N];
    private int left;
    private int next;

    /** {@code mt19937(seed)}: only the low 32 bits of {@code seed} matter, as in torch. */
    public Mt19937(long seed) {
        state[0] = (int) seed;
        for (int j = 1; j < N; j++) {
            int prev = state[j - 1];
            state[j] = 1812433253 * (prev ^ (prev >>> 30)) + j;
        }
        left = 1;
        next = 0;
    }

    private Mt19937(Mt19937 other) {
        System.arraycopy(other.state, 0, state, 0, N);
        left = other.left;
        next = other.next;
    }

    /** An independent engine in the same state. */
    public Mt19937 copy() {
        return new Mt19937(this);
    }

    /** The next tempered 32-bit output, as an unsigned value in [0, 2³²). */
    public long next() {
        if (--left == 0) {
            nextState();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    private static int twist(int u, int v) {
        int mixed = (u & UMASK) | (v & LMASK);
        return (mixed >>> 1) ^ ((v & 1) != 0 ? MATRIX_A : 0);
    }

    private void nextState() {
        left = N;
        next = 0;
        int p = 0;
        for (; p < N - M; p++) {
            state[p] = state[p + M] ^ twist(state[p], state[p + 1]);
        }
        for (; p < N - 1; p++) {
            state[p] = state[p + M - N] ^ twist(state[p], state[p + 1]);
        }
        state[p] = state[p + M - N] ^ twist(state[p], state[0]);
    }
}
