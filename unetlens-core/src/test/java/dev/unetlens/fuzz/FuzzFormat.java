package dev.unetlens.fuzz;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * One kind of input the project reads, as the loader fuzz test mutates it. A format writes a seeded mutation of a
 * valid base input into a fresh folder and says how to load it; {@link CaseRunner} then runs that load and judges
 * the outcome by the same rules for every format. Adding a format (a {@code .ckpt} reader, LoRA files) is
 * implementing this and listing it in {@link Formats#all}.
 */
interface FuzzFormat {
    /** A short name for reports and for {@code -Dunetlens.fuzz.only=NAME:INDEX}. */
    String name();

    /** How many cases of a run this format gets, relative to the others (cheap formats get more). */
    int weight();

    /** Writes case {@code rnd} under {@code dir} (empty, owned by the case) and returns how to load it. */
    FuzzCase make(SplittableRandom rnd, Path dir) throws IOException;
}
